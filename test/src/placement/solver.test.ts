import {
  ClusterSelector, ClusterTaint, ClusterToleration, EngineDemand, FleetCluster, FleetDevice, FleetInventory, FleetNodePool, LedgerEntry,
  matchesClusterSelector, matchingDevice, place, PlacementDemand, PlacementResult, ReplicaAssignment, toleratesTaint,
} from '../../../src';

const GPU_CLASS = 'gpu.nvidia.com';

function gpu(count: number, memory = '80Gi', product = 'H100'): FleetDevice {
  return { name: 'gpu', driver: 'gpu.nvidia.com', deviceClassName: GPU_CLASS, count, attributes: { productName: product }, capacity: { memory } };
}

function pool(name: string, nodes: number, ...devices: FleetDevice[]): FleetNodePool {
  return { name, nodes, devicesPerNode: devices.length ? devices : [gpu(8)] };
}

function cluster(name: string, pools: FleetNodePool[], extra: Partial<FleetCluster> = {}): FleetCluster {
  return { name, nodePools: pools, ...extra };
}

/** A Standalone engine whose pod claims `gpus` GPUs, optionally with selectors. */
function standalone(name: string, gpus: number, selectors: string[] = [], copies = 1): EngineDemand {
  return { name, copies, members: [{ deviceRequests: [{ name: 'gpu', count: gpus, deviceClassName: GPU_CLASS, selectors }] }] };
}

/** A Leader/Worker engine: the leader claims `leader` GPUs (0: coordinator only), each of `workers` workers `perWorker`. */
function gang(name: string, leader: number, workers: number, perWorker: number): EngineDemand {
  return {
    name,
    members: [
      { role: 'Leader', deviceRequests: leader ? [{ name: 'gpu', count: leader, deviceClassName: GPU_CLASS }] : [] },
      { role: 'Worker', pods: workers, deviceRequests: [{ name: 'gpu', count: perWorker, deviceClassName: GPU_CLASS }] },
    ],
  };
}

function demand(replicas: number, engines: EngineDemand[], extra: Partial<PlacementDemand> = {}): PlacementDemand {
  return { name: 'llm', replicas, engines, ...extra };
}

/** replica index -> cluster/pool of its first member, for compact expectations. */
function where(result: PlacementResult): Record<number, string> {
  return Object.fromEntries(result.assignments.map(a => [a.replica, `${a.cluster}/${a.members[0].pool}`]));
}

function states(result: PlacementResult): Record<number, string | undefined> {
  return Object.fromEntries(result.assignments.map(a => [a.replica, a.state]));
}

const three: FleetInventory = { clusters: ['c', 'a', 'b'].map(n => cluster(n, [pool('h100', 2)])) };

describe('filling: spread across clusters, then pack within', () => {
  test('replicas go round the clusters by load, ties by name', () => {
    const result = place(demand(6, [standalone('llm', 8)]), three);
    expect(where(result)).toEqual({ 0: 'a/h100', 1: 'b/h100', 2: 'c/h100', 3: 'a/h100', 4: 'b/h100', 5: 'c/h100' });
    expect(result.unplaced).toEqual([]);
    expect(new Set(result.assignments.map(a => a.state))).toEqual(new Set(['Placed']));
  });

  test('within a cluster, the fullest pool that fits is filled first', () => {
    const inventory = { clusters: [cluster('a', [pool('p1', 1), pool('p2', 1)])] };
    const ledger: LedgerEntry[] = [{ cluster: 'a', pool: 'p2', devices: { gpu: 4 } }];
    const result = place(demand(3, [standalone('llm', 2)]), inventory, [], ledger);
    expect(where(result)).toEqual({ 0: 'a/p2', 1: 'a/p2', 2: 'a/p1' });
  });

  test('capacity is counted in devices: sixteen 1-GPU engines fill two 8-GPU nodes, the seventeenth does not fit', () => {
    const inventory = { clusters: [cluster('a', [pool('h100', 2)])] };
    const result = place(demand(17, [standalone('small', 1)]), inventory);
    expect(result.assignments).toHaveLength(16);
    expect(result.unplaced).toEqual([{
      replica: 16,
      rejections: [{
        cluster: 'a',
        pool: 'h100',
        engine: 'small',
        reason: 'InsufficientCapacity',
        message: "engine 'small' needs 1 device (1 copy of 1 pod of 1); 0 of the pool's 16 matching devices are free (0 held by other deployments, 16 by this one), "
          + 'and 0 nodes have room for a pod of 1',
      }],
    }]);
  });

  test("a pod's devices come from one node: two 6-GPU pods fit two 8-GPU nodes, a third does not", () => {
    const inventory = { clusters: [cluster('a', [pool('h100', 2)])] };
    const result = place(demand(3, [standalone('llm', 6)]), inventory);
    expect(result.assignments).toHaveLength(2);
    expect(result.unplaced[0].rejections[0].message).toContain("4 of the pool's 16 matching devices are free");
    expect(result.unplaced[0].rejections[0].message).toContain('0 nodes have room for a pod of 6');
  });

  test('a pod larger than a node is refused per node, whatever the pool holds in all', () => {
    const inventory = { clusters: [cluster('a', [pool('l4', 8, gpu(4, '24Gi', 'L4'))])] };
    const result = place(demand(1, [standalone('llm', 6)]), inventory);
    expect(result.unplaced[0].rejections).toEqual([{
      cluster: 'a',
      pool: 'l4',
      engine: 'llm',
      reason: 'TooFewDevicesPerNode',
      message: "a pod of engine 'llm' member 0 (Standalone) needs 6 devices for request 'gpu' on one node; a node has 4 matching 'gpu'",
    }]);
  });

  test('copies of an engine all go to its pool', () => {
    const inventory = { clusters: [cluster('a', [pool('small', 1, gpu(2)), pool('big', 1, gpu(4))])] };
    const result = place(demand(1, [standalone('llm', 1, [], 3)]), inventory);
    expect(where(result)).toEqual({ 0: 'a/big' });
  });
});

describe('Leader/Worker engines', () => {
  test('every device-claiming pod of a gang takes its own node', () => {
    const inventory = { clusters: [cluster('a', [pool('h100', 6)])] };
    const result = place(demand(3, [gang('big', 8, 2, 8)]), inventory);
    expect(result.assignments.map(a => a.members)).toEqual([
      [{ engine: 'big', member: 0, pool: 'h100' }, { engine: 'big', member: 1, pool: 'h100' }],
      [{ engine: 'big', member: 0, pool: 'h100' }, { engine: 'big', member: 1, pool: 'h100' }],
    ]);
    expect(result.unplaced.map(u => u.replica)).toEqual([2]);
  });

  test('workers of one gang never share a node, even when the devices would fit', () => {
    const inventory = { clusters: [cluster('a', [pool('one-node', 1), pool('two-nodes', 2, gpu(4))])] };
    const result = place(demand(1, [gang('tp', 0, 2, 4)]), inventory);
    expect(where(result)).toEqual({ 0: 'a/two-nodes' });
    const none = place(demand(1, [gang('tp', 0, 2, 4)]), { clusters: [cluster('a', [pool('one-node', 1)])] });
    expect(none.unplaced[0].rejections).toEqual([{
      cluster: 'a',
      pool: 'one-node',
      engine: 'tp',
      reason: 'TooFewNodes',
      message: "engine 'tp' runs 2 device-claiming pods of a gang on separate nodes; the pool has 1 node",
    }]);
  });

  test('separate copies of a small gang may share nodes', () => {
    const inventory = { clusters: [cluster('a', [pool('h100', 2)])] };
    const result = place(demand(1, [{ ...gang('tp', 0, 2, 4), copies: 2 }]), inventory);
    expect(result.assignments).toHaveLength(1);
  });
});

describe('matching devices', () => {
  const pools = [pool('l4', 4, gpu(1, '24Gi', 'L4')), pool('h100', 1, gpu(8, '80Gi', 'H100'))];

  test('CEL selectors pick the pool', () => {
    const big = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0";
    const result = place(demand(1, [standalone('llm', 1, [big])]), { clusters: [cluster('a', pools)] });
    expect(where(result)).toEqual({ 0: 'a/h100' });
  });

  test('a pool whose devices fail a selector is refused with the selector', () => {
    const result = place(demand(1, [standalone('llm', 1, ["device.attributes['gpu.nvidia.com'].productName == 'B200'"])]), { clusters: [cluster('a', pools)] });
    expect(result.unplaced[0].rejections.map(r => [r.pool, r.reason, r.message])).toEqual([
      ['h100', 'DeviceNotMatched', "no device matches request 'gpu' of engine 'llm' member 0 (Standalone): device 'gpu' fails selector 0 \"device.attributes['gpu.nvidia.com'].productName == 'B200'\""],
      ['l4', 'DeviceNotMatched', "no device matches request 'gpu' of engine 'llm' member 0 (Standalone): device 'gpu' fails selector 0 \"device.attributes['gpu.nvidia.com'].productName == 'B200'\""],
    ]);
  });

  test('a selector that fails at run time is reported with its error', () => {
    const result = place(demand(1, [standalone('llm', 1, ["device.attributes['gpu.nvidia.com'].memoryClock > 1000"])]), { clusters: [cluster('a', [pools[1]])] });
    expect(result.unplaced[0].rejections[0].message).toContain('(No such key: memoryClock at character');
  });

  test('a request matches only devices of its DeviceClass', () => {
    const nic: FleetDevice = { name: 'fabric', driver: 'ib.example.com' };
    const inventory = { clusters: [cluster('a', [pool('ib', 1, nic)])] };
    const result = place(demand(1, [standalone('llm', 1)]), inventory);
    expect(result.unplaced[0].rejections[0]).toMatchObject({
      reason: 'DeviceNotMatched',
      message: "no device matches request 'gpu' of engine 'llm' member 0 (Standalone): device 'fabric' is of class none (not claimable), not 'gpu.nvidia.com'",
    });
  });

  test('a request without a class matches any claimable device, and matchingDevice names the one it claims', () => {
    const nic: FleetDevice = { name: 'fabric', driver: 'ib.example.com' };
    const p = pool('mixed', 1, nic, gpu(8));
    const engine: EngineDemand = { name: 'llm', members: [{ deviceRequests: [{ name: 'gpu', count: 8 }] }] };
    const result = place(demand(1, [engine]), { clusters: [cluster('a', [p])] });
    expect(result.assignments).toHaveLength(1);
    expect(matchingDevice(p, { name: 'gpu', count: 8 })).toMatchObject({ name: 'gpu', deviceClassName: GPU_CLASS });
    expect(matchingDevice(pool('ib', 1, nic), { name: 'gpu' })).toBeUndefined();
    const refused = place(demand(1, [engine]), { clusters: [cluster('a', [pool('ib', 1, nic)])] });
    expect(refused.unplaced[0].rejections[0].message).toContain("device 'fabric' is of class none (not claimable), not claimable");
  });

  test('an engine that runs anywhere leaves the scarce pool to the engine whose selector needs it', () => {
    // Fullest-first alone put 'chat' beside 'code' on the only 80Gi pool and left replica 1 without room for 'code'.
    const inventory = { clusters: [cluster('c', [pool('h100', 1, gpu(8, '80Gi', 'H100')), pool('l4', 1, gpu(8, '24Gi', 'L4'))])] };
    const result = place(demand(2, [standalone('code', 4, ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80Gi')) >= 0"]), standalone('chat', 2)]), inventory);
    expect(result.unplaced).toEqual([]);
    expect(result.assignments.map(a => a.members.map(m => `${m.engine}:${m.pool}`))).toEqual([['code:h100', 'chat:l4'], ['code:h100', 'chat:l4']]);
  });

  test('a pod with two requests that could take the same devices gets a matching that fits', () => {
    // Kind 'any' serves both requests, kind 'fast' only the first: the first must take 'fast' for the second to fit.
    const any: FleetDevice = { name: 'any', driver: 'x.example.com', deviceClassName: 'x', attributes: { fast: false } };
    const fast: FleetDevice = { name: 'fast', driver: 'x.example.com', deviceClassName: 'x', attributes: { fast: true } };
    const engine: EngineDemand = {
      name: 'two',
      members: [{
        deviceRequests: [
          { name: 'first', deviceClassName: 'x' },
          { name: 'second', deviceClassName: 'x', selectors: ["!device.attributes['x.example.com'].fast"] },
        ],
      }],
    };
    const result = place(demand(2, [engine]), { clusters: [cluster('a', [pool('p', 1, any, fast)])] });
    expect(result.assignments).toHaveLength(1);
    expect(result.unplaced.map(u => u.replica)).toEqual([1]);
  });

  test('PrefillDecode engines may take different pools of the one cluster', () => {
    const prefill = { ...standalone('prefill', 8, ["device.attributes['gpu.nvidia.com'].productName == 'H100'"]), phase: 'Prefill' as const };
    const decode = { ...standalone('decode', 1, ["device.attributes['gpu.nvidia.com'].productName == 'L4'"]), phase: 'Decode' as const };
    const result = place(demand(1, [prefill, decode], { servingMode: 'PrefillDecode' }), { clusters: [cluster('a', pools)] });
    expect(result.assignments[0].members).toEqual([
      { engine: 'prefill', member: 0, pool: 'h100' },
      { engine: 'decode', member: 0, pool: 'l4' },
    ]);
  });
});

describe('clusters: selector, taints, reachability', () => {
  const fleet: FleetInventory = {
    clusters: [
      cluster('eu-1', [pool('h100', 1)], { labels: { region: 'eu', tier: 'prod' } }),
      cluster('us-1', [pool('h100', 1)], { labels: { region: 'us', tier: 'prod' } }),
      cluster('eu-2', [pool('h100', 1)], { labels: { region: 'eu' }, taints: [{ key: 'maintenance', effect: 'NoSchedule' }] }),
    ],
  };

  test('the clusterSelector limits the clusters, and says why one is left out', () => {
    const result = place(demand(3, [standalone('llm', 8)], { clusterSelector: { matchLabels: { region: 'eu' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }), fleet);
    expect(where(result)).toEqual({ 0: 'eu-1/h100' });
    expect(result.unplaced[0].rejections.map(r => `${r.cluster} ${r.reason}: ${r.message}`)).toEqual([
      'eu-1 InsufficientCapacity: ' + result.unplaced[0].rejections[0].message,
      'eu-2 ClusterSelectorNotMatched: cluster eu-2 does not match the clusterSelector: expression tier Exists does not hold for no tier label',
      'us-1 ClusterSelectorNotMatched: cluster us-1 does not match the clusterSelector: label region=eu is region=us',
    ]);
  });

  test('a NoSchedule taint keeps new replicas off unless tolerated', () => {
    const refused = place(demand(3, [standalone('llm', 8)]), fleet);
    expect(Object.values(where(refused)).sort()).toEqual(['eu-1/h100', 'us-1/h100']);
    expect(refused.unplaced[0].rejections.find(r => r.cluster === 'eu-2')).toEqual({
      cluster: 'eu-2', reason: 'TaintNotTolerated', message: 'taint maintenance:NoSchedule of cluster eu-2 is not tolerated',
    });
    const tolerated = place(demand(3, [standalone('llm', 8)], { tolerations: [{ key: 'maintenance', operator: 'Exists' }] }), fleet);
    expect(tolerated.assignments).toHaveLength(3);
  });

  test('a NoSchedule taint leaves the replicas already there', () => {
    const first = place(demand(3, [standalone('llm', 8)], { tolerations: [{ key: 'maintenance', operator: 'Exists' }] }), fleet);
    const again = place(demand(3, [standalone('llm', 8)]), fleet, first.assignments);
    expect(where(again)).toEqual(where(first));
    expect(Object.values(states(again))).toEqual(['Retained', 'Retained', 'Retained']);
  });

  test('a NoExecute taint drains the cluster: its replicas move, the others stay', () => {
    const inventory = { clusters: [cluster('a', [pool('h100', 2)]), cluster('b', [pool('h100', 2)])] };
    const first = place(demand(2, [standalone('llm', 8)]), inventory);
    expect(where(first)).toEqual({ 0: 'a/h100', 1: 'b/h100' });
    const drained = { clusters: [cluster('a', [pool('h100', 2)], { taints: [{ key: 'drain', value: 'now', effect: 'NoExecute' }] }), cluster('b', [pool('h100', 2)])] };
    const again = place(demand(2, [standalone('llm', 8)]), drained, first.assignments);
    expect(where(again)).toEqual({ 0: 'b/h100', 1: 'b/h100' });
    expect(again.assignments[0]).toMatchObject({ state: 'Moved', movedFrom: { cluster: 'a', reason: 'taint drain=now:NoExecute drains cluster a' } });
    expect(again.assignments[1].state).toBe('Retained');
  });

  test('an unreachable cluster keeps its replicas pinned and degraded, and takes no new ones', () => {
    const inventory = { clusters: [cluster('a', [pool('h100', 2)]), cluster('b', [pool('h100', 2)])] };
    const first = place(demand(2, [standalone('llm', 8)]), inventory);
    const down = { clusters: [cluster('a', [pool('h100', 2)], { unreachable: true }), cluster('b', [pool('h100', 2)])] };
    const again = place(demand(4, [standalone('llm', 8)]), down, first.assignments);
    expect(where(again)).toEqual({ 0: 'a/h100', 1: 'b/h100', 2: 'b/h100' });
    expect(states(again)).toEqual({ 0: 'Degraded', 1: 'Retained', 2: 'Placed' });
    expect(again.unplaced[0].rejections).toContainEqual({
      cluster: 'a', reason: 'ClusterUnreachable', message: 'cluster a is unreachable: it keeps its replicas and takes no new ones',
    });
  });

  test('a cluster removed from the inventory has its replicas placed again, and only those', () => {
    const first = place(demand(3, [standalone('llm', 8)]), three);
    const without = { clusters: three.clusters.filter(c => c.name !== 'b') };
    const again = place(demand(3, [standalone('llm', 8)]), without, first.assignments);
    expect(where(again)).toEqual({ 0: 'a/h100', 1: 'a/h100', 2: 'c/h100' });
    expect(again.assignments[1]).toMatchObject({ state: 'Moved', movedFrom: { cluster: 'b', reason: 'cluster b is no longer in the inventory' } });
    expect(states(again)).toEqual({ 0: 'Retained', 1: 'Moved', 2: 'Retained' });
  });
});

describe('retain, scale down, fill', () => {
  const existing = (pairs: Array<[number, string]>): ReplicaAssignment[] =>
    pairs.map(([replica, c]) => ({ replica, cluster: c, members: [{ engine: 'llm', member: 0, pool: 'h100' }] }));

  test('an existing assignment is kept even where the spread would not put it', () => {
    const result = place(demand(3, [standalone('llm', 8)]), three, existing([[0, 'c'], [1, 'c']]));
    expect(where(result)).toEqual({ 0: 'c/h100', 1: 'c/h100', 2: 'a/h100' });
    expect(states(result)).toEqual({ 0: 'Retained', 1: 'Retained', 2: 'Placed' });
  });

  test('scale down removes the highest index from the most loaded cluster, ties by name', () => {
    const before = existing([[0, 'a'], [1, 'b'], [2, 'a'], [3, 'b'], [4, 'a']]);
    const result = place(demand(3, [standalone('llm', 8)]), three, before);
    expect(result.removed).toEqual([2, 4]);
    expect(where(result)).toEqual({ 0: 'a/h100', 1: 'b/h100', 3: 'b/h100' });
  });

  test('scale up after a scale down fills the lowest free indices', () => {
    const result = place(demand(5, [standalone('llm', 8)]), three, existing([[0, 'a'], [1, 'b'], [3, 'b']]));
    expect(where(result)).toEqual({ 0: 'a/h100', 1: 'b/h100', 2: 'c/h100', 3: 'b/h100', 4: 'a/h100' });
  });

  test('a replica whose pool is gone moves', () => {
    const inventory = { clusters: [cluster('a', [pool('a100', 2)])] };
    const result = place(demand(1, [standalone('llm', 8)]), inventory, existing([[0, 'a']]));
    expect(result.assignments[0]).toMatchObject({ cluster: 'a', state: 'Moved', movedFrom: { reason: 'pool h100 is no longer in cluster a' } });
  });

  test('a replica whose pool no longer has room, because another deployment holds it, moves', () => {
    const inventory = { clusters: [cluster('a', [pool('h100', 1)]), cluster('b', [pool('h100', 1)])] };
    const ledger: LedgerEntry[] = [{ cluster: 'a', pool: 'h100', devices: { gpu: 8 }, owner: 'other' }];
    const result = place(demand(1, [standalone('llm', 8)]), inventory, existing([[0, 'a']]), ledger);
    expect(result.assignments[0]).toMatchObject({
      cluster: 'b',
      state: 'Moved',
      movedFrom: { cluster: 'a', reason: 'its pools no longer have room: pool h100 has 0 devices free (8 held by other deployments)' },
    });
  });

  test("the deployment's own ledger entries are not counted twice", () => {
    const inventory = { clusters: [cluster('a', [pool('h100', 1)])] };
    const ledger: LedgerEntry[] = [{ cluster: 'a', pool: 'h100', devices: { gpu: 8 }, owner: 'llm' }];
    expect(place(demand(1, [standalone('llm', 8)]), inventory, existing([[0, 'a']]), ledger).assignments[0].state).toBe('Retained');
  });

  test('replicas that cannot be placed again are reported with where they were', () => {
    const result = place(demand(1, [standalone('llm', 8)]), { clusters: [] }, existing([[0, 'gone']]));
    expect(result.unplaced).toEqual([{ replica: 0, rejections: [], movedFrom: { cluster: 'gone', reason: 'cluster gone is no longer in the inventory' } }]);
  });

  test('zero replicas removes them all', () => {
    const result = place(demand(0, [standalone('llm', 8)]), three, existing([[0, 'a'], [1, 'b']]));
    expect(result).toEqual({ assignments: [], unplaced: [], removed: [0, 1] });
  });
});

describe('determinism', () => {
  test('the same input in another order gives the same output', () => {
    const inventory: FleetInventory = {
      clusters: [
        cluster('x', [pool('b', 2), pool('a', 1, gpu(4))], { labels: { r: '1' } }),
        cluster('y', [pool('c', 3)]),
      ],
    };
    const reversed: FleetInventory = { clusters: [...inventory.clusters].reverse().map(c => ({ ...c, nodePools: [...c.nodePools].reverse() })) };
    const d = demand(7, [standalone('llm', 2), standalone('aux', 1)]);
    expect(place(d, reversed)).toEqual(place(d, inventory));
  });
});

describe('Kubernetes selector and toleration semantics', () => {
  const labels = { region: 'eu', tier: 'prod' };
  test.each<[ClusterSelector | undefined, boolean]>([
    [undefined, true],
    [{}, true],
    [{ matchLabels: { region: 'eu' } }, true],
    [{ matchLabels: { region: 'us' } }, false],
    [{ matchExpressions: [{ key: 'region', operator: 'In', values: ['us', 'eu'] }] }, true],
    [{ matchExpressions: [{ key: 'region', operator: 'NotIn', values: ['eu'] }] }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    [{ matchLabels: { region: 'eu' }, matchExpressions: [{ key: 'gpu', operator: 'Exists' }] }, false],
  ])('selector %j matches region=eu,tier=prod: %s', (selector, expected) => {
    expect(matchesClusterSelector(selector, labels)).toBe(expected);
  });

  const taint: ClusterTaint = { key: 'maintenance', value: 'planned', effect: 'NoExecute' };
  test.each<[ClusterToleration, boolean]>([
    [{ operator: 'Exists' }, true],
    [{ key: 'maintenance', operator: 'Exists' }, true],
    [{ key: 'maintenance', value: 'planned' }, true],
    [{ key: 'maintenance', value: 'other' }, false],
    [{ key: 'maintenance', operator: 'Exists', effect: 'NoSchedule' }, false],
    [{ key: 'maintenance', operator: 'Exists', effect: 'NoExecute' }, true],
    [{ key: 'other', operator: 'Exists' }, false],
  ])('toleration %j tolerates maintenance=planned:NoExecute: %s', (toleration, expected) => {
    expect(toleratesTaint([toleration], taint)).toBe(expected);
  });
});

describe('pools whose nodes are named', () => {
  const named = (names: string[]): FleetInventory => ({ clusters: [cluster('a', [{ ...pool('h100', names.length), nodeNames: names }])] });

  test('eight single-GPU replicas are packed on one node, each recorded there; a gang\'s pods get a node each', () => {
    const small = place(demand(8, [standalone('e', 1)]), named(['n-0', 'n-1']));
    expect(small.assignments.map(a => a.members[0].nodes)).toEqual(Array(8).fill(['n-0']));
    const big = place(demand(1, [gang('g', 0, 2, 8)]), named(['n-0', 'n-1']));
    expect(big.assignments[0].members).toEqual([
      { engine: 'g', member: 0, pool: 'h100' },
      { engine: 'g', member: 1, pool: 'h100', nodes: ['n-0', 'n-1'] },
    ]);
  });

  test('a retained replica whose node left the pool is placed again, saying which node went', () => {
    const first = place(demand(1, [standalone('e', 8)]), named(['n-0', 'n-1']));
    expect(first.assignments[0].members[0].nodes).toEqual(['n-0']);
    const second = place(demand(1, [standalone('e', 8)]), named(['n-1', 'n-2']), first.assignments);
    expect(second.assignments[0]).toMatchObject({
      state: 'Moved',
      members: [{ pool: 'h100', nodes: ['n-1'] }],
      movedFrom: { cluster: 'a', reason: 'node n-0 is no longer a Ready, schedulable node of pool h100' },
    });
  });

  test('a retained replica whose node filled up with other workloads is placed again on a node with room', () => {
    const first = place(demand(1, [standalone('e', 4)]), named(['n-0', 'n-1']));
    const ledger: LedgerEntry[] = [{ cluster: 'a', pool: 'h100', node: 'n-0', devices: { gpu: 6 } }];
    const second = place(demand(1, [standalone('e', 4)]), named(['n-0', 'n-1']), first.assignments, ledger);
    expect(second.assignments[0]).toMatchObject({ state: 'Moved', members: [{ nodes: ['n-1'] }] });
  });

  test('a replica placed on unnamed nodes stays unpinned when it is retained on named ones', () => {
    const first = place(demand(1, [standalone('e', 4)]), { clusters: [cluster('a', [pool('h100', 2)])] });
    const second = place(demand(1, [standalone('e', 4)]), named(['n-0', 'n-1']), first.assignments);
    expect(second.assignments[0]).toEqual({ ...first.assignments[0], state: 'Retained' });
    expect(second.assignments[0].members[0]).not.toHaveProperty('nodes');
  });
});

describe('a replica pinned to nodes, retained on a pool declared without names', () => {
  test('is retained, unpinned', () => {
    const first = place(demand(1, [standalone('e', 4)]), { clusters: [cluster('a', [{ ...pool('h100', 2), nodeNames: ['n-0', 'n-1'] }])] });
    const second = place(demand(1, [standalone('e', 4)]), { clusters: [cluster('a', [pool('h100', 2)])] }, first.assignments);
    expect(second.assignments[0]).toEqual({ replica: 0, cluster: 'a', members: [{ engine: 'e', member: 0, pool: 'h100' }], state: 'Retained' });
  });
});
