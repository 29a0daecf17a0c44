// Placement quality: GPUs the solver leaves unplaced against the exact optimum, on generated instances of 10 to 200
// node pools, and against a whole-node-per-pod baseline. Run: npx ts-node --transpile-only bench/optimality.bench.ts
//
// The optimum is an integer program solved by HiGHS in the same run. Replicas of one deployment are alike, so the model
// counts them instead of naming them, and nodes of a pool with the same free GPUs are alike, so it counts how many of
// them are filled with each "node pattern" (a multiset of pod sizes that fits the node's free GPUs):
//
//   maximise   sum_c n_c                                              replicas placed; each claims the same GPUs
//   subject to sum_c n_c <= replicas
//              sum_{p in c} x_ep = n_c              for engine e, cluster c   a replica's engine goes to one pool of its cluster
//              sum_q z_ptq <= nodes_pt              for pool p, free GPUs t   nodes of a pool with t GPUs free after the ledger
//              sum_tq q_s z_ptq >= sum_e copies_e pods_es x_ep   for pool p, pod size s   every pod has a node slot of its size
//              n, x, z integer >= 0; x_ep exists only where engine e's selectors, device class and gang size admit pool p
//
// That is the solver's rules: a replica wholly in one cluster, every copy and member of an engine in one pool, a pod's
// GPUs on one node, ledger entries held on single nodes best fit (as LedgerEntry documents). Pods of one gang must take
// separate nodes; the model does not say so, and is exact only because every multi-pod gang here claims whole nodes
// (checked below). Slots of a pattern that no pod fills are left free, so maximal patterns suffice. As a check that the
// model is no stricter than the solver, the solver's own placement is fed to it with every x_ep pinned and must be feasible.
//
// Unplaced GPUs are those the unplaced replicas demand. Stranded GPUs: for inferkit, free GPUs left on nodes where no pod
// of the demand that the pool admits fits; for the whole-node baseline, the GPUs of the nodes its pods take but do not use.
// The run exits non-zero when HiGHS does not prove an optimum or a gap exceeds the bar: it measures, then asserts.
//
// A second table measures what a live cluster gives the solver (issue 15): pools whose nodes are named, a ledger of
// what earlier deployments hold node by node after a spreading scheduler placed them (LeastAllocated: each pod on the
// node with the most GPUs free), and deployments of 1, 2, 4 and 8 GPUs per pod arriving one by one, each placed on the
// ledger of the earlier ones (as `pulumi up` reads allocated claims). GPUs left unplaced are compared with the offline
// optimum (the integer program below, which sees every arrival at once) and with a fragmentation-aware online baseline
// after FGD (Weng et al., ATC'23: each pod goes to the node whose expected fragmentation, for the arrivals' pod sizes,
// grows least). Stranded: GPUs left free on nodes too small for any pod of the deployments left unplaced.
// An online placer serves arrivals first come, first served: it cannot refuse one that fits to keep room for a larger
// one later, which the offline optimum may do (on a small instance one refused 3 x 8-GPU arrival is 13 % of the demand).
// So the bar is asserted on the same arrivals largest first, which takes the order out and leaves the placement's own
// quality; in arrival order, inferkit must lose no more than the FGD baseline does. The last column replays the model
// of before (pools unnamed, a pool-level ledger held best fit, pods not pinned) under the spreading scheduler: the GPUs of
// pods it reported placed that could not run.
//
//   maximise   sum_dp gpus_d x_dp                       GPUs placed
//   subject to sum_p x_dp <= 1                           for deployment d   one pool (one replica, all copies in it)
//              sum_q z_ptq <= nodes_pt                   for pool p, free GPUs t (after the spread ledger)
//              sum_tq q_s z_ptq >= sum_{d of size s} copies_d x_dp   for pool p, pod size s
//              x binary, z integer >= 0
import loadHighs from 'highs';
import {
  EngineDemand, evaluateDeviceSelector, FleetCluster, FleetDevice, FleetInventory, FleetNodePool, LedgerEntry, place, PlacementDemand,
  PlacementResult,
} from '../src';
import { MAX_OBJECT_COUNT } from '../src/limits';

/** Pools per generated instance; one seed each, so every run sees the same instances. */
const SIZES: ReadonlyArray<[number, number]> = [[10, 11], [50, 52], [100, 103], [200, 204]];
/** The acceptance bar: the solver's unplaced GPUs exceed the optimum's by at most this share of the GPUs demanded. */
const MAX_GAP_PERCENT = 3;
/** Demand this much more than the fleet's free GPUs, so some replicas cannot be placed. */
const OVERDEMAND = 1.25;

const GPU_CLASS = 'gpu.nvidia.com';
const GPUS_PER_NODE = 8;
const PRODUCTS: ReadonlyArray<[string, string, string]> = [['H100', '80Gi', '9.0.0'], ['A100', '40Gi', '8.0.0'], ['L4', '24Gi', '8.9.0'], ['H200', '141Gi', '9.0.0']];
const MEMORY_40 = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0";
const MEMORY_80 = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80Gi')) >= 0";
const HOPPER = "device.attributes['gpu.nvidia.com'].cudaComputeCapability.isGreaterThan(semver('8.9.0'))";

/** Park-Miller minimal standard generator: seeded, so instances are reproducible without Math.random, and exact in doubles. */
function prng(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

const between = (random: () => number, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

interface Instance {
  readonly name: string;
  readonly inventory: FleetInventory;
  readonly ledger: readonly LedgerEntry[];
  readonly demand: PlacementDemand;
}

/** Clusters of 4 to 10 pools of 8-GPU nodes (2 to 16 nodes, a random product); other deployments hold 1 to 6 GPUs on some. */
function fleet(pools: number, random: () => number): { inventory: FleetInventory; ledger: LedgerEntry[] } {
  const clusters: FleetCluster[] = [];
  const ledger: LedgerEntry[] = [];
  for (let made = 0, c = 0; made < pools; c++) {
    const name = `cluster-${String(c).padStart(3, '0')}`;
    const size = Math.min(pools - made, between(random, 4, 10));
    const nodePools: FleetNodePool[] = Array.from({ length: size }, (_, p) => {
      const [product, memory, cc] = PRODUCTS[between(random, 0, PRODUCTS.length - 1)];
      const gpu: FleetDevice = {
        name: 'gpu',
        driver: GPU_CLASS,
        deviceClassName: GPU_CLASS,
        count: GPUS_PER_NODE,
        attributes: { productName: product, cudaComputeCapability: { version: cc } },
        capacity: { memory },
      };
      const pool = { name: `pool-${p}`, nodes: between(random, 2, 16), devicesPerNode: [gpu] };
      if (random() < 0.4) {
        for (let k = between(random, 1, 3); k > 0; k--) ledger.push({ cluster: name, pool: pool.name, devices: { gpu: between(random, 1, 6) }, owner: `other-${k}` });
      }
      return pool;
    });
    clusters.push({ name, nodePools });
    made += size;
  }
  return { inventory: { clusters }, ledger };
}

const standalone = (name: string, gpus: number, selectors: string[], copies = 1): EngineDemand =>
  ({ name, copies, members: [{ deviceRequests: [{ name: 'gpu', count: gpus, deviceClassName: GPU_CLASS, selectors }] }] });

/** Sub-node engines (2 x 1 GPU anywhere, 2 GPUs on 40Gi+, 4 GPUs on 80Gi+), with or without a 2-node Hopper gang. */
function engines(gang: boolean): EngineDemand[] {
  const sub = [standalone('embed', 1, [], 2), standalone('chat', 2, [MEMORY_40]), standalone('code', 4, [MEMORY_80])];
  if (!gang) return sub;
  const member = (role: 'Leader' | 'Worker') => ({ role, deviceRequests: [{ name: 'gpu', count: GPUS_PER_NODE, deviceClassName: GPU_CLASS, selectors: [HOPPER] }] });
  return [...sub, { name: 'big', members: [member('Leader'), { ...member('Worker'), pods: 1 }] }];
}

function instance(pools: number, seed: number, gang: boolean): Instance {
  const { inventory, ledger } = fleet(pools, prng(seed));
  const free = allPools(inventory).reduce((n, { cluster, pool }) => n + nodeFree(cluster, pool, ledger).reduce((a, b) => a + b, 0), 0);
  const perReplica = (list: EngineDemand[]) => list.reduce((n, e) => n + engineGpus(e), 0);
  // Replicas are capped at inferkit's limit: a large fleet gets more copies of each engine per replica instead.
  const scale = Math.ceil(OVERDEMAND * free / perReplica(engines(gang)) / MAX_OBJECT_COUNT);
  const list = engines(gang).map(e => ({ ...e, copies: (e.copies ?? 1) * scale }));
  const replicas = Math.ceil((OVERDEMAND * free) / perReplica(list));
  return { name: `${pools} pools${gang ? ', gang' : ''}`, inventory, ledger, demand: { name: 'bench', replicas, engines: list } };
}

function allPools(inventory: FleetInventory): Array<{ cluster: string; pool: FleetNodePool }> {
  return inventory.clusters.flatMap(c => c.nodePools.map(pool => ({ cluster: c.name, pool })));
}

/** GPUs of each device-claiming pod of one copy of an engine (every pool here has one device kind). */
function podSizes(engine: EngineDemand): number[] {
  const podGpus = (m: EngineDemand['members'][number]) => (m.deviceRequests ?? []).reduce((n, r) => n + (r.count ?? 1), 0);
  return engine.members.flatMap(m => Array<number>(m.pods ?? 1).fill(podGpus(m))).filter(n => n > 0);
}

function engineGpus(engine: EngineDemand): number {
  return (engine.copies ?? 1) * podSizes(engine).reduce((a, b) => a + b, 0);
}

/** Whether a pool can ever hold an engine: class and selectors match its device, a pod fits a node, the gang has the nodes. */
function admits(engine: EngineDemand, pool: FleetNodePool): boolean {
  const [device] = pool.devicesPerNode;
  const matches = engine.members.every(m => (m.deviceRequests ?? []).every(r =>
    r.deviceClassName === device.deviceClassName && (r.selectors ?? []).every(s => evaluateDeviceSelector(s, device))));
  const sizes = podSizes(engine);
  return matches && sizes.every(s => s <= (device.count ?? 1)) && sizes.length <= pool.nodes;
}

/**
 * Free GPUs of each node of a pool once the ledger is held: entries in the solver's order, each on the node it leaves
 * fullest, or spread over the fullest nodes when no node has room for all of it.
 */
function nodeFree(cluster: string, pool: FleetNodePool, ledger: readonly LedgerEntry[]): number[] {
  const free = Array<number>(pool.nodes).fill(pool.devicesPerNode[0].count ?? 1);
  const key = (e: LedgerEntry) => `${e.owner ?? ''}\u0000${JSON.stringify(Object.entries(e.devices).sort())}`;
  const entries = ledger.filter(e => e.cluster === cluster && e.pool === pool.name)
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  for (const entry of entries) {
    let need = entry.devices.gpu ?? 0;
    const best = bestFit(free, need, new Set());
    if (best >= 0) {
      free[best] -= need;
      continue;
    }
    for (const i of free.map((_, n) => n).filter(n => free[n] > 0).sort((a, b) => free[a] - free[b])) {
      const take = Math.min(free[i], need);
      free[i] -= take;
      need -= take;
    }
  }
  return free;
}

/** The node (not in `taken`) with the fewest free GPUs that still has `gpus`, or -1. */
function bestFit(free: readonly number[], gpus: number, taken: ReadonlySet<number>): number {
  let best = -1;
  free.forEach((f, i) => {
    if (f >= gpus && !taken.has(i) && (best < 0 || f < free[best])) best = i;
  });
  return best;
}

/** Multisets of `sizes` within `capacity` that no further size fits into; each a count per size. */
function patterns(capacity: number, sizes: readonly number[]): number[][] {
  const out: number[][] = [];
  const grow = (i: number, left: number, counts: number[]) => {
    if (i === sizes.length) {
      if (!sizes.some(s => s <= left)) out.push(counts);
      return;
    }
    for (let k = Math.floor(left / sizes[i]); k >= 0; k--) grow(i + 1, left - k * sizes[i], [...counts, k]);
  };
  grow(0, capacity, []);
  return out;
}

interface Optimum {
  readonly status: string;
  readonly replicas: number;
  readonly ms: number;
}

/** Builds the model above in CPLEX LP format; `fixed` pins each x_ep (by its column name) to a placement's counts. */
function model(inst: Instance, fixed?: ReadonlyMap<string, number>): string {
  const list = inst.demand.engines;
  const rows: string[] = [];
  const columns: string[] = [];
  const sum = (terms: string[]) => terms.join(' + ').replace(/\+ -/g, '- ');
  inst.inventory.clusters.forEach((cluster, c) => {
    columns.push(`n${c}`);
    const engineTerms = list.map(() => [] as string[]);
    cluster.nodePools.forEach((pool, p) => {
      const id = `${c}_${p}`;
      const slotDemand = new Map<number, string[]>();
      list.forEach((engine, e) => {
        if (!admits(engine, pool)) return;
        const x = `x${e}_${id}`;
        columns.push(x);
        engineTerms[e].push(x);
        if (fixed) rows.push(`fix_${x}: ${x} = ${fixed.get(x) ?? 0}`);
        const counts = new Map<number, number>();
        podSizes(engine).forEach(s => counts.set(s, (counts.get(s) ?? 0) + (engine.copies ?? 1)));
        counts.forEach((k, s) => slotDemand.set(s, [...(slotDemand.get(s) ?? []), `-${k} ${x}`]));
      });
      if (slotDemand.size === 0) return;
      const sizes = [...slotDemand.keys()].sort((a, b) => b - a);
      const nodes = new Map<number, number>();
      nodeFree(cluster.name, pool, inst.ledger).forEach(f => nodes.set(f, (nodes.get(f) ?? 0) + 1));
      const slotSupply = new Map<number, string[]>();
      for (const [free, count] of nodes) {
        const zs = patterns(free, sizes).filter(q => q.some(k => k > 0)).map((q, i) => {
          const z = `z${id}_${free}_${i}`;
          columns.push(z);
          q.forEach((k, j) => k > 0 && slotSupply.set(sizes[j], [...(slotSupply.get(sizes[j]) ?? []), `${k} ${z}`]));
          return z;
        });
        if (zs.length) rows.push(`nodes_${id}_${free}: ${sum(zs)} <= ${count}`);
      }
      for (const [s, terms] of slotDemand) rows.push(`slots_${id}_${s}: ${sum([...(slotSupply.get(s) ?? []), ...terms])} >= 0`);
    });
    list.forEach((_, e) => rows.push(`pool_${e}_${c}: ${sum([...engineTerms[e], `-1 n${c}`])} = 0`));
  });
  const replicas = inst.inventory.clusters.map((_, c) => `n${c}`);
  rows.push(`demand: ${sum(replicas)} <= ${inst.demand.replicas}`);
  // One term per line: the LP reader does not need it, but a 200-pool row would otherwise be one very long line.
  const wrap = (text: string) => text.replace(/ ([+-]) /g, '\n  $1 ');
  return ['Maximize', ` placed: ${wrap(sum(replicas))}`, 'Subject To', ...rows.map(r => ` ${wrap(r)}`), 'Generals', ...columns.map(v => ` ${v}`), 'End'].join('\n');
}

type Highs = Awaited<ReturnType<typeof loadHighs>>;

function solveModel(highs: Highs, lp: string): Optimum {
  const start = process.hrtime.bigint();
  // Replicas are whole, so a zero relative gap asks HiGHS to prove the optimum, not merely come within 0.01 % of it.
  const result = highs.solve(lp, { output_flag: false, mip_rel_gap: 0, time_limit: 120 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { status: result.Status, replicas: result.Status === 'Optimal' ? Math.round(result.ObjectiveValue) : NaN, ms };
}

/** A placement's replicas per engine and pool, keyed by the model's x column names. */
function poolCounts(inst: Instance, result: PlacementResult): Map<string, number> {
  const clusters = new Map(inst.inventory.clusters.map((c, i) => [c.name, { i, pools: new Map(c.nodePools.map((p, j) => [p.name, j])) }]));
  const engineIndex = new Map(inst.demand.engines.map((e, i) => [e.name, i]));
  const counts = new Map<string, number>();
  for (const a of result.assignments) {
    const cluster = clusters.get(a.cluster)!;
    for (const m of a.members.filter(x => x.member === 0)) {
      const x = `x${engineIndex.get(m.engine)}_${cluster.i}_${cluster.pools.get(m.pool)}`;
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Free GPUs after a placement that no pod of the demand could use: on nodes with fewer free GPUs than the smallest pod
 * of any engine the pool admits. Replays the placement node by node as the solver makes it (replicas by index, largest
 * engine first, each pod best fit, a gang's pods on separate nodes), and throws if a pod does not fit the replay.
 */
function stranded(inst: Instance, result: PlacementResult): number {
  const byName = new Map(inst.demand.engines.map(e => [e.name, e]));
  const order = [...inst.demand.engines].sort((a, b) => engineGpus(b) - engineGpus(a) || (a.name < b.name ? -1 : 1)).map(e => e.name);
  const free = new Map(allPools(inst.inventory).map(({ cluster, pool }) => [`${cluster}/${pool.name}`, nodeFree(cluster, pool, inst.ledger)]));
  for (const a of result.assignments) {
    for (const name of order) {
      const pool = `${a.cluster}/${a.members.find(m => m.engine === name)!.pool}`;
      const nodes = free.get(pool)!;
      const engine = byName.get(name)!;
      for (let copy = 0; copy < (engine.copies ?? 1); copy++) {
        const taken = new Set<number>();
        for (const s of podSizes(engine).sort((x, y) => y - x)) {
          const node = bestFit(nodes, s, taken);
          if (node < 0) throw new Error(`Unable to replay replica ${a.replica}: no node of ${pool} has ${s} GPUs free. Check the replay against solver.ts.`);
          nodes[node] -= s;
          taken.add(node);
        }
      }
    }
  }
  return allPools(inst.inventory).reduce((n, { cluster, pool }) => {
    const smallest = Math.min(...inst.demand.engines.filter(e => admits(e, pool)).flatMap(podSizes));
    return n + free.get(`${cluster}/${pool.name}`)!.filter(f => f < smallest).reduce((a, b) => a + b, 0);
  }, 0);
}

/**
 * Whole node per pod, as Modelplane counts capacity: the same instance with every pod claiming its whole node and every
 * ledger entry holding one, placed by the same solver. Stranded: GPUs of the nodes our pods take that the pods do not use.
 */
function wholeNode(inst: Instance): { unplaced: number; stranded: number } {
  const demand: PlacementDemand = {
    ...inst.demand,
    engines: inst.demand.engines.map(e => ({
      ...e,
      members: e.members.map(m => ({ ...m, deviceRequests: (m.deviceRequests ?? []).map(r => ({ ...r, count: GPUS_PER_NODE })) })),
    })),
  };
  const ledger = inst.ledger.map(e => ({ ...e, devices: { gpu: GPUS_PER_NODE } }));
  const placed = place(demand, inst.inventory, [], ledger).assignments.length;
  const perReplica = inst.demand.engines.reduce((n, e) => n + engineGpus(e), 0);
  const idle = inst.demand.engines.reduce((n, e) => n + (e.copies ?? 1) * podSizes(e).reduce((m, s) => m + GPUS_PER_NODE - s, 0), 0);
  return { unplaced: (inst.demand.replicas - placed) * perReplica, stranded: placed * idle };
}

/** Online instances: pools per instance and a seed. */
const ONLINE_SIZES: ReadonlyArray<[number, number]> = [[4, 31], [10, 37], [20, 41]];
/** Pod sizes of the arriving deployments, and of the earlier ones (spread by the scheduler). */
const ARRIVING_SIZES: readonly number[] = [1, 2, 4, 8];
const EARLIER_SIZES: readonly number[] = [1, 1, 2, 4];
/** The share of the fleet's GPUs the earlier deployments hold. */
const EARLIER_SHARE = 0.35;

interface Arrival {
  readonly name: string;
  /** GPUs per pod. */
  readonly size: number;
  /** Pods (copies of a one-pod engine), all in one pool. */
  readonly copies: number;
}

interface OnlineInstance {
  readonly name: string;
  readonly inventory: FleetInventory;
  /** What the earlier deployments hold, node by node. */
  readonly ledger: readonly LedgerEntry[];
  readonly arrivals: readonly Arrival[];
}

/**
 * One cluster of `pools` pools of 2 to 8 named 8-GPU nodes; earlier pods of 1 to 4 GPUs, each pinned to one of the first
 * half of the pools and placed there by LeastAllocated spreading, until they hold {@link EARLIER_SHARE} of the GPUs; then arrivals of 1 to 4 pods of 1, 2, 4 or 8 GPUs whose
 * GPUs add up to {@link OVERDEMAND} times what is left free.
 */
function onlineInstance(pools: number, seed: number): OnlineInstance {
  const random = prng(seed);
  const gpu: FleetDevice = { name: 'gpu', driver: GPU_CLASS, deviceClassName: GPU_CLASS, count: GPUS_PER_NODE };
  const nodePools: FleetNodePool[] = Array.from({ length: pools }, (_, p) => {
    const nodes = between(random, 2, 8);
    const nodeNames = Array.from({ length: nodes }, (_node, n) => `pool-${p}-node-${n}`);
    return { name: `pool-${p}`, nodes, devicesPerNode: [gpu], nodeNames };
  });
  const free = nodePools.map(p => Array<number>(p.nodes).fill(GPUS_PER_NODE));
  const total = nodePools.reduce((n, p) => n + p.nodes * GPUS_PER_NODE, 0);
  const ledger: LedgerEntry[] = [];
  // The earlier deployments are pinned to half of the pools (rounded up); the others are empty.
  const busy = Math.ceil(pools / 2);
  for (let held = 0; held < EARLIER_SHARE * total;) {
    const size = EARLIER_SIZES[between(random, 0, EARLIER_SIZES.length - 1)];
    const p = between(random, 0, busy - 1);
    // LeastAllocated within the pod's pool: the nodes with the most GPUs free, ties broken at random as the scheduler does.
    const most = Math.max(...free[p]);
    if (most < size) break;
    const top = free[p].map((f, n) => [n, f]).filter(([, f]) => f === most);
    const [n] = top[between(random, 0, top.length - 1)];
    free[p][n] -= size;
    held += size;
    ledger.push({ cluster: 'live', pool: nodePools[p].name, node: nodePools[p].nodeNames![n], devices: { gpu: size }, owner: `earlier-${ledger.length}` });
  }
  const left = free.flat().reduce((a, b) => a + b, 0);
  const arrivals: Arrival[] = [];
  for (let demanded = 0; demanded < OVERDEMAND * left;) {
    const size = ARRIVING_SIZES[between(random, 0, ARRIVING_SIZES.length - 1)];
    const copies = between(random, 1, 4);
    arrivals.push({ name: `arrival-${String(arrivals.length).padStart(3, '0')}`, size, copies });
    demanded += size * copies;
  }
  return { name: `${pools} pools, online`, inventory: { clusters: [{ name: 'live', nodePools }] }, ledger, arrivals };
}

const arrivalGpus = (a: Arrival) => a.size * a.copies;

/** Free GPUs of every node of every pool, by pool, once `ledger` is held on its nodes. */
function freeByNode(inst: OnlineInstance, ledger: readonly LedgerEntry[]): number[][] {
  const pools = inst.inventory.clusters[0].nodePools;
  const free = pools.map(p => Array<number>(p.nodes).fill(GPUS_PER_NODE));
  for (const e of ledger) {
    const p = pools.findIndex(x => x.name === e.pool);
    free[p][pools[p].nodeNames!.indexOf(e.node!)] -= e.devices.gpu;
  }
  return free;
}

/** Unplaced GPUs, and GPUs stranded on nodes too small for any pod of the arrivals left unplaced. */
function outcome(free: readonly number[][], unplaced: readonly Arrival[]): { unplaced: number; stranded: number } {
  const smallest = Math.min(...unplaced.map(a => a.size));
  return {
    unplaced: unplaced.reduce((n, a) => n + arrivalGpus(a), 0),
    stranded: unplaced.length ? free.flat().filter(f => f < smallest).reduce((a, b) => a + b, 0) : 0,
  };
}

/** inferkit online: each arrival placed by the solver on the ledger of the earlier deployments and arrivals, node by node. */
function inferkitOnline(inst: OnlineInstance): { unplaced: number; stranded: number; ms: number } {
  const ledger = [...inst.ledger];
  const unplaced: Arrival[] = [];
  const start = process.hrtime.bigint();
  for (const a of inst.arrivals) {
    const demand: PlacementDemand = { name: a.name, replicas: 1, engines: [standalone('e', a.size, [], a.copies)] };
    const [placed] = place(demand, inst.inventory, [], ledger).assignments;
    if (!placed) {
      unplaced.push(a);
      continue;
    }
    const [member] = placed.members;
    for (const node of member.nodes!) ledger.push({ cluster: placed.cluster, pool: member.pool, node, devices: { gpu: a.size }, owner: a.name });
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ...outcome(freeByNode(inst, ledger), unplaced), ms };
}

/**
 * The model before node-level ledgers, against the real outcome: the solver sees the pools unnamed and every earlier or
 * placed pod as a pool-level ledger entry (held best fit), and its pods are not pinned; a spreading scheduler
 * (LeastAllocated, lowest node index on ties) then runs them on the real nodes. Returns the GPUs of the pods the solver
 * reported placed that the scheduler could not run: Placed and Pending.
 */
function idealisedOnline(inst: OnlineInstance): number {
  const pools = inst.inventory.clusters[0].nodePools;
  const inventory: FleetInventory = { clusters: [{ name: 'live', nodePools: pools.map(p => ({ name: p.name, nodes: p.nodes, devicesPerNode: p.devicesPerNode })) }] };
  const ledger: LedgerEntry[] = inst.ledger.map(e => ({ cluster: e.cluster, pool: e.pool, devices: e.devices, owner: e.owner }));
  const free = freeByNode(inst, inst.ledger);
  let pending = 0;
  for (const a of inst.arrivals) {
    const demand: PlacementDemand = { name: a.name, replicas: 1, engines: [standalone('e', a.size, [], a.copies)] };
    const [placed] = place(demand, inventory, [], ledger).assignments;
    if (!placed) continue;
    const p = pools.findIndex(x => x.name === placed.members[0].pool);
    for (let c = 0; c < a.copies; c++) {
      ledger.push({ cluster: 'live', pool: pools[p].name, devices: { gpu: a.size }, owner: a.name });
      const node = free[p].reduce((best, f, n) => (f >= a.size && (best < 0 || f > free[p][best]) ? n : best), -1);
      if (node < 0) pending += a.size;
      else free[p][node] -= a.size;
    }
  }
  return pending;
}

/**
 * The FGD baseline, online: per pool, each pod of the arrival on the node whose expected fragmentation grows least
 * (fragmentation of a node: its free GPUs, weighted by the share of arriving pods too large for them), and the arrival
 * in the pool where the total growth is least. Ties go to the lower pool and node index.
 */
function fgdOnline(inst: OnlineInstance): { unplaced: number; stranded: number } {
  const pods = inst.arrivals.reduce((n, a) => n + a.copies, 0);
  const popularity = ARRIVING_SIZES.map(s => inst.arrivals.filter(a => a.size === s).reduce((n, a) => n + a.copies, 0) / pods);
  const fragmentation = (f: number) => ARRIVING_SIZES.reduce((n, s, i) => n + (f < s ? popularity[i] * f : 0), 0);
  const free = freeByNode(inst, inst.ledger);
  const unplaced: Arrival[] = [];
  for (const a of inst.arrivals) {
    let best: { pool: number; nodes: number[]; growth: number } | undefined;
    free.forEach((nodes, p) => {
      const trial = [...nodes];
      const chosen: number[] = [];
      let growth = 0;
      for (let c = 0; c < a.copies; c++) {
        let node = -1;
        let delta = Infinity;
        trial.forEach((f, n) => {
          const d = fragmentation(f - a.size) - fragmentation(f);
          if (f >= a.size && d < delta) [node, delta] = [n, d];
        });
        if (node < 0) return;
        trial[node] -= a.size;
        chosen.push(node);
        growth += delta;
      }
      if (!best || growth < best.growth) best = { pool: p, nodes: chosen, growth };
    });
    if (!best) {
      unplaced.push(a);
      continue;
    }
    const { pool, nodes } = best;
    for (const n of nodes) free[pool][n] -= a.size;
  }
  return outcome(free, unplaced);
}

/** The offline optimum's model (above) in CPLEX LP format. */
function onlineModel(inst: OnlineInstance): string {
  const free = freeByNode(inst, inst.ledger);
  const rows: string[] = [];
  const binaries: string[] = [];
  const generals: string[] = [];
  const objective: string[] = [];
  const sum = (terms: string[]) => terms.join(' + ').replace(/\+ -/g, '- ');
  inst.arrivals.forEach((a, d) => {
    const xs = free.map((_, p) => `x${d}_${p}`);
    binaries.push(...xs);
    objective.push(...xs.map(x => `${arrivalGpus(a)} ${x}`));
    rows.push(`one_${d}: ${sum(xs)} <= 1`);
  });
  const sizes = [...ARRIVING_SIZES].sort((a, b) => b - a);
  free.forEach((nodes, p) => {
    const counts = new Map<number, number>();
    nodes.forEach(f => counts.set(f, (counts.get(f) ?? 0) + 1));
    const supply = new Map<number, string[]>();
    for (const [f, count] of counts) {
      const zs = patterns(f, sizes).filter(q => q.some(k => k > 0)).map((q, i) => {
        const z = `z${p}_${f}_${i}`;
        generals.push(z);
        q.forEach((k, j) => k > 0 && supply.set(sizes[j], [...(supply.get(sizes[j]) ?? []), `${k} ${z}`]));
        return z;
      });
      if (zs.length) rows.push(`nodes_${p}_${f}: ${sum(zs)} <= ${count}`);
    }
    for (const s of sizes) {
      const demand = inst.arrivals.map((a, d) => (a.size === s ? `-${a.copies} x${d}_${p}` : '')).filter(Boolean);
      if (demand.length) rows.push(`slots_${p}_${s}: ${sum([...(supply.get(s) ?? []), ...demand])} >= 0`);
    }
  });
  const wrap = (text: string) => text.replace(/ ([+-]) /g, '\n  $1 ');
  return ['Maximize', ` placed: ${wrap(sum(objective))}`, 'Subject To', ...rows.map(r => ` ${wrap(r)}`),
    'Binaries', ...binaries.map(v => ` ${v}`), 'Generals', ...generals.map(v => ` ${v}`), 'End'].join('\n');
}

/** The online table; returns the failures against the bar. */
function onlineTable(highs: Highs): string[] {
  const failures: string[] = [];
  console.log('\nOnline arrivals on a spread ledger (named nodes, 1/2/4/8-GPU pods): unplaced GPUs against the offline ILP optimum '
    + `and an FGD-style fragmentation-aware baseline; bar: gap <= ${MAX_GAP_PERCENT} % (largest first)`);
  console.log('| instance         | nodes | earlier pods | arrivals | GPUs demanded | inferkit unplaced | ILP unplaced | gap % | ILP status '
    + '| FGD unplaced | FGD gap % | largest first unplaced | largest first gap % | inferkit stranded | FGD stranded | pool-level model: Placed and Pending | inferkit ms | ILP ms |');
  console.log('|------------------|------:|-------------:|---------:|--------------:|------------------:|-------------:|------:|------------'
    + '|-------------:|----------:|-----------------------:|--------------------:|------------------:|-------------:|-------------------------------------:|------------:|-------:|');
  for (const [pools, seed] of ONLINE_SIZES) {
    const inst = onlineInstance(pools, seed);
    const demanded = inst.arrivals.reduce((n, a) => n + arrivalGpus(a), 0);
    const ours = inferkitOnline(inst);
    const fgd = fgdOnline(inst);
    const optimum = solveModel(highs, onlineModel(inst));
    // The optimum is in GPUs placed here (arrivals differ in size).
    const optimumUnplaced = demanded - optimum.replicas;
    const largestFirst = inferkitOnline({ ...inst, arrivals: [...inst.arrivals].sort((a, b) => arrivalGpus(b) - arrivalGpus(a)) });
    const gapOf = (unplaced: number) => ((unplaced - optimumUnplaced) / demanded) * 100;
    const [gap, fgdGap, sortedGap] = [gapOf(ours.unplaced), gapOf(fgd.unplaced), gapOf(largestFirst.unplaced)];
    if (optimum.status !== 'Optimal') failures.push(`${inst.name}: HiGHS did not prove optimality (${optimum.status})`);
    else if (sortedGap > MAX_GAP_PERCENT) failures.push(`${inst.name}: gap ${sortedGap.toFixed(2)} % (largest first) exceeds ${MAX_GAP_PERCENT} %`);
    if (ours.unplaced > fgd.unplaced) failures.push(`${inst.name}: in arrival order inferkit leaves ${ours.unplaced} GPUs unplaced, FGD ${fgd.unplaced}`);
    const nodes = inst.inventory.clusters[0].nodePools.reduce((n, p) => n + p.nodes, 0);
    const cells = [
      inst.name.padEnd(16), String(nodes).padStart(5), String(inst.ledger.length).padStart(12), String(inst.arrivals.length).padStart(8),
      String(demanded).padStart(13), String(ours.unplaced).padStart(17), String(optimumUnplaced).padStart(12), gap.toFixed(2).padStart(5),
      optimum.status.padEnd(10), String(fgd.unplaced).padStart(12), fgdGap.toFixed(2).padStart(9),
      String(largestFirst.unplaced).padStart(22), sortedGap.toFixed(2).padStart(19), String(ours.stranded).padStart(17),
      String(fgd.stranded).padStart(12), String(idealisedOnline(inst)).padStart(36),
      ours.ms.toFixed(0).padStart(11), optimum.ms.toFixed(0).padStart(6),
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  return failures;
}

async function main(): Promise<void> {
  const highs = await loadHighs();
  const failures: string[] = [];
  console.log(`Unplaced GPUs: inferkit's solver against the ILP optimum (HiGHS) and a whole-node-per-pod baseline; bar: gap <= ${MAX_GAP_PERCENT} %`);
  console.log('| instance        | clusters | replicas | GPUs demanded | inferkit unplaced | ILP unplaced | gap % | ILP status '
    + '| whole-node unplaced | whole-node stranded | inferkit stranded | inferkit ms | ILP ms |');
  console.log('|-----------------|---------:|---------:|--------------:|------------------:|-------------:|------:|------------'
    + '|--------------------:|--------------------:|------------------:|------------:|-------:|');
  for (const [pools, seed] of SIZES) {
    for (const gang of [false, true]) {
      const inst = instance(pools, seed, gang);
      if (inst.demand.engines.some(e => podSizes(e).length > 1 && podSizes(e).some(s => s < GPUS_PER_NODE))) {
        throw new Error(`Unable to model ${inst.name}: a gang has sub-node pods, which the model does not keep on separate nodes. `
          + 'Give gang pods whole nodes.');
      }
      const perReplica = inst.demand.engines.reduce((n, e) => n + engineGpus(e), 0);
      const demanded = inst.demand.replicas * perReplica;

      const start = process.hrtime.bigint();
      const result = place(inst.demand, inst.inventory, [], inst.ledger);
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const unplaced = result.unplaced.length * perReplica;
      const optimum = solveModel(highs, model(inst));
      const optimumUnplaced = (inst.demand.replicas - optimum.replicas) * perReplica;

      // The model must admit the solver's own placement, or it is stricter than the solver and its optimum means nothing.
      const own = solveModel(highs, model(inst, poolCounts(inst, result)));
      if (own.status !== 'Optimal' || own.replicas !== result.assignments.length) {
        failures.push(`${inst.name}: the model does not admit the solver's placement (${own.status}); the model and the solver disagree on the rules`);
      }
      const gap = ((unplaced - optimumUnplaced) / demanded) * 100;
      if (optimum.status !== 'Optimal') failures.push(`${inst.name}: HiGHS did not prove optimality (${optimum.status})`);
      else if (gap > MAX_GAP_PERCENT) failures.push(`${inst.name}: gap ${gap.toFixed(2)} % exceeds ${MAX_GAP_PERCENT} %`);
      const baseline = wholeNode(inst);

      const cells = [
        inst.name.padEnd(15), String(inst.inventory.clusters.length).padStart(8),
        String(inst.demand.replicas).padStart(8), String(demanded).padStart(13),
        String(unplaced).padStart(17), String(optimumUnplaced).padStart(12), gap.toFixed(2).padStart(5), optimum.status.padEnd(10),
        String(baseline.unplaced).padStart(19), String(baseline.stranded).padStart(19), String(stranded(inst, result)).padStart(17),
        ms.toFixed(0).padStart(11), optimum.ms.toFixed(0).padStart(6),
      ];
      console.log(`| ${cells.join(' | ')} |`);
    }
  }
  failures.push(...onlineTable(highs));
  if (failures.length) {
    console.error(`\nAcceptance bar not met:\n${failures.map(f => `- ${f}`).join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch(error => {
  console.error(error);
  process.exitCode = 1;
});
