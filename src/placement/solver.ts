/**
 * The placement solver: which cluster, and which node pool per engine member, each replica of a deployment runs on.
 *
 * Order, as in the design card (§6): retain every existing assignment that still holds, so a healthy replica never
 * moves; scale down by removing the highest index from the most loaded cluster; fill the shortfall, spreading over
 * clusters (fewest replicas of the deployment first) and packing within one (fullest fitting pool first, best-fit
 * node). Scale-down chooses among the replicas that still hold before their devices are counted, so a removed
 * replica never holds devices. All pods of an engine, every copy, share one pool. Capacity is counted in devices,
 * node by node: a pod's devices come from one node, and the device-claiming pods of one engine copy (its gang) each
 * take their own node. Nothing is overcommitted, other deployments' ledger entries included. Every choice breaks ties
 * by name, so the same input gives the same output.
 *
 * In a pool whose nodes are named (read live), the ledger's entries are held on their own nodes, every placed pod's
 * node is recorded in its member's assignment (the replica's pods are pinned there), and a retained replica is held on
 * those nodes again. Elsewhere state holds pools, not nodes: retained replicas are held again in the order they were
 * placed (index, then largest engine first), which lands them on the same nodes as long as the pool and the ledger are
 * unchanged.
 */
import { Issues } from '../errors';
import { compareStrings } from '../hash';
import { fitPod, GangPod, PodShape, podShape, PoolCapacity } from './_capacity';
import { compileDeviceSelector, DeviceSelector } from './cel';
import {
  clusterSelectorMismatch, describeTaint, DeviceRequestDemand, FleetCluster, FleetDevice, FleetInventory, FleetNodePool, LedgerEntry,
  MemberAssignment, PlacementDemand, PlacementRejection, PlacementResult, RejectionReason, ReplicaAssignment, toleratesTaint, UnplacedReplica,
  validateDemand, validateInventory,
} from './inventory';

/** Pool choices tried for one replica in one cluster before it counts as not fitting there. */
const SEARCH_BUDGET = 64;

/**
 * Places `demand.replicas` replicas on the fleet.
 *
 * @param existing the assignments of the last run (its `assignments`), retained where they still hold
 * @param ledger devices other deployments hold; entries owned by `demand.name` are ignored
 * @throws SpecError when the demand or the inventory is invalid (every problem at once)
 */
export function place(
  demand: PlacementDemand,
  inventory: FleetInventory,
  existing: readonly ReplicaAssignment[] = [],
  ledger: readonly LedgerEntry[] = [],
): PlacementResult {
  const issues = new Issues(`ModelDeployment/${demand.name}`);
  validateDemand(issues, demand);
  validateExisting(issues, existing);
  issues.throwIfAny();
  const fleet = new Issues('Inventory');
  validateInventory(fleet, inventory);
  fleet.throwIfAny();
  return new Solver(demand, inventory, ledger).run(existing);
}

function validateExisting(issues: Issues, existing: readonly ReplicaAssignment[]): void {
  const seen = new Set<number>();
  existing.forEach((a, i) => {
    if (issues.check(Number.isSafeInteger(a.replica) && a.replica >= 0, `existing[${i}].replica`, a.replica, 'is not a replica index', 'Feed back the assignments unchanged')) {
      issues.check(!seen.has(a.replica), `existing[${i}].replica`, a.replica, 'is assigned twice', 'Feed back the assignments unchanged');
      seen.add(a.replica);
    }
  });
}

const byName = compareStrings;

interface ResolvedRequest {
  readonly name: string;
  readonly count: number;
  readonly deviceClassName?: string;
  readonly selectors: readonly DeviceSelector[];
}

interface ResolvedMember {
  readonly index: number;
  readonly role: string;
  readonly pods: number;
  readonly requests: readonly ResolvedRequest[];
}

interface ResolvedEngine {
  readonly index: number;
  readonly name: string;
  readonly copies: number;
  readonly members: readonly ResolvedMember[];
}

/** A member resolved against one pool: its pod shape, or why the pool cannot hold it. */
type MemberFit = { readonly ok: true; readonly pods: number; readonly pod: PodShape } | Refusal;

/** An engine resolved against one pool. */
type EngineFit = EngineShape | Refusal;

/** An engine resolved against a pool that can hold it: its members' pods, and the device kinds they may use. */
interface EngineShape {
  readonly ok: true;
  readonly members: ReadonlyArray<{ readonly pods: number; readonly pod: PodShape }>;
  readonly kinds: readonly number[];
}

/** Pods of one member in a gang, and where a retained replica's pods already are (copy by copy). */
interface GangMember {
  readonly pods: number;
  readonly pod: PodShape;
  readonly nodes?: readonly string[];
}

interface Refusal {
  readonly ok: false;
  readonly reason: RejectionReason;
  readonly message: string;
}

class PoolState {
  /** Device kinds by name; a pod shape refers to them by index. */
  public readonly kinds: readonly FleetDevice[];
  public readonly perNode: readonly number[];
  public readonly capacity: PoolCapacity;
  public readonly heldByOthers: number[];
  public readonly heldByUs: number[];
  private readonly memberFits = new Map<string, MemberFit>();
  private readonly engineFits = new Map<number, EngineFit>();
  private readonly contentions = new Map<number, number>();

  constructor(public readonly cluster: string, public readonly pool: FleetNodePool) {
    this.kinds = [...pool.devicesPerNode].sort((a, b) => byName(a.name, b.name));
    this.perNode = this.kinds.map(d => d.count ?? 1);
    this.capacity = new PoolCapacity(pool, this.perNode);
    this.heldByOthers = this.kinds.map(() => 0);
    this.heldByUs = this.kinds.map(() => 0);
  }

  public get name(): string {
    return this.pool.name;
  }

  public memberFit(engine: ResolvedEngine, member: ResolvedMember): MemberFit {
    const key = `${engine.index}:${member.index}`;
    let result = this.memberFits.get(key);
    if (!result) {
      result = this.resolveMember(engine, member);
      this.memberFits.set(key, result);
    }
    return result;
  }

  /** How many of `engines` besides `engine` the pool could hold: fixed for a pool, so counted once. */
  public contention(engine: ResolvedEngine, engines: readonly ResolvedEngine[]): number {
    let n = this.contentions.get(engine.index);
    if (n === undefined) {
      n = engines.reduce((sum, o) => sum + (o !== engine && this.engineFit(o).ok ? 1 : 0), 0);
      this.contentions.set(engine.index, n);
    }
    return n;
  }

  public engineFit(engine: ResolvedEngine): EngineFit {
    let result = this.engineFits.get(engine.index);
    if (!result) {
      result = this.resolveEngine(engine);
      this.engineFits.set(engine.index, result);
    }
    return result;
  }

  /**
   * Places every copy of an engine whose members are in this pool, counting the devices as ours: `copies` gangs of
   * `members` (each its pods, on the given nodes when `nodes` is set). Returns the nodes of each member's pods, copy by
   * copy, where the pool names its nodes and the pods claim devices; undefined when a copy does not fit (the caller
   * undoes the copies placed before it).
   */
  public placeCopies(copies: number, members: readonly GangMember[]): Array<string[] | undefined> | undefined {
    const before = [...this.capacity.freeTotal];
    const placed: Array<Array<string | undefined>> = [];
    for (let c = 0; c < copies; c++) {
      const gang = members.flatMap(m => Array.from({ length: m.pods }, (_, p): GangPod => {
        const node = m.nodes?.[c * m.pods + p];
        return node === undefined ? { pod: m.pod } : { pod: m.pod, nodes: new Set([node]) };
      }));
      const nodes = this.capacity.placeGang(gang);
      if (!nodes) return undefined;
      placed.push(nodes);
    }
    before.forEach((f, k) => (this.heldByUs[k] += f - this.capacity.freeTotal[k]));
    let offset = 0;
    return members.map(m => {
      const start = offset;
      offset += m.pods;
      if (!this.pool.nodeNames || m.pod.devices === 0) return undefined;
      return placed.flatMap(copy => copy.slice(start, start + m.pods) as string[]);
    });
  }

  public snapshot(): () => void {
    const state = this.capacity.snapshot();
    const us = [...this.heldByUs];
    return () => {
      this.capacity.restore(state);
      us.forEach((n, k) => (this.heldByUs[k] = n));
    };
  }

  private resolveMember(engine: ResolvedEngine, member: ResolvedMember): MemberFit {
    const requests = [];
    for (const request of member.requests) {
      const kinds: number[] = [];
      const why: string[] = [];
      this.kinds.forEach((device, k) => {
        const refusal = deviceRefusal(device, request);
        if (refusal) why.push(refusal); else kinds.push(k);
      });
      if (kinds.length === 0) {
        const detail = why.length ? why.join('; ') : 'the pool has no devices';
        return refuse('DeviceNotMatched', `no device matches request '${request.name}' of ${describeMember(engine, member)}: ${detail}`);
      }
      requests.push({ count: request.count, kinds });
    }
    const pod = podShape(requests);
    if (pod.devices > 0 && !fitPod(this.perNode, pod)) {
      const wanted = member.requests.map(r => `${plural(r.count, 'device')} for request '${r.name}'`).join(' and ');
      const has = requests.map((r, i) => `${r.kinds.reduce((n, k) => n + this.perNode[k], 0)} matching '${member.requests[i].name}'`).join(', ');
      return refuse('TooFewDevicesPerNode', `a pod of ${describeMember(engine, member)} needs ${wanted} on one node; a node has ${has}`);
    }
    return { ok: true, pods: member.pods, pod };
  }

  private resolveEngine(engine: ResolvedEngine): EngineFit {
    const members = [];
    const kinds = new Set<number>();
    for (const member of engine.members) {
      const m = this.memberFit(engine, member);
      if (!m.ok) return m;
      members.push({ pods: m.pods, pod: m.pod });
      m.pod.requests.forEach(r => r.kinds.forEach(k => kinds.add(k)));
    }
    const gang = members.reduce((n, m) => n + (m.pod.devices > 0 ? m.pods : 0), 0);
    if (this.pool.nodes < Math.max(1, gang)) {
      return refuse('TooFewNodes', `engine '${engine.name}' runs ${plural(gang, 'device-claiming pod')} of a gang on separate nodes; the pool has ${plural(this.pool.nodes, 'node')}`);
    }
    return { ok: true, members, kinds: [...kinds].sort((a, b) => a - b) };
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function refuse(reason: RejectionReason, message: string): Refusal {
  return { ok: false, reason, message };
}

function describeMember(engine: ResolvedEngine, member: ResolvedMember): string {
  return `engine '${engine.name}' member ${member.index} (${member.role})`;
}

/** Why a device cannot serve a request: another class, or the first selector it fails. */
function deviceRefusal(device: FleetDevice, request: ResolvedRequest): string | undefined {
  if (!device.deviceClassName || (request.deviceClassName !== undefined && device.deviceClassName !== request.deviceClassName)) {
    const wanted = request.deviceClassName === undefined ? 'claimable' : `'${request.deviceClassName}'`;
    return `device '${device.name}' is of class ${device.deviceClassName ? `'${device.deviceClassName}'` : 'none (not claimable)'}, not ${wanted}`;
  }
  for (const [i, selector] of request.selectors.entries()) {
    const outcome = selector.matches(device);
    if (!outcome.matched) {
      const error = outcome.error ? ` (${outcome.error})` : '';
      return `device '${device.name}' fails selector ${i} ${JSON.stringify(selector.expression)}${error}`;
    }
  }
  return undefined;
}

interface ClusterState {
  readonly cluster: FleetCluster;
  readonly pools: ReadonlyMap<string, PoolState>;
  /** Pools by name. */
  readonly poolList: readonly PoolState[];
  /** Replicas of this deployment on the cluster. */
  count: number;
  /** Why no new replica may go there, whatever its capacity. */
  readonly refusals: readonly PlacementRejection[];
  /** Why the last replica tried did not fit; once set, the cluster takes no more in this run. */
  full?: readonly PlacementRejection[];
}

interface Displaced {
  readonly replica: number;
  readonly cluster: string;
  readonly reason: string;
}

class Solver {
  private readonly engines: readonly ResolvedEngine[];
  /** Largest engines first: the order engines are placed in, and held again in, so that a replay lands alike. */
  private readonly placementOrder: readonly ResolvedEngine[];
  private readonly clusters = new Map<string, ClusterState>();
  private readonly clusterList: ClusterState[];

  constructor(private readonly demand: PlacementDemand, inventory: FleetInventory, ledger: readonly LedgerEntry[]) {
    this.engines = demand.engines.map((e, index) => ({
      index,
      name: e.name,
      copies: e.copies ?? 1,
      members: e.members.map((m, i) => ({
        index: i,
        role: m.role ?? 'Standalone',
        pods: m.pods ?? 1,
        requests: (m.deviceRequests ?? []).map(r => resolveRequest(r)),
      })),
    }));
    this.placementOrder = [...this.engines].sort((a, b) => engineDevices(b) - engineDevices(a) || byName(a.name, b.name));
    const sorted = [...inventory.clusters].sort((a, b) => byName(a.name, b.name));
    this.clusterList = sorted.map(cluster => {
      const poolList = [...cluster.nodePools].sort((a, b) => byName(a.name, b.name)).map(p => new PoolState(cluster.name, p));
      const state: ClusterState = {
        cluster,
        pools: new Map(poolList.map(p => [p.name, p])),
        poolList,
        count: 0,
        refusals: this.clusterRefusals(cluster),
      };
      this.clusters.set(cluster.name, state);
      return state;
    });
    this.holdLedger(ledger);
  }

  public run(existing: readonly ReplicaAssignment[]): PlacementResult {
    const retained = new Map<number, ReplicaAssignment>();
    const displaced: Displaced[] = [];
    const removed: number[] = [];
    const ordered = [...existing].sort((a, b) => a.replica - b.replica);

    // 1. Retain what still holds, apart from capacity.
    for (const a of ordered) {
      const why = this.noLongerHolds(a);
      if (why) displaced.push({ replica: a.replica, cluster: a.cluster, reason: why });
      else retained.set(a.replica, a);
    }

    // 2. Scale down: the highest index on the most loaded cluster.
    const load = new Map<string, number[]>();
    for (const a of retained.values()) load.set(a.cluster, [...(load.get(a.cluster) ?? []), a.replica]);
    while (retained.size > this.demand.replicas) {
      let most: [string, number[]] | undefined;
      for (const entry of load) {
        if (!most || entry[1].length > most[1].length || (entry[1].length === most[1].length && entry[0] < most[0])) most = entry;
      }
      const victim = most![1].pop()!;
      retained.delete(victim);
      removed.push(victim);
    }

    // 3. Hold the retained replicas' devices, lowest index first; one that no longer fits is placed again.
    const assignments = new Map<number, ReplicaAssignment>();
    for (const a of [...retained.values()].sort((x, y) => x.replica - y.replica)) {
      const cs = this.clusters.get(a.cluster)!;
      // An unreachable cluster's replicas stay pinned; their devices are held where the inventory still has room.
      const held = this.hold(cs, a.members);
      if (held || cs.cluster.unreachable) {
        const state = cs.cluster.unreachable ? 'Degraded' : 'Retained';
        const members = held ?? this.inDemandOrder(a.members).map(m => memberAt(m, m.nodes));
        assignments.set(a.replica, { replica: a.replica, cluster: a.cluster, members, state });
        cs.count++;
      } else {
        displaced.push({ replica: a.replica, cluster: a.cluster, reason: `its pools no longer have room: ${this.shortage(cs, a.members)}` });
      }
    }

    // 4. Fill the shortfall: displaced replicas first (they keep their index), then the lowest free indices.
    displaced.sort((a, b) => a.replica - b.replica);
    const wanted = Math.max(0, this.demand.replicas - assignments.size);
    const moving = displaced.slice(0, wanted);
    removed.push(...displaced.slice(wanted).map(d => d.replica));
    const taken = new Set([...assignments.keys(), ...displaced.map(d => d.replica)]);
    const indices = moving.map(d => d.replica);
    for (let i = 0; indices.length < wanted; i++) if (!taken.has(i)) indices.push(i);
    const from = new Map(moving.map(d => [d.replica, d]));

    const unplaced: UnplacedReplica[] = [];
    const heap = new ClusterHeap(this.clusterList.filter(cs => cs.refusals.length === 0));
    // Once no cluster takes a replica, none takes a later one: they all share the reasons.
    let exhausted: readonly PlacementRejection[] | undefined;
    for (const replica of indices.sort((a, b) => a - b)) {
      const previous = from.get(replica);
      const placed = exhausted ? undefined : this.fill(heap);
      if (placed) {
        assignments.set(replica, {
          replica,
          cluster: placed.cluster,
          members: placed.members,
          state: previous ? 'Moved' : 'Placed',
          ...(previous ? { movedFrom: { cluster: previous.cluster, reason: previous.reason } } : {}),
        });
      } else {
        exhausted ??= this.clusterList.flatMap(cs => cs.refusals.length ? cs.refusals : cs.full ?? []);
        unplaced.push({
          replica,
          rejections: exhausted,
          ...(previous ? { movedFrom: { cluster: previous.cluster, reason: previous.reason } } : {}),
        });
      }
    }

    return {
      assignments: [...assignments.values()].sort((a, b) => a.replica - b.replica),
      unplaced,
      removed: removed.sort((a, b) => a - b),
    };
  }

  /** Why an existing assignment no longer holds, capacity aside; undefined when it does. */
  private noLongerHolds(a: ReplicaAssignment): string | undefined {
    const cs = this.clusters.get(a.cluster);
    if (!cs) return `cluster ${a.cluster} is no longer in the inventory`;
    if (cs.cluster.unreachable) return undefined;
    const drain = (cs.cluster.taints ?? []).find(t => t.effect === 'NoExecute' && !toleratesTaint(this.demand.tolerations ?? [], t));
    if (drain) return `taint ${describeTaint(drain)} drains cluster ${a.cluster}`;
    const mismatch = clusterSelectorMismatch(this.demand.clusterSelector, cs.cluster.labels ?? {});
    if (mismatch) return `cluster ${a.cluster} no longer matches the clusterSelector: ${mismatch}`;
    return this.memberProblem(cs, a.members);
  }

  /** Why an assignment's members do not fit the deployment or their pools (devices per node aside); undefined when they do. */
  private memberProblem(cs: ClusterState, members: readonly MemberAssignment[]): string | undefined {
    const expected = this.engines.flatMap(e => e.members.map(m => `${e.name}/${m.index}`));
    const given = members.map(m => `${m.engine}/${m.member}`);
    if (expected.length !== given.length || expected.some(k => !given.includes(k))) {
      return `its members (${given.join(', ')}) are not the deployment's (${expected.join(', ')})`;
    }
    for (const m of members) {
      const pool = cs.pools.get(m.pool);
      if (!pool) return `pool ${m.pool} is no longer in cluster ${cs.cluster.name}`;
      const engine = this.engines.find(e => e.name === m.engine)!;
      const fits = pool.memberFit(engine, engine.members[m.member]);
      if (!fits.ok) return `pool ${m.pool}: ${fits.message}`;
      const names = pool.pool.nodeNames;
      const gone = names && (m.nodes ?? []).find(n => !names.includes(n));
      if (gone) return `node ${gone} is no longer a Ready, schedulable node of pool ${m.pool}`;
    }
    return undefined;
  }

  /** Members in engine, then member order. */
  private inDemandOrder(members: readonly MemberAssignment[]): MemberAssignment[] {
    const rank = (m: MemberAssignment) => this.engines.findIndex(e => e.name === m.engine) * 1000 + m.member;
    return [...members].sort((a, b) => rank(a) - rank(b));
  }

  /**
   * Holds an assignment's devices in its pools, each pod on its recorded node where there is one: the members as
   * held (their nodes recorded where they were), or undefined (holding nothing) when they do not fit.
   */
  private hold(cs: ClusterState, members: readonly MemberAssignment[]): MemberAssignment[] | undefined {
    if (this.memberProblem(cs, members)) return undefined;
    const pools = [...new Set(members.map(m => m.pool))].map(p => cs.pools.get(p)!);
    const undo = pools.map(p => p.snapshot());
    const held: MemberAssignment[] = [];
    for (const engine of this.placementOrder) {
      const byPool = new Map<string, Array<{ assigned: MemberAssignment; gang: GangMember }>>();
      for (const m of members.filter(x => x.engine === engine.name)) {
        const fits = cs.pools.get(m.pool)!.memberFit(engine, engine.members[m.member]);
        if (!fits.ok) {
          undo.forEach(u => u());
          return undefined;
        }
        // Recorded nodes pin the pods only while they still describe every pod (copies may have changed) of a pool that
        // names its nodes (a pool declared now has none to hold them on).
        const named = cs.pools.get(m.pool)!.pool.nodeNames !== undefined;
        const nodes = named && m.nodes?.length === engine.copies * fits.pods ? m.nodes : undefined;
        byPool.set(m.pool, [...(byPool.get(m.pool) ?? []), { assigned: m, gang: { pods: fits.pods, pod: fits.pod, nodes } }]);
      }
      for (const [pool, entries] of [...byPool.entries()].sort(([a], [b]) => byName(a, b))) {
        const nodes = cs.pools.get(pool)!.placeCopies(engine.copies, entries.map(e => e.gang));
        if (!nodes) {
          undo.forEach(u => u());
          return undefined;
        }
        // A replica recorded without nodes (placed on a declared pool) keeps running where it is: it is not pinned now.
        entries.forEach(({ assigned }, i) => held.push(memberAt(assigned, assigned.nodes && nodes[i])));
      }
    }
    return this.inDemandOrder(held);
  }

  /** What is short in the pools of an assignment that no longer fits. */
  private shortage(cs: ClusterState, members: readonly MemberAssignment[]): string {
    const parts: string[] = [];
    for (const pool of [...new Set(members.map(m => m.pool))].sort(byName)) {
      const state = cs.pools.get(pool)!;
      const free = state.capacity.freeTotal.reduce((a, b) => a + b, 0);
      const others = state.heldByOthers.reduce((a, b) => a + b, 0);
      parts.push(`pool ${pool} has ${free} devices free (${others} held by other deployments)`);
    }
    return parts.join('; ');
  }

  /** Places one new replica: the least loaded cluster it fits in. */
  private fill(heap: ClusterHeap): { cluster: string; members: MemberAssignment[] } | undefined {
    for (;;) {
      const cs = heap.pop();
      if (!cs) return undefined;
      const members = this.placeInCluster(cs);
      if (members) {
        cs.count++;
        heap.push(cs);
        return { cluster: cs.cluster.name, members };
      }
      cs.full = this.capacityRefusals(cs);
    }
  }

  /**
   * Chooses a pool per engine (largest engines first), with bounded backtracking. Pools are tried least contended
   * first (those admitting the fewest other engines of the deployment), then fullest first: an engine that can run
   * anywhere leaves the scarce pools to the engines whose selectors need them. Fullest-first alone let unrestricted
   * engines follow a restricted one into its pools and strand the others (up to 15 % more GPUs unplaced than the
   * ILP optimum in bench/optimality.bench.ts).
   */
  private placeInCluster(cs: ClusterState): MemberAssignment[] | undefined {
    const engines = this.placementOrder;
    const chosen = new Map<number, { pool: string; nodes: Array<string[] | undefined> }>();
    let budget = SEARCH_BUDGET;
    const search = (i: number): boolean => {
      if (i === engines.length) return true;
      const engine = engines[i];
      const candidates = cs.poolList
        .map(pool => ({ pool, fits: pool.engineFit(engine) }))
        .filter((c): c is { pool: PoolState; fits: EngineShape } => c.fits.ok)
        .map(c => ({
          ...c,
          free: c.fits.kinds.reduce((n, k) => n + c.pool.capacity.freeTotal[k], 0),
          others: c.pool.contention(engine, engines),
        }))
        .sort((a, b) => a.others - b.others || a.free - b.free || byName(a.pool.name, b.pool.name));
      for (const { pool, fits } of candidates) {
        if (budget-- <= 0) return false;
        const undo = pool.snapshot();
        const nodes = pool.placeCopies(engine.copies, fits.members);
        if (nodes) {
          chosen.set(engine.index, { pool: pool.name, nodes });
          if (search(i + 1)) return true;
        }
        undo();
      }
      return false;
    };
    if (!search(0)) return undefined;
    return this.engines.flatMap(e => e.members.map(m => {
      const { pool, nodes } = chosen.get(e.index)!;
      return memberAt({ engine: e.name, member: m.index, pool }, nodes[m.index]);
    }));
  }

  /** Why a cluster takes no new replica whatever its capacity: unreachable, not selected, a taint, no pools. */
  private clusterRefusals(cluster: FleetCluster): PlacementRejection[] {
    const reject = (reason: RejectionReason, message: string): PlacementRejection[] => [{ cluster: cluster.name, reason, message }];
    if (cluster.unreachable) return reject('ClusterUnreachable', `cluster ${cluster.name} is unreachable: it keeps its replicas and takes no new ones`);
    const mismatch = clusterSelectorMismatch(this.demand.clusterSelector, cluster.labels ?? {});
    if (mismatch) return reject('ClusterSelectorNotMatched', `cluster ${cluster.name} does not match the clusterSelector: ${mismatch}`);
    const taint = (cluster.taints ?? []).find(t => !toleratesTaint(this.demand.tolerations ?? [], t));
    if (taint) return reject('TaintNotTolerated', `taint ${describeTaint(taint)} of cluster ${cluster.name} is not tolerated`);
    if (cluster.nodePools.length === 0) return reject('NoNodePools', `cluster ${cluster.name} has no node pools`);
    return [];
  }

  /** Why a replica does not fit a cluster now: per pool and engine, the static reason or what capacity is short. */
  private capacityRefusals(cs: ClusterState): PlacementRejection[] {
    const out: PlacementRejection[] = [];
    const fitsSomewhere = new Set<number>();
    for (const pool of cs.poolList) {
      for (const engine of this.engines) {
        const fits = pool.engineFit(engine);
        const base = { cluster: cs.cluster.name, pool: pool.name, engine: engine.name };
        if (!fits.ok) {
          out.push({ ...base, reason: fits.reason, message: fits.message });
          continue;
        }
        const undo = pool.snapshot();
        const alone = pool.placeCopies(engine.copies, fits.members) !== undefined;
        undo();
        if (alone) fitsSomewhere.add(engine.index);
        else out.push({ ...base, reason: 'InsufficientCapacity', message: this.capacityMessage(pool, engine, fits) });
      }
    }
    if (fitsSomewhere.size === this.engines.length) {
      out.push({
        cluster: cs.cluster.name,
        reason: 'InsufficientCapacity',
        message: `each engine fits a pool of cluster ${cs.cluster.name} alone, but the engines (${this.engines.map(e => e.name).join(', ')}) do not fit together`,
      });
    }
    return out;
  }

  private capacityMessage(pool: PoolState, engine: ResolvedEngine, fits: EngineShape): string {
    const sum = (values: readonly number[]) => fits.kinds.reduce((n, k) => n + values[k], 0);
    const needed = engine.copies * fits.members.reduce((n, m) => n + m.pods * m.pod.devices, 0);
    const largest = fits.members.reduce((a, m) => (m.pod.devices > a.devices ? m.pod : a), fits.members[0].pod);
    const total = sum(pool.perNode) * pool.pool.nodes;
    return `engine '${engine.name}' needs ${plural(needed, 'device')} (${engine.copies} ${engine.copies === 1 ? 'copy' : 'copies'} of ${describeGang(fits)}); `
      + `${sum(pool.capacity.freeTotal)} of the pool's ${total} matching devices are free (${sum(pool.heldByOthers)} held by other deployments, `
      + `${sum(pool.heldByUs)} by this one), and ${plural(pool.capacity.nodesWithRoom(largest), 'node')} ${pool.capacity.nodesWithRoom(largest) === 1 ? 'has' : 'have'} room for a pod of ${largest.devices}`;
  }

  /** Holds other workloads' devices: entries on a named node first, then the others best fit around them. */
  private holdLedger(ledger: readonly LedgerEntry[]): void {
    const entries = ledger
      .filter(e => e.owner !== this.demand.name)
      .map(e => ({ e, key: `${e.cluster}\u0000${e.pool}\u0000${e.node === undefined ? '1' : `0${e.node}`}\u0000${e.owner ?? ''}\u0000${JSON.stringify(Object.entries(e.devices).sort(([a], [b]) => byName(a, b)))}` }))
      .sort((a, b) => byName(a.key, b.key));
    for (const { e } of entries) {
      const pool = this.clusters.get(e.cluster)?.pools.get(e.pool);
      if (!pool) continue;
      const devices = pool.kinds.map(d => Math.max(0, Math.floor(e.devices[d.name] ?? 0)));
      const before = [...pool.capacity.freeTotal];
      pool.capacity.hold(devices, e.node);
      before.forEach((f, k) => (pool.heldByOthers[k] += f - pool.capacity.freeTotal[k]));
    }
  }
}

/**
 * The device of `pool` a placed request claims: the first by name that serves it (the one whose class the replica's
 * claim template uses, and whose name the ledger counts), or undefined when none does.
 */
export function matchingDevice(pool: FleetNodePool, request: DeviceRequestDemand): FleetDevice | undefined {
  const resolved = resolveRequest(request);
  return [...pool.devicesPerNode].sort((a, b) => byName(a.name, b.name)).find(d => deviceRefusal(d, resolved) === undefined);
}

function resolveRequest(r: DeviceRequestDemand): ResolvedRequest {
  return { name: r.name, count: r.count ?? 1, deviceClassName: r.deviceClassName, selectors: (r.selectors ?? []).map(s => compileDeviceSelector(s)) };
}

function engineDevices(engine: ResolvedEngine): number {
  return engine.copies * engine.members.reduce((n, m) => n + m.pods * m.requests.reduce((x, r) => x + r.count, 0), 0);
}

/** A member's assignment with the nodes of its pods, or without nodes. */
function memberAt(m: MemberAssignment, nodes: readonly string[] | undefined): MemberAssignment {
  return { engine: m.engine, member: m.member, pool: m.pool, ...(nodes ? { nodes: [...nodes] } : {}) };
}

function describeGang(fits: EngineShape): string {
  return fits.members.map(m => `${m.pods} pod${m.pods === 1 ? '' : 's'} of ${m.pod.devices}`).join(' + ');
}

/** Clusters by replicas of this deployment, then name: the next replica goes to the first. */
class ClusterHeap {
  private readonly items: ClusterState[] = [];

  constructor(clusters: readonly ClusterState[]) {
    clusters.forEach(c => this.push(c));
  }

  public push(c: ClusterState): void {
    const a = this.items;
    a.push(c);
    for (let i = a.length - 1; i > 0;) {
      const parent = Math.floor((i - 1) / 2);
      if (!this.before(a[i], a[parent])) break;
      [a[i], a[parent]] = [a[parent], a[i]];
      i = parent;
    }
  }

  public pop(): ClusterState | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      for (let i = 0; ;) {
        const [l, r] = [2 * i + 1, 2 * i + 2];
        let m = i;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }

  private before(x: ClusterState, y: ClusterState): boolean {
    return x.count < y.count || (x.count === y.count && x.cluster.name < y.cluster.name);
  }
}
