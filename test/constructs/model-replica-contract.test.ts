import { Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { EnginePhase, EngineProps, MemberRole, ModelCache, ModelReplica, ModelReplicaProps, ServingMode, Warnings } from '../../index';

// Modelplane's ModelReplica composition (functions/compose-model-replica): what it adds to the engine pods, which
// users' templates rely on. The replicas are shaped like Modelplane's own examples (seed 004, the PrefillDecode docs).

type Obj = Record<string, any>;

const gpus = (count: number) => [{ name: 'gpu', count, deviceClassName: 'gpu.nvidia.com' }];
const vllm = (args: string[], extra: Partial<k8s.Container> = {}): k8s.PodTemplateSpec =>
  ({ spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0', args, ...extra }] } });

const leaderWorker = (leader: k8s.PodTemplateSpec, worker: k8s.PodTemplateSpec): EngineProps => ({
  name: 'llama',
  members: [
    { role: MemberRole.LEADER, nodePoolName: 'h100', deviceRequests: gpus(8), template: leader },
    { role: MemberRole.WORKER, nodePoolName: 'h100', workerNodes: 1, deviceRequests: gpus(8), template: worker },
  ],
});

const prefillDecode = (decodeArgs: string[], decodeExtra: Partial<k8s.Container> = {}): Partial<ModelReplicaProps> => ({
  servingMode: ServingMode.PREFILL_DECODE,
  engines: [
    { name: 'prefill', phase: EnginePhase.PREFILL, members: [{ nodePoolName: 'l4', deviceRequests: gpus(1), template: vllm(['--model=Qwen/Qwen3-8B']) }] },
    { name: 'decode', phase: EnginePhase.DECODE, members: [{ nodePoolName: 'l4', deviceRequests: gpus(1), template: vllm(decodeArgs, decodeExtra) }] },
  ],
});

function make(extra: Partial<ModelReplicaProps>, cache = false): Chart {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'ml-team' });
  const modelCache = cache ? new ModelCache(chart, 'cache', { name: 'qwen3-8b', repo: 'Qwen/Qwen3-8B', sizeGiB: 20 }) : undefined;
  new ModelReplica(chart, 'r', {
    name: 'qwen3-8b-0',
    clusterName: 'eks-l4',
    engines: [{ name: 'qwen3-8b', members: [{ nodePoolName: 'l4', deviceRequests: gpus(1), template: vllm([]) }] }],
    modelCache,
    ...extra,
  });
  return chart;
}
const synth = (extra: Partial<ModelReplicaProps>, cache = false): Obj[] => Testing.synth(make(extra, cache));
const pod = (objs: Obj[], kind: string, name: string): Obj => objs.find(o => o.kind === kind && o.metadata.name === name)!.spec.template;
const envOf = (c: Obj, names: string[]) => (c.env ?? []).filter((e: Obj) => names.includes(e.name));

describe('ModelReplica follows Modelplane\'s runtime contract', () => {
  describe('the model cache', () => {
    test('is mounted read-write at /mnt/models, and a serving engine without --model is started with --model=/mnt/models', () => {
      const objs = synth({}, true);
      const p = pod(objs, 'Deployment', 'qwen3-8b-0-qwen3-8b').spec;
      expect(p.containers[0].args).toEqual(['--model=/mnt/models']);
      expect(p.containers[0].volumeMounts).toContainEqual({ name: 'model-cache', mountPath: '/mnt/models' });
      expect(p.volumes).toContainEqual({ name: 'model-cache', persistentVolumeClaim: { claimName: 'qwen3-8b' } });
      // The hydration Job puts the repository's files, as they are, where the engines mount them.
      const job = objs.find(o => o.kind === 'Job')!.spec.template.spec.containers[0];
      expect(job.volumeMounts).toEqual([{ name: 'model-cache', mountPath: '/mnt/models' }, expect.anything()]);
      expect(job.env).toContainEqual({ name: 'MODEL_DIR', value: '/mnt/models' });
    });

    test.each<[string, k8s.PodTemplateSpec, string[] | undefined]>([
      ['an engine that names its --model', vllm(['--model=Qwen/Qwen3-8B']), ['--model=Qwen/Qwen3-8B']],
      ['an engine that names its --model apart from the value', vllm(['--model', 'Qwen/Qwen3-8B']), ['--model', 'Qwen/Qwen3-8B']],
      ['an engine with a command', vllm([], { command: ['python3', '-m', 'sglang.launch_server'] }), []],
    ])('%s keeps its args', (_, template, args) => {
      const p = pod(synth({ engines: [{ name: 'qwen3-8b', members: [{ nodePoolName: 'l4', deviceRequests: gpus(1), template }] }] }, true), 'Deployment', 'qwen3-8b-0-qwen3-8b');
      expect(p.spec.containers[0].args).toEqual(args);
      expect(p.spec.containers[0].volumeMounts).toContainEqual({ name: 'model-cache', mountPath: '/mnt/models' });
    });

    test('on a Leader/Worker engine, only the serving leader gets --model; both mount the cache', () => {
      const objs = synth({ engines: [leaderWorker(vllm([]), vllm(['ray', 'start']))] }, true);
      const leader = pod(objs, 'StatefulSet', 'qwen3-8b-0-llama-0-engine-0').spec.containers[0];
      const worker = pod(objs, 'StatefulSet', 'qwen3-8b-0-llama-0-engine-0-w').spec.containers[0];
      expect(leader.args).toEqual(['--model=/mnt/models']);
      expect(worker.args).toEqual(['ray', 'start']);
      for (const c of [leader, worker]) expect(c.volumeMounts).toContainEqual({ name: 'model-cache', mountPath: '/mnt/models' });
    });
  });

  describe('Leader/Worker engines', () => {
    test('get MODELPLANE_LEADER_ADDRESS and MODELPLANE_RANK before their own env, from the group\'s leader address and worker index', () => {
      const template = vllm([], { env: [{ name: 'VLLM_HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] });
      const objs = synth({ engines: [leaderWorker(template, template)] });
      const leader = pod(objs, 'StatefulSet', 'qwen3-8b-0-llama-0-engine-0').spec.containers[0];
      const worker = pod(objs, 'StatefulSet', 'qwen3-8b-0-llama-0-engine-0-w').spec.containers[0];
      for (const c of [leader, worker]) {
        const names = c.env.map((e: Obj) => e.name);
        // Each variable is defined before the ones that refer to it, and all before the engine's own.
        expect(names.indexOf('ENTRY_ADDRESS')).toBeLessThan(names.indexOf('LWS_LEADER_ADDRESS'));
        expect(names.indexOf('WORKER_INDEX')).toBeLessThan(names.indexOf('LWS_WORKER_INDEX'));
        expect(names.slice(names.indexOf('LWS_LEADER_ADDRESS'))).toEqual([
          'LWS_LEADER_ADDRESS', 'LWS_GROUP_SIZE', 'LWS_WORKER_INDEX', 'MODELPLANE_LEADER_ADDRESS', 'MODELPLANE_RANK', 'VLLM_HOST_IP',
        ]);
        expect(envOf(c, ['MODELPLANE_LEADER_ADDRESS', 'MODELPLANE_RANK', 'LWS_LEADER_ADDRESS', 'LWS_WORKER_INDEX'])).toEqual([
          { name: 'LWS_LEADER_ADDRESS', value: '$(ENTRY_ADDRESS)' },
          { name: 'LWS_WORKER_INDEX', value: '$(WORKER_INDEX)' },
          { name: 'MODELPLANE_LEADER_ADDRESS', value: '$(LWS_LEADER_ADDRESS)' },
          { name: 'MODELPLANE_RANK', value: '$(LWS_WORKER_INDEX)' },
        ]);
      }
      // The rank is 0 on the leader and the worker's pod index (1..N) on workers.
      expect(envOf(leader, ['WORKER_INDEX'])).toEqual([{ name: 'WORKER_INDEX', value: '0' }]);
      expect(envOf(worker, ['WORKER_INDEX'])[0].valueFrom).toBeDefined();
      // Only the serving leader listens on the engine port.
      expect(leader.ports).toEqual([{ containerPort: 8000 }]);
      expect(worker.ports).toBeUndefined();
    });

    test('a coordinator-only leader, which claims no devices, still runs in its pool and tolerates the GPU taint, as every Modelplane pod', () => {
      const engine = leaderWorker(vllm([]), vllm([]));
      const objs = synth({ engines: [{ ...engine, members: [{ ...engine.members[0], deviceRequests: undefined }, engine.members[1]] }] });
      const leader = pod(objs, 'StatefulSet', 'qwen3-8b-0-llama-0-engine-0').spec;
      expect(leader.resourceClaims).toBeUndefined();
      expect(leader.nodeSelector).toEqual({ 'inferkit.dev/pool': 'h100' });
      expect(leader.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    });

    test('a Standalone engine gets no gang env', () => {
      const c = pod(synth({}), 'Deployment', 'qwen3-8b-0-qwen3-8b').spec.containers[0];
      expect(envOf(c, ['MODELPLANE_LEADER_ADDRESS', 'MODELPLANE_RANK'])).toEqual([]);
    });

    test('a template that sets MODELPLANE_RANK itself is refused', () => {
      const template = vllm([], { env: [{ name: 'MODELPLANE_RANK', value: '0' }] });
      expect(() => synth({ engines: [leaderWorker(template, vllm([]))] })).toThrow(
        "Unable to synthesize test/r: engines[0].members[0].template.spec.containers[0].env 'MODELPLANE_RANK' sets MODELPLANE_RANK, which Modelplane sets on Leader and Worker engines. Remove MODELPLANE_RANK from the template.");
    });
  });

  describe('PrefillDecode serving', () => {
    test('the decode pod gets the pd-sidecar on port 8000, its engine moved to its --port; both phases get NIXL\'s side channel and llm-d\'s labels', () => {
      const chart = make(prefillDecode(['--model=Qwen/Qwen3-8B', '--port=8200']));
      const objs = Testing.synth(chart);
      const decode = pod(objs, 'Deployment', 'qwen3-8b-0-decode');
      const [engine, sidecar] = decode.spec.containers;
      expect(engine.ports).toEqual([{ containerPort: 8200 }]);
      expect(engine.readinessProbe.httpGet).toEqual({ path: '/health', port: 8200 });
      expect(sidecar).toMatchObject({
        name: 'pd-sidecar',
        image: 'ghcr.io/llm-d/llm-d-router-disagg-sidecar:v0.9.0',
        args: ['--secure-proxy=false', '--kv-connector=nixlv2', '--vllm-port=8200'],
        ports: [{ containerPort: 8000 }],
        readinessProbe: { httpGet: { path: '/health', port: 8000 }, initialDelaySeconds: 30, periodSeconds: 10 },
        // Requests, as every container inferkit adds: the pod is never BestEffort.
        resources: { requests: { cpu: '250m', memory: '512Mi' } },
        // PodSecurity restricted, as every container.
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      });
      const prefill = pod(objs, 'Deployment', 'qwen3-8b-0-prefill');
      expect(prefill.spec.containers.map((c: Obj) => c.name)).toEqual(['engine']);
      expect(prefill.spec.containers[0].ports).toEqual([{ containerPort: 8000 }]);
      for (const [p, phase] of [[prefill, 'prefill'], [decode, 'decode']] as const) {
        expect(envOf(p.spec.containers[0], ['VLLM_NIXL_SIDE_CHANNEL_HOST', 'VLLM_NIXL_SIDE_CHANNEL_PORT'])).toEqual([
          { name: 'VLLM_NIXL_SIDE_CHANNEL_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'VLLM_NIXL_SIDE_CHANNEL_PORT', value: '5557' },
        ]);
        expect(p.metadata.labels).toMatchObject({ 'llm-d.ai/role': phase, 'llm-d.ai/inference-serving': 'true', 'app': 'qwen3-8b-0' });
        expect(p.spec.containers[0].volumeMounts).toContainEqual({ name: 'dshm', mountPath: '/dev/shm' });
      }
      expect(Warnings.of(chart).all).toEqual([]);
    });

    test('a decode engine without --port is moved to 8001, with a warning', () => {
      const chart = make(prefillDecode(['--model=Qwen/Qwen3-8B']));
      const [engine, sidecar] = pod(Testing.synth(chart), 'Deployment', 'qwen3-8b-0-decode').spec.containers;
      expect(engine.args).toEqual(['--model=Qwen/Qwen3-8B', '--port=8001']);
      expect(engine.ports).toEqual([{ containerPort: 8001 }]);
      expect(sidecar.args).toContain('--vllm-port=8001');
      expect(Warnings.of(chart).all).toEqual([
        'Warning: test/r engines[1].members[0].template.spec.containers[0].args ["--model=Qwen/Qwen3-8B"]: have no --port: behind the pd-sidecar on 8000, '
        + 'the decode engine must listen on 8001, and Modelplane adds no flag (the engine would contend with the sidecar for 8000); inferkit appends --port=8001. '
        + "Add --port=8001 to the decode engine's args.",
      ]);
    });

    test('a decode engine with a command and no --port is left as it is, with a warning', () => {
      const chart = make(prefillDecode(['serve'], { command: ['/app/start.sh'] }));
      const [engine] = pod(Testing.synth(chart), 'Deployment', 'qwen3-8b-0-decode').spec.containers;
      expect(engine.args).toEqual(['serve']);
      expect(Warnings.of(chart).all).toEqual([
        'Warning: test/r engines[1].members[0].template.spec.containers[0].args ["serve"]: have no --port: behind the pd-sidecar on 8000, the decode engine '
        + 'must listen on 8001, and inferkit cannot tell where a custom command listens. Make the command listen on 8001, or give --port.',
      ]);
    });

    test('a decode engine on the sidecar\'s port 8000 is refused', () => {
      expect(() => synth(prefillDecode(['--port', '8000']))).toThrow(
        'Unable to synthesize test/r: engines[1].members[0].template.spec.containers[0].args ["--port","8000"] make the decode engine listen on 8000, '
        + 'the pd-sidecar\'s port. Give the decode engine --port=8001.');
    });

    test('without the shared-memory default, NIXL gets its own memory-backed /dev/shm', () => {
      const p = pod(synth({ ...prefillDecode(['--port=8001']), podDefaults: { sharedMemory: false } }), 'Deployment', 'qwen3-8b-0-prefill').spec;
      expect(p.volumes).toContainEqual({ name: 'nixl-shm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } });
      expect(p.containers[0].volumeMounts).toContainEqual({ name: 'nixl-shm', mountPath: '/dev/shm' });
    });
  });
});
