import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { Manifest, MemberRole, ModelReplica, Warnings } from '../../index';
import { messageOf } from '../_helpers';

const seed = (): any => parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'manifests', 'modelreplica-seed.yaml'), 'utf8'));

function fromManifest(doc: Manifest) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'ml-team' });
  ModelReplica.fromManifest(chart, 'r', doc);
  return Testing.synth(chart);
}
const errorOf = (doc: Manifest): string => messageOf(() => fromManifest(doc));

describe('loading Modelplane ModelReplicas', () => {
  test('the seed\'s ModelReplica gives the same objects as the construct', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'ml-team' });
    new ModelReplica(chart, 'qwen3-8b-eks-l4-0', {
      clusterName: 'eks-l4',
      engines: [{
        name: 'qwen3-8b',
        members: [{
          role: MemberRole.STANDALONE,
          nodePoolName: 'gpu-l4',
          deviceRequests: [{ name: 'gpu', count: 1, deviceClassName: 'gpu.nvidia.com' }],
          template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.23.0', args: ['--model=Qwen/Qwen3-8B'] }] } },
        }],
      }],
    });
    expect(fromManifest(seed())).toEqual(Testing.synth(chart));
  });

  test.each<[string, (d: any) => void, string]>([
    ['a field outside the curated template', d => { d.spec.engines[0].members[0].template.spec.hostNetwork = true; },
      'Unable to synthesize ModelReplica/qwen3-8b-eks-l4-0: spec.engines[0].members[0].template.spec.hostNetwork true is not a field of modelplane.ai/v1alpha1 ModelReplica.'],
    ['a ModelCache reference without the ModelCache', d => { d.spec.modelCacheRef = { name: 'qwen' }; },
      "spec.modelCacheRef.name 'qwen' names no ModelCache in namespace ml-team among the given files. Add the modelplane.ai/v1alpha1 ModelCache to the input, or remove the reference."],
    ['PrefillDecode serving with one engine', d => { d.spec.serving = { mode: 'PrefillDecode' }; },
      'spec.engines ["none"] do not make PrefillDecode serving, which needs exactly two engines, one Prefill and one Decode.'],
    ['an unknown serving mode', d => { d.spec.serving = { mode: 'Split' }; }, "spec.serving.mode 'Split' is not a serving mode. Use Unified or PrefillDecode."],
    ['9 engines', d => { d.spec.engines = Array.from({ length: 9 }, (_, i) => ({ ...d.spec.engines[0], name: `e${i}` })); },
      'Unable to synthesize ModelReplica/qwen3-8b-eks-l4-0: spec.engines 9 is outside 1 to 8: a replica runs one to 8 engines.'],
    ['a Worker without a Leader', d => { d.spec.engines[0].members[0].role = 'Worker'; d.spec.engines[0].members[0].worker = { nodes: 1 }; },
      "spec.engines[0].members 'Worker' has a Worker without a Leader: workers join a leader pod."],
    ['an unknown phase', d => { d.spec.engines[0].phase = 'Serve'; }, "spec.engines[0].phase 'Serve' is not a phase. Use Prefill or Decode."],
  ])('%s is refused with a message naming the field and the fix', (_, edit, message) => {
    const d = seed();
    edit(d);
    expect(errorOf(d)).toContain(message);
  });

  test('a ModelCache reference stages the cache in the replica\'s chart and mounts it into the engines', () => {
    const doc = seed();
    doc.spec.modelCacheRef = { name: 'qwen' };
    const cache = {
      apiVersion: 'modelplane.ai/v1alpha1',
      kind: 'ModelCache',
      metadata: { name: 'qwen', namespace: 'ml-team' },
      spec: { source: 'HuggingFace', huggingFace: { repo: 'Qwen/Qwen3-8B', sizeGiB: 20 } },
    };
    const chart = new Chart(Testing.app(), 'c', { namespace: 'ml-team' });
    ModelReplica.fromManifest(chart, 'r', doc, { caches: [cache], cacheStorageClassName: 'nfs-rwx' });
    const objs = Testing.synth(chart);
    expect(objs.find(o => o.kind === 'PersistentVolumeClaim')).toMatchObject({ metadata: { name: 'qwen' }, spec: { storageClassName: 'nfs-rwx', accessModes: ['ReadWriteMany'] } });
    expect(objs.find(o => o.kind === 'Job')!.metadata.name).toBe('qwen-hydrate');
    expect(objs.find(o => o.kind === 'Deployment')!.spec.template.spec.volumes).toContainEqual({ name: 'model-cache', persistentVolumeClaim: { claimName: 'qwen' } });
  });

  test('PrefillDecode serving is fronted by an InferencePool over the replica, not a Service', () => {
    const doc = seed();
    const engine = doc.spec.engines[0];
    doc.spec.serving = { mode: 'PrefillDecode' };
    doc.spec.engines = [{ ...engine, name: 'prefill', phase: 'Prefill' }, { ...engine, name: 'decode', phase: 'Decode' }];
    const objs = fromManifest(doc);
    expect(objs.find(o => o.kind === 'InferencePool')!.spec.selector.matchLabels).toEqual({ 'modelplane.ai/replica': 'qwen3-8b-eks-l4-0', 'modelplane.ai/serving': 'true' });
    expect(objs.filter(o => o.kind === 'Service').map(o => o.metadata.name)).toEqual(['qwen3-8b-eks-l4-0-epp']);
    expect(objs.filter(o => o.kind === 'HTTPRoute')).toEqual([]);
  });

  test('PrefillDecode serving warns that Modelplane\'s HTTPRoute to the replica is not rendered', () => {
    const doc = seed();
    const engine = doc.spec.engines[0];
    doc.spec.serving = { mode: 'PrefillDecode' };
    doc.spec.engines = [{ ...engine, name: 'prefill', phase: 'Prefill' }, { ...engine, name: 'decode', phase: 'Decode' }];
    const chart = new Chart(Testing.app(), 'c', { namespace: 'ml-team' });
    ModelReplica.fromManifest(chart, 'r', doc);
    expect(Warnings.of(chart).all).toContain("Warning: ModelReplica/qwen3-8b-eks-l4-0 spec.serving.mode 'PrefillDecode': is routed by Modelplane through an "
      + 'HTTPRoute per replica on its Gateway modelplane-system/inference-gateway (path /<namespace>/<replica>/); inferkit renders the InferencePool and its '
      + 'endpoint picker, but no HTTPRoute. Route to the InferencePool qwen3-8b-eks-l4-0 with an HTTPRoute on your Gateway.');
  });

  describe('Modelplane\'s runtime contract, from ModelReplica CRs', () => {
    const cache = {
      apiVersion: 'modelplane.ai/v1alpha1',
      kind: 'ModelCache',
      metadata: { name: 'qwen', namespace: 'ml-team' },
      spec: { source: 'HuggingFace', huggingFace: { repo: 'Qwen/Qwen3-8B', sizeGiB: 20 } },
    };
    const synthWith = (doc: Manifest) => {
      const chart = new Chart(Testing.app(), 'c', { namespace: 'ml-team' });
      ModelReplica.fromManifest(chart, 'r', doc, { caches: [cache] });
      return Testing.synth(chart);
    };

    test('a Leader/Worker replica with a cache: both mount /mnt/models, the leader serves it with --model=/mnt/models, both get the gang env', () => {
      const doc = seed();
      doc.spec.modelCacheRef = { name: 'qwen' };
      const member = (role: string, extra: any = {}) => ({
        role,
        nodePoolName: 'gpu-h100',
        deviceRequests: [{ name: 'gpu', count: 8, deviceClassName: 'gpu.nvidia.com' }],
        template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.23.0', args: ['--tensor-parallel-size=8', '--pipeline-parallel-size=2'] }] } },
        ...extra,
      });
      doc.spec.engines = [{ name: 'llama', members: [member('Leader'), member('Worker', { worker: { nodes: 1 } })] }];
      const objs = synthWith(doc);
      const container = (name: string) => objs.find(o => o.kind === 'StatefulSet' && o.metadata.name === name)!.spec.template.spec.containers[0];
      const leader = container('qwen3-8b-eks-l4-0-llama-0-engine-0');
      const worker = container('qwen3-8b-eks-l4-0-llama-0-engine-0-w');
      expect(leader.args).toEqual(['--tensor-parallel-size=8', '--pipeline-parallel-size=2', '--model=/mnt/models']);
      expect(worker.args).toEqual(['--tensor-parallel-size=8', '--pipeline-parallel-size=2']);
      for (const c of [leader, worker]) {
        expect(c.volumeMounts).toContainEqual({ name: 'model-cache', mountPath: '/mnt/models' });
        expect(c.env).toEqual(expect.arrayContaining([
          { name: 'MODELPLANE_LEADER_ADDRESS', value: '$(LWS_LEADER_ADDRESS)' }, { name: 'MODELPLANE_RANK', value: '$(LWS_WORKER_INDEX)' },
        ]));
      }
    });

    test('a PrefillDecode replica: the decode pod runs the pd-sidecar on 8000 in front of its engine on --port=8001; both phases get NIXL\'s env', () => {
      const doc = seed();
      const engine = doc.spec.engines[0];
      doc.spec.serving = { mode: 'PrefillDecode' };
      const container = engine.members[0].template.spec.containers[0];
      const withArgs = (args: string[]) => ({ ...engine.members[0], template: { spec: { containers: [{ ...container, args }] } } });
      const kv = '--kv-transfer-config={"kv_connector":"NixlConnector","kv_role":"kv_both"}';
      doc.spec.engines = [
        { name: 'prefill', phase: 'Prefill', members: [withArgs(['--model=Qwen/Qwen3-8B', kv])] },
        { name: 'decode', phase: 'Decode', members: [withArgs(['--model=Qwen/Qwen3-8B', '--port=8001', kv])] },
      ];
      const objs = synthWith(doc);
      const pod = (name: string) => objs.find(o => o.kind === 'Deployment' && o.metadata.name === name)!.spec.template;
      const decode = pod('qwen3-8b-eks-l4-0-decode');
      expect(decode.spec.containers.map((c: any) => [c.name, c.ports])).toEqual([['engine', [{ containerPort: 8001 }]], ['pd-sidecar', [{ containerPort: 8000 }]]]);
      expect(decode.spec.containers[1].args).toEqual(['--secure-proxy=false', '--kv-connector=nixlv2', '--vllm-port=8001']);
      for (const p of [pod('qwen3-8b-eks-l4-0-prefill'), decode]) {
        expect(p.spec.containers[0].env).toContainEqual({ name: 'VLLM_NIXL_SIDE_CHANNEL_PORT', value: '5557' });
        expect(p.metadata.labels).toMatchObject({ 'llm-d.ai/inference-serving': 'true', 'app': 'qwen3-8b-eks-l4-0' });
      }
      expect(objs.find(o => o.kind === 'InferencePool')!.spec.targetPorts).toEqual([{ number: 8000 }]);
    });
  });
});
