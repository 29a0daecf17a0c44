import * as fc from 'fast-check';
import {
  EngineDemand, FleetCluster, FleetInventory, LedgerEntry, place, PlacementDemand, PlacementResult,
} from '../../../src';

const GPU_CLASS = 'gpu.nvidia.com';
const BIG_GPU = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0";

// Small fleets: one GPU kind per pool, so that an exact packing can be searched for independently of the solver.
const poolArb = (name: string) => fc.record({
  name: fc.constant(name),
  nodes: fc.integer({ min: 0, max: 4 }),
  devicesPerNode: fc.tuple(fc.integer({ min: 1, max: 8 }), fc.constantFrom('24Gi', '80Gi'), fc.constantFrom(GPU_CLASS, GPU_CLASS, GPU_CLASS, 'other'))
    .map(([count, memory, deviceClassName]) => [{ name: 'gpu', driver: 'gpu.nvidia.com', deviceClassName, count, capacity: { memory } }]),
});

const clusterArb = (name: string): fc.Arbitrary<FleetCluster> => fc.record({
  name: fc.constant(name),
  labels: fc.constantFrom({ region: 'eu' }, { region: 'us' }),
  taints: fc.constantFrom([], [], [{ key: 'maintenance', effect: 'NoSchedule' as const }]),
  nodePools: fc.uniqueArray(fc.constantFrom('p', 'q', 'r'), { minLength: 1, maxLength: 3 }).chain(names => fc.tuple(...names.map(poolArb))),
});

const inventoryArb: fc.Arbitrary<FleetInventory> = fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 3 })
  .chain(names => fc.tuple(...names.map(clusterArb)))
  .map(clusters => ({ clusters }));

const selectorsArb = fc.constantFrom<string[]>([], [BIG_GPU]);

const engineArb = (name: string): fc.Arbitrary<EngineDemand> => fc.oneof(
  fc.record({
    name: fc.constant(name),
    copies: fc.integer({ min: 1, max: 2 }),
    members: fc.tuple(fc.integer({ min: 1, max: 8 }), selectorsArb).map(([count, selectors]) => [
      { deviceRequests: [{ name: 'gpu', count, deviceClassName: GPU_CLASS, selectors }] },
    ]),
  }),
  fc.record({
    name: fc.constant(name),
    copies: fc.integer({ min: 1, max: 2 }),
    members: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 8 })).map(([leader, pods, each]) => [
      { role: 'Leader' as const, deviceRequests: leader ? [{ name: 'gpu', count: leader, deviceClassName: GPU_CLASS }] : [] },
      { role: 'Worker' as const, pods, deviceRequests: [{ name: 'gpu', count: each, deviceClassName: GPU_CLASS }] },
    ]),
  }),
);

const demandArb = (replicas: fc.Arbitrary<number>): fc.Arbitrary<PlacementDemand> => fc.record({
  name: fc.constant('llm'),
  replicas,
  engines: fc.integer({ min: 1, max: 2 }).chain(n => fc.tuple(...Array.from({ length: n }, (_, i) => engineArb(`e${i}`)))),
  tolerations: fc.constantFrom([], [{ key: 'maintenance', operator: 'Exists' as const }]),
  clusterSelector: fc.constantFrom(undefined, { matchLabels: { region: 'eu' } }),
}).map(d => (d.clusterSelector ? d : { name: d.name, replicas: d.replicas, engines: d.engines, tolerations: d.tolerations }));

/** At most one entry per node, none larger than a node: the ledger the fleet can actually hold. */
function ledgerArb(inventory: FleetInventory): fc.Arbitrary<LedgerEntry[]> {
  const pools = inventory.clusters.flatMap(c => c.nodePools.map(p => ({
    cluster: c.name, pool: p.name, nodes: p.nodes, count: p.devicesPerNode[0].count ?? 1,
  })));
  return fc.tuple(...pools.map(p => fc.array(fc.integer({ min: 1, max: p.count }), { maxLength: p.nodes })
    .map(sizes => sizes.map(gpus => ({ cluster: p.cluster, pool: p.pool, devices: { gpu: gpus }, owner: 'other' })))))
    .map(entries => entries.flat());
}

const scenarioArb = (replicas: fc.Arbitrary<number>) => inventoryArb.chain(inventory => fc.record({
  inventory: fc.constant(inventory),
  demand: demandArb(replicas),
  ledger: ledgerArb(inventory),
}));

/**
 * Whether gangs of pods fit `nodes` nodes of `perNode` devices, every pod of a gang on its own node: an exhaustive
 * search, written apart from the solver, with nodes of equal free devices treated as one.
 */
function packable(nodes: number, perNode: number, gangs: number[][]): boolean {
  const order = gangs.map(g => [...g].sort((a, b) => b - a)).sort((a, b) => b.reduce((x, y) => x + y, 0) - a.reduce((x, y) => x + y, 0));
  const failed = new Set<string>();
  const rec = (i: number, free: number[]): boolean => {
    if (i === order.length) return true;
    const key = `${i}:${free.join(',')}`;
    if (failed.has(key)) return false;
    const pods = order[i];
    const assign = (j: number, current: number[], used: boolean[]): boolean => {
      if (j === pods.length) return rec(i + 1, [...current].sort((a, b) => b - a));
      const tried = new Set<number>();
      for (let n = 0; n < current.length; n++) {
        if (used[n] || current[n] < pods[j] || tried.has(current[n])) continue;
        tried.add(current[n]);
        const next = [...current];
        next[n] -= pods[j];
        const nextUsed = [...used];
        nextUsed[n] = true;
        if (assign(j + 1, next, nextUsed)) return true;
      }
      return false;
    };
    const ok = assign(0, free, free.map(() => false));
    if (!ok) failed.add(key);
    return ok;
  };
  return rec(0, Array<number>(nodes).fill(perNode));
}

/** Every pool can really hold what the result puts there, with the ledger. */
function noPoolOvercommitted(demand: PlacementDemand, inventory: FleetInventory, ledger: readonly LedgerEntry[], result: PlacementResult): boolean {
  for (const c of inventory.clusters) {
    for (const p of c.nodePools) {
      const gangs: number[][] = ledger.filter(e => e.cluster === c.name && e.pool === p.name).map(e => [e.devices.gpu]);
      for (const a of result.assignments.filter(x => x.cluster === c.name)) {
        for (const engine of demand.engines) {
          const pods = a.members
            .filter(m => m.engine === engine.name && m.pool === p.name)
            .flatMap(m => {
              const member = engine.members[m.member];
              const gpus = (member.deviceRequests ?? []).reduce((n, r) => n + (r.count ?? 1), 0);
              return gpus > 0 ? Array<number>(member.pods ?? 1).fill(gpus) : [];
            });
          for (let copy = 0; copy < (engine.copies ?? 1); copy++) if (pods.length) gangs.push(pods);
        }
      }
      if (!packable(p.nodes, p.devicesPerNode[0].count ?? 1, gangs)) return false;
    }
  }
  return true;
}

const RUNS = { numRuns: 150 };

describe('placement properties', () => {
  test('no device is overcommitted, ledger included, and every wanted replica is placed or explained', () => {
    fc.assert(fc.property(scenarioArb(fc.integer({ min: 0, max: 6 })), ({ inventory, demand, ledger }) => {
      const result = place(demand, inventory, [], ledger);
      expect(result.assignments.length + result.unplaced.length).toBe(demand.replicas);
      expect(noPoolOvercommitted(demand, inventory, ledger, result)).toBe(true);
    }), RUNS);
  });

  test('the same input gives the same output, whatever the order of clusters and pools', () => {
    fc.assert(fc.property(scenarioArb(fc.integer({ min: 0, max: 6 })), ({ inventory, demand, ledger }) => {
      const shuffled: FleetInventory = { clusters: [...inventory.clusters].reverse().map(c => ({ ...c, nodePools: [...c.nodePools].reverse() })) };
      const result = place(demand, inventory, [], ledger);
      expect(place(demand, inventory, [], ledger)).toEqual(result);
      expect(place(demand, shuffled, [], [...ledger].reverse())).toEqual(result);
    }), RUNS);
  });

  test('scaling up or down never moves a retained replica', () => {
    const arb = fc.tuple(scenarioArb(fc.integer({ min: 0, max: 6 })), fc.integer({ min: 0, max: 8 }));
    fc.assert(fc.property(arb, ([{ inventory, demand, ledger }, replicas]) => {
      const first = place(demand, inventory, [], ledger);
      const second = place({ ...demand, replicas }, inventory, first.assignments, ledger);
      expect(second.removed).toHaveLength(Math.max(0, first.assignments.length - replicas));
      const now = new Map(second.assignments.map(a => [a.replica, a]));
      for (const before of first.assignments) {
        if (second.removed.includes(before.replica)) continue;
        expect(now.get(before.replica)).toEqual({ replica: before.replica, cluster: before.cluster, members: before.members, state: 'Retained' });
      }
      expect(noPoolOvercommitted({ ...demand, replicas }, inventory, ledger, second)).toBe(true);
    }), RUNS);
  });

  test("an engine's pods never split across pools", () => {
    fc.assert(fc.property(scenarioArb(fc.integer({ min: 0, max: 6 })), ({ inventory, demand, ledger }) => {
      for (const a of place(demand, inventory, [], ledger).assignments) {
        for (const engine of demand.engines) {
          expect(new Set(a.members.filter(m => m.engine === engine.name).map(m => m.pool)).size).toBe(1);
        }
      }
    }), RUNS);
  });

  test('every unplaced replica has a reason for every cluster', () => {
    fc.assert(fc.property(scenarioArb(fc.integer({ min: 4, max: 10 })), ({ inventory, demand, ledger }) => {
      for (const u of place(demand, inventory, [], ledger).unplaced) {
        expect(new Set(u.rejections.map(r => r.cluster))).toEqual(new Set(inventory.clusters.map(c => c.name)));
        for (const r of u.rejections) expect(r.message.length).toBeGreaterThan(0);
      }
    }), RUNS);
  });
});

/** The scenario with every pool's nodes named, and the ledger's entries on nodes (some spilling past what a node has). */
const namedScenarioArb = scenarioArb(fc.integer({ min: 0, max: 6 })).chain(({ inventory, demand }) => {
  const named: FleetInventory = {
    clusters: inventory.clusters.map(c => ({
      ...c, nodePools: c.nodePools.map(p => ({ ...p, nodeNames: Array.from({ length: p.nodes }, (_, i) => `${c.name}-${p.name}-${i}`) })),
    })),
  };
  const slots = named.clusters.flatMap(c => c.nodePools.flatMap(p => (p.nodeNames ?? []).map(node => ({ cluster: c.name, pool: p.name, node }))));
  const entry = slots.length === 0 ? fc.constant<LedgerEntry[]>([]) : fc.array(fc.tuple(fc.constantFrom(...slots), fc.integer({ min: 1, max: 9 }))
    .map(([slot, gpus]): LedgerEntry => ({ ...slot, devices: { gpu: gpus } })), { maxLength: 6 });
  return entry.map(ledger => ({ inventory: named, demand, ledger }));
});

/** Devices each node has free: its own, less what the ledger holds on it (never below zero). */
function freeByNode(inventory: FleetInventory, ledger: readonly LedgerEntry[]): Map<string, number> {
  const free = new Map<string, number>();
  for (const c of inventory.clusters) {
    for (const p of c.nodePools) for (const n of p.nodeNames ?? []) free.set(`${c.name}/${n}`, p.devicesPerNode[0].count ?? 1);
  }
  for (const e of ledger) {
    const key = `${e.cluster}/${e.node}`;
    if (free.has(key)) free.set(key, Math.max(0, free.get(key)! - e.devices.gpu));
  }
  return free;
}

describe('placement on named nodes', () => {
  test('no pod is given more devices on a node than that node has free in the ledger, and every claiming pod has a node', () => {
    fc.assert(fc.property(namedScenarioArb, ({ inventory, demand, ledger }) => {
      const result = place(demand, inventory, [], ledger);
      const free = freeByNode(inventory, ledger);
      for (const a of result.assignments) {
        for (const m of a.members) {
          const engine = demand.engines.find(e => e.name === m.engine)!;
          const member = engine.members[m.member];
          const gpus = (member.deviceRequests ?? []).reduce((n, r) => n + (r.count ?? 1), 0);
          if (gpus === 0) {
            expect(m.nodes).toBeUndefined();
            continue;
          }
          expect(m.nodes).toHaveLength((engine.copies ?? 1) * (member.pods ?? 1));
          for (const node of m.nodes!) {
            const key = `${a.cluster}/${node}`;
            expect(free.get(key)).toBeGreaterThanOrEqual(gpus);
            free.set(key, free.get(key)! - gpus);
          }
        }
      }
    }), RUNS);
  });

  test('a second run retains every replica on the very nodes it was given', () => {
    fc.assert(fc.property(namedScenarioArb, ({ inventory, demand, ledger }) => {
      const first = place(demand, inventory, [], ledger);
      const second = place(demand, inventory, first.assignments, ledger);
      expect(second.assignments).toEqual(first.assignments.map(a => ({ ...a, state: 'Retained' })));
    }), RUNS);
  });
});

describe('the exhaustive packing check itself', () => {
  test.each<[number, number, number[][], boolean]>([
    [2, 8, [[6], [6]], true],
    [2, 8, [[6], [6], [6]], false],
    [2, 8, [[4, 4]], true],
    [1, 8, [[4, 4]], false],
    [2, 8, [[5], [3], [5], [3]], true],
    [3, 4, [[2, 2, 2], [2, 2, 2]], true],
    [3, 4, [[2, 2, 2], [2, 2, 2], [1]], false],
  ])('%d nodes of %d devices, gangs %j: %s', (nodes, perNode, gangs, expected) => {
    expect(packable(nodes, perNode, gangs)).toBe(expected);
  });
});
