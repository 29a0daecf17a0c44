import * as fc from 'fast-check';
import { LedgerLabels, NODE_POOL_LABEL, place, PlacementDemand } from '../../../src';
import { ClusterObjectLists, heldDevicesOf, ledgerOf, liveInventoryOf, pinnedNodesGone } from '../../../src/placement/cluster-objects';
import type { K8sObject } from '../../../src/rollout/sets';

// The test cluster's `h100` pool: two nodes of 8 GPUs, each published in a ResourceSlice whose DRA pool is the node.
const node = (name: string, pool = 'h100'): K8sObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { [NODE_POOL_LABEL]: pool } },
  status: { conditions: [{ type: 'Ready', status: 'True' }] },
});
const slice = (nodeName: string, count = 8, driver = 'gpu.nvidia.com'): K8sObject => ({
  apiVersion: 'resource.k8s.io/v1',
  kind: 'ResourceSlice',
  metadata: { name: `${nodeName}-${driver}` },
  spec: {
    driver,
    nodeName,
    pool: { name: nodeName, generation: 1, resourceSliceCount: 1 },
    devices: Array.from({ length: count }, (_, i) => ({ name: `gpu-${i}`, attributes: { productName: { string: 'NVIDIA H100 80GB HBM3' }, index: { int: i } } })),
  },
});
const gpuClass: K8sObject = {
  apiVersion: 'resource.k8s.io/v1',
  kind: 'DeviceClass',
  metadata: { name: 'gpu.nvidia.com' },
  spec: { selectors: [{ cel: { expression: "device.driver == 'gpu.nvidia.com'" } }] },
};

/** A pod bound to `nodeName` (or pending), labelled as an inferkit deployment's when `deployment` is given. */
interface PodOptions { deployment?: string; gpus?: number; phase?: string; devices?: string }

function pod(name: string, nodeName: string | undefined, options: PodOptions = {}): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ml',
      uid: `uid-${name}`,
      labels: options.deployment ? { [LedgerLabels.DEPLOYMENT]: options.deployment, [LedgerLabels.POOL]: 'h100' } : {},
      annotations: options.devices ? { [LedgerLabels.DEVICES_PER_POD]: options.devices } : {},
    },
    spec: {
      ...(nodeName ? { nodeName } : {}),
      containers: [{ name: 'c', resources: options.gpus ? { limits: { 'nvidia.com/gpu': String(options.gpus), 'cpu': '1' } } : {} }],
    },
    status: { phase: options.phase ?? (nodeName ? 'Running' : 'Pending') },
  };
}

/** A claim allocated `devices` (by device name, on the node's DRA pool) and reserved for `podName`. */
function claim(name: string, nodeName: string, devices: string[], podName?: string): K8sObject {
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceClaim',
    metadata: { name, namespace: 'ml' },
    status: {
      allocation: { devices: { results: devices.map(device => ({ request: 'gpu', driver: 'gpu.nvidia.com', pool: nodeName, device })) } },
      ...(podName ? { reservedFor: [{ resource: 'pods', name: podName, uid: `uid-${podName}` }] } : {}),
    },
  };
}

const cluster = (extra: Partial<ClusterObjectLists>): ClusterObjectLists => ({
  nodes: [node('h100-0'), node('h100-1')],
  slices: [slice('h100-0'), slice('h100-1')],
  classes: [gpuClass],
  workloads: [],
  pods: [],
  claims: [],
  ...extra,
});

/** Eight single-GPU pods spread 5 and 3 over the two nodes by the scheduler, each with its allocated claim. */
function spreadFiveThree(deployment?: string): Partial<ClusterObjectLists> {
  const nodes = ['h100-0', 'h100-0', 'h100-0', 'h100-0', 'h100-0', 'h100-1', 'h100-1', 'h100-1'];
  const used = new Map<string, number>();
  return {
    pods: nodes.map((n, i) => pod(`small-${i}`, n, { deployment })),
    claims: nodes.map((n, i) => {
      const k = used.get(n) ?? 0;
      used.set(n, k + 1);
      return claim(`small-${i}-gpu`, n, [`gpu-${k}`], `small-${i}`);
    }),
  };
}

describe('the ledger of what the cluster allocated, node by node', () => {
  test('given allocated claims, each is held on the node of its devices, under the kind\'s name in the node\'s pool', () => {
    const held = heldDevicesOf('east', cluster({ claims: [claim('a', 'h100-1', ['gpu-0', 'gpu-5'])] }));
    expect(held).toEqual([{ cluster: 'east', pool: 'h100', node: 'h100-1', devices: { gpu: 2 } }]);
  });

  test('a claim reserved for a labelled pod is owned by that pod\'s deployment; another pod\'s claim by nobody', () => {
    const held = heldDevicesOf('east', cluster({
      pods: [pod('mine', 'h100-0', { deployment: 'llama' }), pod('theirs', 'h100-0')],
      claims: [claim('c1', 'h100-0', ['gpu-0'], 'mine'), claim('c2', 'h100-0', ['gpu-1'], 'theirs')],
    }));
    expect(held.map(e => e.owner)).toEqual(['ml/llama', undefined]);
  });

  test('claims not allocated, devices no slice has and nodes outside every pool hold nothing', () => {
    const pending: K8sObject = { apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', metadata: { name: 'p', namespace: 'ml' }, status: {} };
    const held = heldDevicesOf('east', cluster({
      nodes: [node('h100-0'), { ...node('loose'), metadata: { name: 'loose', labels: {} } }],
      slices: [slice('h100-0'), slice('loose')],
      claims: [pending, claim('gone', 'h100-0', ['gpu-99']), claim('outside', 'loose', ['gpu-0'])],
    }));
    expect(held).toEqual([]);
  });

  test('bound pods using extended resources hold them on their node, counted against the device kind of the matching driver', () => {
    const held = heldDevicesOf('east', cluster({
      pods: [pod('ext', 'h100-1', { gpus: 3 }), pod('done', 'h100-1', { gpus: 8, phase: 'Succeeded' }), pod('pending', undefined, { gpus: 8 })],
    }));
    expect(held).toEqual([{ cluster: 'east', pool: 'h100', node: 'h100-1', devices: { gpu: 3 } }]);
  });

  test('an extended resource goes to the kind whose DeviceClass names it, and one backed by a DRA claim is counted by the claim only', () => {
    const named = { ...gpuClass, spec: { ...gpuClass.spec, extendedResourceName: 'example.com/accel' } };
    const ext = pod('ext', 'h100-0');
    ext.spec.containers[0].resources = { limits: { 'example.com/accel': '2' } };
    const backed = { ...pod('backed', 'h100-0', { gpus: 4 }), status: { phase: 'Running', extendedResourceClaimStatus: { resourceClaimName: 'x' } } };
    expect(heldDevicesOf('east', cluster({ classes: [named], pods: [ext, backed] }))).toEqual([
      { cluster: 'east', pool: 'h100', node: 'h100-0', devices: { gpu: 2 } },
    ]);
  });

  test('the fold is deterministic: the order of the objects does not matter', () => {
    const objects = cluster(spreadFiveThree());
    const reversed = { ...objects, pods: [...objects.pods].reverse(), claims: [...objects.claims].reverse(), slices: [...objects.slices].reverse() };
    expect(liveInventoryOf('east', reversed)).toEqual(liveInventoryOf('east', objects));
  });
});

describe('pending pods of inferkit workloads', () => {
  const workload = (replicas: number): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'llama-0', namespace: 'ml', labels: { [LedgerLabels.DEPLOYMENT]: 'llama' } },
    spec: { replicas, template: { metadata: { labels: { [LedgerLabels.POOL]: 'h100' }, annotations: { [LedgerLabels.DEVICES_PER_POD]: '{"gpu":1}' } } } },
  });

  test('a workload\'s pods bound to a node are not counted again; its pods not yet scheduled are, on no node', () => {
    const pods = [pod('llama-0-a', 'h100-0', { deployment: 'llama', devices: '{"gpu":1}' }), pod('llama-0-b', undefined, { deployment: 'llama', devices: '{"gpu":1}' })];
    const ledger = ledgerOf('east', [workload(3)], pods);
    expect(ledger).toEqual([1, 2].map(() => ({ cluster: 'east', pool: 'h100', devices: { gpu: 1 }, owner: 'ml/llama' })));
  });

  test('more bound pods than replicas (a rollout\'s surge) leave nothing pending', () => {
    const pods = [0, 1, 2].map(i => pod(`p${i}`, 'h100-0', { deployment: 'llama', devices: '{"gpu":1}' }));
    expect(ledgerOf('east', [workload(2)], pods)).toEqual([]);
  });
});

describe('placing on the ledger of allocated claims', () => {
  const eightGpus: PlacementDemand = {
    name: 'ml/big',
    replicas: 1,
    engines: [{ name: 'e', members: [{ deviceRequests: [{ name: 'gpu', count: 8, deviceClassName: 'gpu.nvidia.com' }] }] }],
  };

  test('given 8 single-GPU pods the scheduler spread 5 and 3, an 8-GPU replica does not fit, with the reason', () => {
    const live = liveInventoryOf('east', cluster(spreadFiveThree()));
    const result = place(eightGpus, { clusters: [{ name: 'east', nodePools: live.nodePools }] }, [], live.ledger);
    expect(result.assignments).toEqual([]);
    expect(result.unplaced[0].rejections).toEqual([expect.objectContaining({
      pool: 'h100',
      reason: 'InsufficientCapacity',
      message: expect.stringContaining("8 of the pool's 16 matching devices are free (8 held by other deployments, 0 by this one), and 0 nodes have room for a pod of 8"),
    })]);
  });

  test('the same pods packed on one node leave the other whole: the 8-GPU replica goes there, pinned to it', () => {
    const packed = ['h100-0', 'h100-0', 'h100-0', 'h100-0', 'h100-0', 'h100-0', 'h100-0', 'h100-0'];
    const live = liveInventoryOf('east', cluster({
      pods: packed.map((n, i) => pod(`small-${i}`, n)),
      claims: packed.map((n, i) => claim(`c${i}`, n, [`gpu-${i}`], `small-${i}`)),
    }));
    const result = place(eightGpus, { clusters: [{ name: 'east', nodePools: live.nodePools }] }, [], live.ledger);
    expect(result.assignments[0].members).toEqual([{ engine: 'e', member: 0, pool: 'h100', nodes: ['h100-1'] }]);
  });

  test('a deployment\'s own claims are left out when it is placed again', () => {
    const live = liveInventoryOf('east', cluster(spreadFiveThree('big')));
    const result = place({ ...eightGpus, replicas: 2 }, { clusters: [{ name: 'east', nodePools: live.nodePools }] }, [], live.ledger);
    expect(result.unplaced).toEqual([]);
  });
});

describe('pinned nodes that left their pool', () => {
  const assignment = (replica: number, on: string, nodes?: string[]) => ({
    replica, cluster: on, members: [{ engine: 'e', member: 0, pool: 'h100', ...(nodes ? { nodes } : {}) }],
  });

  test('given a pool without one of the pinned nodes, that node is named; other clusters and unpinned replicas are not looked at', () => {
    const pools = liveInventoryOf('east', cluster({ nodes: [node('h100-1'), node('h100-2')] })).nodePools;
    const assignments = [assignment(0, 'east', ['h100-0', 'h100-0']), assignment(1, 'east', ['h100-1']), assignment(2, 'west', ['gone']), assignment(3, 'east')];
    expect(pinnedNodesGone('east', assignments, pools)).toEqual(['h100/h100-0']);
  });

  test('a pool that lost all its nodes loses every pinned node', () => {
    expect(pinnedNodesGone('east', [assignment(0, 'east', ['h100-0'])], [])).toEqual(['h100/h100-0']);
  });
});

describe('the ledger fold, for any allocation', () => {
  // Claims of 1 to 3 distinct devices on one node each, some reserved for a labelled pod; bound pods with nvidia.com/gpu limits.
  const allocation = fc.record({
    claims: fc.array(fc.record({ node: fc.constantFrom('h100-0', 'h100-1'), count: fc.integer({ min: 1, max: 3 }), owned: fc.boolean() }), { maxLength: 5 }),
    extended: fc.array(fc.record({ node: fc.constantFrom('h100-0', 'h100-1'), gpus: fc.integer({ min: 1, max: 2 }) }), { maxLength: 3 }),
    seed: fc.integer(),
  });

  test('every allocated device and extended resource is held once, on its node, whatever the order of the objects', () => {
    fc.assert(fc.property(allocation, ({ claims, extended, seed }) => {
      const next = new Map<string, number>();
      const pods: K8sObject[] = [];
      // No node has more than its 8 devices allocated.
      const fitting = claims.filter(c => {
        const used = next.get(c.node) ?? 0;
        next.set(c.node, used + c.count);
        return used + c.count <= 8;
      });
      next.clear();
      const claimObjects = fitting.map((c, i) => {
        const first = next.get(c.node) ?? 0;
        next.set(c.node, first + c.count);
        pods.push(pod(`claimer-${i}`, c.node, c.owned ? { deployment: 'llama' } : {}));
        return claim(`c${i}`, c.node, Array.from({ length: c.count }, (_, k) => `gpu-${first + k}`), `claimer-${i}`);
      });
      extended.forEach((e, i) => pods.push(pod(`ext-${i}`, e.node, { gpus: e.gpus })));
      const expected: Record<string, number> = {};
      fitting.forEach(c => (expected[c.node] = (expected[c.node] ?? 0) + c.count));
      extended.forEach(e => (expected[e.node] = (expected[e.node] ?? 0) + e.gpus));

      const held = heldDevicesOf('east', cluster({ pods, claims: claimObjects }));
      const total: Record<string, number> = {};
      for (const e of held) total[e.node!] = (total[e.node!] ?? 0) + e.devices.gpu;
      expect(total).toEqual(expected);
      expect(held.filter(e => e.owner === 'ml/llama')).toHaveLength(fitting.filter(c => c.owned).length);

      const shuffle = <T>(xs: T[]) => xs.map((x, i) => ({ x, k: (i * 7919 + seed) % 101 })).sort((a, b) => a.k - b.k).map(({ x }) => x);
      expect(heldDevicesOf('east', cluster({ pods: shuffle(pods), claims: shuffle(claimObjects) }))).toEqual(held);
    }), { numRuns: 100 });
  });
});
