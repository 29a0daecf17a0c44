import { App, Testing } from 'cdk8s';
import { stringify } from 'yaml';
import {
  EnginePhase, FleetDevice, FleetInventory, MemberRole, ModelDeployment, ModelDeploymentProps, Placement, ServingMode,
} from '../../index';
import { messageOf } from '../_helpers';

type Obj = Record<string, any>;

const GPU = 'gpu.nvidia.com';
const gpu = (count: number, memory: string, product: string): FleetDevice =>
  ({ name: 'gpu', driver: GPU, deviceClassName: GPU, count, attributes: { productName: product }, capacity: { memory } });
const MEM_40 = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0";

/** Three clusters: two in the EU (one drained by a NoExecute taint), one in the US. */
const fleet: FleetInventory = {
  clusters: [
    { name: 'eu-1', labels: { region: 'eu' }, nodePools: [{ name: 'h100', nodes: 2, devicesPerNode: [gpu(8, '80Gi', 'H100')] }, { name: 'l4', nodes: 2, devicesPerNode: [gpu(4, '24Gi', 'L4')] }] },
    { name: 'eu-2', labels: { region: 'eu' }, nodePools: [{ name: 'h100', nodes: 2, devicesPerNode: [gpu(8, '80Gi', 'H100')] }] },
    { name: 'eu-3', labels: { region: 'eu' }, taints: [{ key: 'drain', value: 'true', effect: 'NoExecute' }], nodePools: [{ name: 'h100', nodes: 4, devicesPerNode: [gpu(8, '80Gi', 'H100')] }] },
    { name: 'us-1', labels: { region: 'us' }, nodePools: [{ name: 'h100', nodes: 8, devicesPerNode: [gpu(8, '80Gi', 'H100')] }] },
  ],
};

const template = { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0', args: ['--model=Qwen/Qwen3-8B'] }] } };
const props = (extra: Partial<ModelDeploymentProps> = {}): ModelDeploymentProps => ({
  namespace: 'ml-team',
  replicas: 3,
  clusterSelector: { matchLabels: { region: 'eu' } },
  engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu', selectors: [MEM_40] }], template }] }],
  placement: Placement.solve(fleet),
  ...extra,
});

function render(p: ModelDeploymentProps): { md: ModelDeployment; objs: Record<string, Obj[]> } {
  const md = new ModelDeployment(Testing.app(), 'qwen', p);
  return { md, objs: Object.fromEntries(md.clusters.map(c => [c, Testing.synth(md.clusterChart(c))])) };
}
const ofKind = (objs: Obj[], kind: string) => objs.filter(o => o.kind === kind);

describe('ModelDeployment', () => {
  test('replicas are placed at synth: spread over the selected clusters, none on the drained one, each in its own chart', () => {
    const { md, objs } = render(props());
    expect(md.clusters).toEqual(['eu-1', 'eu-2']);
    expect(md.replicas.map(r => [r.index, r.cluster, r.pools['qwen/0']])).toEqual([[0, 'eu-1', 'h100'], [1, 'eu-2', 'h100'], [2, 'eu-1', 'h100']]);
    expect(ofKind(objs['eu-1'], 'Deployment').map(d => d.metadata.name)).toEqual(['qwen-0-qwen', 'qwen-2-qwen']);
    expect(ofKind(objs['eu-2'], 'Deployment').map(d => d.metadata.name)).toEqual(['qwen-1-qwen']);
    expect(md.replicas[0].endpoint).toBe('http://qwen-0.ml-team.svc:8000');
  });

  test('a request without a class claims through the class of the device matched in its pool; pods carry the ledger labels', () => {
    const { objs } = render(props({ replicas: 1 }));
    const rct = ofKind(objs['eu-1'], 'ResourceClaimTemplate')[0];
    expect(rct.spec.spec.devices.requests).toEqual([{ name: 'gpu', exactly: { deviceClassName: GPU, allocationMode: 'ExactCount', count: 1, selectors: [{ cel: { expression: MEM_40 } }] } }]);
    const pod = ofKind(objs['eu-1'], 'Deployment')[0].spec.template;
    expect(pod.spec.nodeSelector).toEqual({ 'inferkit.dev/pool': 'h100' });
    expect(pod.metadata.labels).toMatchObject({ 'inferkit.dev/deployment': 'qwen', 'inferkit.dev/pool': 'h100', 'modelplane.ai/replica': 'qwen-0' });
    expect(pod.metadata.annotations).toEqual({ 'inferkit.dev/devices-per-pod': '{"gpu":1}' });
  });

  test('Unified serving: a Service per cluster over its replicas\' serving pods', () => {
    const { objs } = render(props());
    const svc = objs['eu-1'].find(o => o.kind === 'Service' && o.metadata.name === 'qwen')!;
    expect(svc.spec.selector).toEqual({ 'inferkit.dev/deployment': 'qwen', 'modelplane.ai/serving': 'true' });
    expect(ofKind(objs['eu-1'], 'InferencePool')).toEqual([]);
  });

  test('PrefillDecode serving: an InferencePool per cluster whose endpoint picker tells prefill from decode pods', () => {
    const { md, objs } = render(props({
      replicas: 1,
      serving: { mode: ServingMode.PREFILL_DECODE, gateway: { name: 'inference-gateway' } },
      engines: [
        { name: 'prefill', phase: EnginePhase.PREFILL, members: [{ deviceRequests: [{ name: 'gpu', count: 2 }], template }] },
        { name: 'decode', phase: EnginePhase.DECODE, copies: 2, members: [{ deviceRequests: [{ name: 'gpu' }], template }] },
      ],
    }));
    const eu1 = objs['eu-1'];
    const pool = ofKind(eu1, 'InferencePool')[0];
    expect(pool.metadata.name).toBe('qwen');
    expect(pool.spec.selector.matchLabels).toEqual({ 'inferkit.dev/deployment': 'qwen', 'modelplane.ai/serving': 'true' });
    const phases = ofKind(eu1, 'Deployment').filter(d => d.metadata.labels['modelplane.ai/phase']).map(d => d.spec.template.metadata.labels['modelplane.ai/phase']);
    expect(phases).toEqual(['prefill', 'decode']);
    expect(ofKind(eu1, 'HTTPRoute')[0].spec.rules[0].backendRefs[0]).toMatchObject({ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'qwen' });
    expect(JSON.stringify(ofKind(eu1, 'ConfigMap'))).toContain('modelplane.ai/phase');
    expect(ofKind(eu1, 'Service').map(s => s.metadata.name)).not.toContain('qwen-0');
    expect(md.replicas[0].endpoint).toBe('qwen');
  });

  test('Unified serving with an InferencePool and a Gateway adds the pool and the HTTPRoute', () => {
    const { objs } = render(props({ replicas: 1, serving: { inferencePool: true, gateway: { name: 'gw', namespace: 'gateways' } } }));
    expect(ofKind(objs['eu-1'], 'InferencePool')).toHaveLength(1);
    expect(ofKind(objs['eu-1'], 'HTTPRoute')[0].spec.parentRefs).toEqual([expect.objectContaining({ name: 'gw', namespace: 'gateways' })]);
  });

  test('a model cache is staged in every cluster that hosts a replica and mounted at /mnt/models into the engines', () => {
    const { objs } = render(props({ modelCache: { repo: 'Qwen/Qwen3-8B', sizeGiB: 40, authSecret: { name: 'hf' } } }));
    for (const cluster of ['eu-1', 'eu-2']) {
      const pvc = ofKind(objs[cluster], 'PersistentVolumeClaim')[0];
      expect(pvc.metadata.name).toBe('qwen-cache');
      expect(pvc.spec).toMatchObject({ accessModes: ['ReadWriteMany'], resources: { requests: { storage: '40Gi' } } });
      const job = ofKind(objs[cluster], 'Job')[0].spec.template.spec.containers[0];
      expect(job.env).toEqual(expect.arrayContaining([{ name: 'HF_REPO', value: 'Qwen/Qwen3-8B' }, { name: 'MODEL_DIR', value: '/mnt/models' },
        { name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf', key: 'HF_TOKEN' } } }]));
      const engine = ofKind(objs[cluster], 'Deployment')[0].spec.template.spec;
      expect(engine.volumes).toContainEqual({ name: 'model-cache', persistentVolumeClaim: { claimName: 'qwen-cache' } });
      expect(engine.containers[0].volumeMounts).toContainEqual({ name: 'model-cache', mountPath: '/mnt/models' });
    }
  });

  test('a Leader/Worker engine with 8 GPUs per node is placed whole on one pool', () => {
    const { md, objs } = render(props({
      replicas: 1,
      clusterSelector: { matchLabels: { region: 'us' } },
      engines: [{
        name: 'llama',
        members: [
          { role: MemberRole.LEADER, deviceRequests: [{ name: 'gpu', count: 8 }], template },
          { role: MemberRole.WORKER, workerNodes: 3, deviceRequests: [{ name: 'gpu', count: 8 }], template },
        ],
      }],
    }));
    expect(md.replicas[0]).toMatchObject({ cluster: 'us-1', pools: { 'llama/0': 'h100', 'llama/1': 'h100' } });
    const sts = ofKind(objs['us-1'], 'StatefulSet');
    expect(sts.map(s => s.spec.replicas)).toEqual([1, 3]);
    expect(sts.map(s => s.spec.template.metadata.annotations['inferkit.dev/devices-per-pod'])).toEqual(['{"gpu":8}', '{"gpu":8}']);
  });

  test('a cluster that names the DRA API it serves gets claim templates of that API, the others of the deployment\'s version', () => {
    const older = { clusters: fleet.clusters.map(c => (c.name === 'eu-2' ? { ...c, draApiVersion: 'resource.k8s.io/v1beta2' } : c)) };
    const { objs } = render(props({ replicas: 2, placement: Placement.solve(older) }));
    expect(ofKind(objs['eu-1'], 'ResourceClaimTemplate').map(o => o.apiVersion)).toEqual(['resource.k8s.io/v1']);
    expect(ofKind(objs['eu-2'], 'ResourceClaimTemplate').map(o => o.apiVersion)).toEqual(['resource.k8s.io/v1beta2']);
  });

  test('assigned placement renders the given assignments', () => {
    const { md } = render(props({
      replicas: 1,
      placement: Placement.assigned([{ replica: 0, cluster: 'us-1', members: [{ engine: 'qwen', member: 0, pool: 'h100' }] }], fleet),
    }));
    expect(md.clusters).toEqual(['us-1']);
  });

  test('the same input gives byte-identical YAML', () => {
    const yamlOf = () => {
      const app = new App();
      const md = new ModelDeployment(app, 'qwen', props());
      return md.clusters.map(c => stringify(md.clusterChart(c).toJson())).join('---\n');
    };
    expect(yamlOf()).toBe(yamlOf());
  });

  describe('errors', () => {
    test('a replica that fits nowhere is refused with every cluster\'s reason', () => {
      expect(messageOf(() => render(props({ replicas: 33 })))).toContain(
        'Unable to synthesize qwen: replicas 33 leaves replica 32 unplaced: eu-1/h100 (engine qwen): InsufficientCapacity: engine \'qwen\' needs 1 device');
      const msg = messageOf(() => render(props({ replicas: 33 })));
      expect(msg).toContain('eu-3: TaintNotTolerated');
      expect(msg).toContain('us-1: ClusterSelectorNotMatched');
      expect(msg).toContain('Lower replicas, relax the selectors or tolerations, or add capacity to the inventory.');
    });

    test('validate reports, before any placement, what the constructor would refuse (the Pulumi component calls it at preview)', () => {
      const { placement, ...rest } = props({ labels: { 'modelplane.ai/replica': 'x' } });
      expect(placement).toBeDefined();
      const twoContainers = { spec: { containers: [...template.spec.containers, { name: 'sidecar', image: 'busybox' }] } };
      const msg = messageOf(() => ModelDeployment.validate('ml-team/qwen', { ...rest, engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu' }], template: twoContainers }] }] }));
      expect(msg).toContain("Unable to synthesize ml-team/qwen: labels.modelplane.ai/replica 'modelplane.ai/replica' uses a reserved prefix");
      expect(msg).toContain('Unable to synthesize ml-team/qwen: engines[0].members[0].template.spec.containers must hold exactly one container (the engine).');
      expect(() => ModelDeployment.validate('ml-team/qwen', props())).not.toThrow();
    });

    test('a reserved label prefix is refused', () => {
      expect(messageOf(() => render(props({ labels: { 'inferkit.dev/pool': 'x', 'team': 'a' } })))).toBe(
        "Unable to synthesize qwen: labels.inferkit.dev/pool 'inferkit.dev/pool' uses a reserved prefix: inferkit.dev and modelplane.ai labels select and count replicas. Use a label key of your own domain.");
    });

    test('PrefillDecode without exactly two engines is refused', () => {
      expect(messageOf(() => render(props({ serving: { mode: ServingMode.PREFILL_DECODE } })))).toContain(
        'Unable to synthesize qwen: engines ["none"] do not make PrefillDecode serving, which needs exactly two engines, one Prefill and one Decode.');
    });

    test('a Worker without a Leader is refused', () => {
      expect(messageOf(() => render(props({ engines: [{ name: 'w', members: [{ role: MemberRole.WORKER, workerNodes: 2, deviceRequests: [{ name: 'gpu' }], template }] }] })))).toContain(
        "Unable to synthesize qwen: engines[0].members 'Worker' has a Worker without a Leader: workers join a leader pod. Give one Standalone member, or one Leader and one Worker.");
    });

    test('9 engines are refused', () => {
      const engines = Array.from({ length: 9 }, (_, i) => ({ name: `e${i}`, members: [{ deviceRequests: [{ name: 'gpu' }], template }] }));
      expect(messageOf(() => render(props({ engines })))).toContain('Unable to synthesize qwen: engines 9 is outside 1 to 8: a replica runs one to 8 engines.');
    });

    test('a CEL selector that does not compile is refused', () => {
      const engines = [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu', selectors: ["device.capacity['gpu.nvidia.com'].memory >="] }], template }] }];
      expect(messageOf(() => render(props({ engines })))).toContain(
        "Unable to synthesize qwen: engines[0].members[0].deviceRequests[0].selectors[0] 'device.capacity['gpu.nvidia.com'].memory >=' of request 'gpu' is not a valid device selector");
    });

    test('a Gateway without an InferencePool in Unified serving is refused', () => {
      expect(messageOf(() => render(props({ serving: { gateway: { name: 'gw' } } })))).toBe(
        "Unable to synthesize qwen: serving.gateway 'gw' is set, but the HTTPRoute targets the InferencePool, which Unified serving renders only with inferencePool: true. Set serving.inferencePool to true.");
    });

    test('assignments must place each replica once, with every member on a pool', () => {
      const a = (replica: number, members = [{ engine: 'qwen', member: 0, pool: 'h100' }]) => ({ replica, cluster: 'eu-1', members });
      const msg = messageOf(() => render(props({ replicas: 2, placement: Placement.assigned([a(0), a(0), a(5, [])], fleet) })));
      expect(msg).toContain('Unable to synthesize qwen: placement[1].replica 0 is assigned twice. Assign each replica once.');
      expect(msg).toContain('placement[2].replica 5 is not a replica index: replicas are 0 to 1.');
      expect(msg).toContain("placement[2].members 'qwen/0' has no pool. Give every member of every engine a pool.");
      expect(msg).toContain('placement [1] leaves these replicas unassigned. Assign every replica, or lower replicas.');
    });

    test('the deployment\'s own ledger entries (owner <namespace>/<name>) are not counted against it', () => {
      const ledger = [{ cluster: 'eu-2', pool: 'h100', devices: { gpu: 16 }, owner: 'ml-team/qwen' }];
      expect(render(props({ replicas: 2, placement: Placement.solve(fleet, { ledger }) })).md.clusters).toEqual(['eu-1', 'eu-2']);
      const other = [{ ...ledger[0], owner: 'ml-team/other' }];
      expect(render(props({ replicas: 2, placement: Placement.solve(fleet, { ledger: other }) })).md.clusters).toEqual(['eu-1']);
    });

    test('an assigned placement without an inventory needs the class on every request', () => {
      const placement = Placement.assigned([{ replica: 0, cluster: 'eu-1', members: [{ engine: 'qwen', member: 0, pool: 'h100' }] }]);
      expect(messageOf(() => render(props({ replicas: 1, placement })))).toContain(
        'Unable to synthesize qwen: engines[0].members[0].deviceRequests[0].deviceClassName is missing, and the placement has no inventory to take it from.');
    });
  });
});
