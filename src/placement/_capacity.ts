/**
 * Free devices of a node pool, node by node. Nodes whose free devices are alike are kept as one bucket with a
 * count, so a pool of a thousand nodes costs a handful of entries. Placing a pod takes devices from one node,
 * best fit: the node left with the fewest free devices, so that sub-node pods fill nodes instead of stranding GPUs.
 * A pool whose nodes are named (read live) keeps one bucket per node, so that devices held on a given node (the
 * ledger of allocated claims) are taken from that node, and every placed pod's node is known.
 */
import type { FleetNodePool } from './inventory';

/** A device request of a pod, resolved against one pool: the pool's device kinds (indices) that can serve it. */
export interface PodRequest {
  readonly count: number;
  readonly kinds: readonly number[];
}

/** What one pod claims on its node. */
export interface PodShape {
  readonly requests: readonly PodRequest[];
  /** Devices claimed in all. */
  readonly devices: number;
  /** Identifies the shape for the fit cache. */
  readonly key: string;
}

interface Bucket {
  readonly free: readonly number[];
  count: number;
  /** The node, in a pool whose nodes are named (the bucket then holds one node). */
  readonly node?: string;
}

/** A node a pod fits on: its bucket, the devices taken, and those left. */
interface Fit {
  readonly key: string;
  readonly taken: readonly number[];
  readonly after: number[];
  readonly node?: string;
}

/** One pod of a gang to place, and the nodes it may go to. */
export interface GangPod {
  readonly pod: PodShape;
  /** @default - any node of the pool */
  readonly nodes?: ReadonlySet<string>;
}

/** Makes a pod shape; the key is shared by pools whose requests resolve alike. */
export function podShape(requests: readonly PodRequest[]): PodShape {
  return {
    requests,
    devices: requests.reduce((n, r) => n + r.count, 0),
    key: requests.map(r => `${r.count}@${r.kinds.join('.')}`).join('|'),
  };
}

const fitCache = new Map<string, readonly number[] | null>();
const MAX_FIT_CACHE = 100_000;

/**
 * The devices `pod` takes from a node with `free` devices, per kind, or null when it does not fit. Requests that
 * can use several kinds are matched by augmenting paths, so a request never blocks another it could make room for.
 */
export function fitPod(free: readonly number[], pod: PodShape): readonly number[] | null {
  const key = `${pod.key}#${free.join(',')}`;
  const hit = fitCache.get(key);
  if (hit !== undefined) return hit;
  const result = computeFit(free, pod);
  if (fitCache.size >= MAX_FIT_CACHE) fitCache.clear();
  fitCache.set(key, result);
  return result;
}

function computeFit(free: readonly number[], pod: PodShape): readonly number[] | null {
  const remaining = [...free];
  const { requests } = pod;
  if (requests.length === 1) {
    let need = requests[0].count;
    for (const k of requests[0].kinds) {
      const take = Math.min(need, remaining[k]);
      remaining[k] -= take;
      need -= take;
    }
    return need === 0 ? free.map((f, k) => f - remaining[k]) : null;
  }
  // alloc[r][k]: devices of kind k given to request r.
  const alloc = requests.map(() => free.map(() => 0));
  const augment = (r: number, visited: Set<number>): boolean => {
    for (const k of requests[r].kinds) {
      if (visited.has(k)) continue;
      visited.add(k);
      if (remaining[k] > 0) {
        remaining[k]--;
        alloc[r][k]++;
        return true;
      }
      for (let other = 0; other < requests.length; other++) {
        if (alloc[other][k] > 0 && augment(other, visited)) {
          alloc[other][k]--;
          alloc[r][k]++;
          return true;
        }
      }
    }
    return false;
  };
  for (let r = 0; r < requests.length; r++) {
    for (let n = 0; n < requests[r].count; n++) {
      if (!augment(r, new Set())) return null;
    }
  }
  return free.map((f, k) => f - remaining[k]);
}

/** Free devices of one pool, as buckets of alike nodes (one bucket per node when the nodes are named). */
export class PoolCapacity {
  /** Free devices of each kind, over all nodes. */
  public readonly freeTotal: number[];
  private buckets = new Map<string, Bucket>();
  /** Whether the pool's nodes are named, each its own bucket. */
  private readonly named: boolean;

  constructor(pool: FleetNodePool, kindsPerNode: readonly number[]) {
    this.freeTotal = kindsPerNode.map(n => n * pool.nodes);
    this.named = pool.nodeNames !== undefined;
    if (pool.nodeNames) {
      for (const node of pool.nodeNames) this.add(kindsPerNode, 1, node);
    } else if (pool.nodes > 0) {
      this.add(kindsPerNode, pool.nodes);
    }
  }

  /** Nodes in the pool. */
  public get nodes(): number {
    let n = 0;
    for (const b of this.buckets.values()) n += b.count;
    return n;
  }

  /** A copy of the state, for {@link restore}. */
  public snapshot(): ReadonlyArray<readonly [string, Bucket]> {
    return [...this.buckets.entries()].map(([k, b]) => [k, { ...b }] as const);
  }

  /** Returns to a state taken by {@link snapshot}. */
  public restore(state: ReadonlyArray<readonly [string, Bucket]>): void {
    this.buckets = new Map(state.map(([k, b]) => [k, { ...b }]));
    this.freeTotal.fill(0);
    for (const [, b] of state) b.free.forEach((f, i) => (this.freeTotal[i] += f * b.count));
  }

  /** Nodes that could each take one more `pod`. */
  public nodesWithRoom(pod: PodShape): number {
    let n = 0;
    for (const b of this.buckets.values()) if (fitPod(b.free, pod)) n += b.count;
    return n;
  }

  /**
   * Places a gang: every pod on its own node (one of its allowed nodes, if given), best fit. Returns the node of each
   * pod in the order given (undefined where the pool's nodes are unnamed, and for pods that claim no devices: they take
   * no node's devices), or undefined, changing nothing, when one does not fit.
   */
  public placeGang(pods: readonly GangPod[]): Array<string | undefined> | undefined {
    const claiming = pods.map((p, i) => ({ ...p, i })).filter(p => p.pod.devices > 0)
      .sort((a, b) => b.pod.devices - a.pod.devices || (a.pod.key < b.pod.key ? -1 : a.pod.key > b.pod.key ? 1 : 0) || a.i - b.i);
    const nodes: Array<string | undefined> = pods.map(() => undefined);
    if (claiming.length === 0) return this.nodes > 0 ? nodes : undefined;
    const state = this.snapshot();
    const aside: Array<{ free: readonly number[]; node?: string }> = [];
    for (const { pod, nodes: allowed, i } of claiming) {
      const chosen = this.bestFit(pod, allowed);
      if (!chosen) {
        this.restore(state);
        return undefined;
      }
      this.take(chosen.key, chosen.taken);
      aside.push({ free: chosen.after, node: chosen.node });
      nodes[i] = chosen.node;
    }
    for (const { free, node } of aside) this.add(free, 1, node);
    return nodes;
  }

  /**
   * Holds devices used by others: on `node` when given (as many as it has free), else on the best-fitting node that
   * has them all, or else spread over the fullest nodes. Returns how many could not be held (the ledger claims more
   * than the node or pool has); an entry on a node the pool does not name holds nothing and counts as held.
   */
  public hold(devices: readonly number[], node?: string): number {
    if (node !== undefined && this.named) {
      const key = [...this.buckets.entries()].find(([, b]) => b.node === node)?.[0];
      if (key === undefined) return 0;
      const bucket = this.buckets.get(key)!;
      const taken = bucket.free.map((f, k) => Math.min(f, devices[k] ?? 0));
      this.take(key, taken);
      this.add(bucket.free.map((f, k) => f - taken[k]), 1, node);
      return devices.reduce((n, d, k) => n + d - taken[k], 0);
    }
    const whole = this.bestFit(podShape(devices.map((count, k) => ({ count, kinds: [k] })).filter(r => r.count > 0)));
    if (whole) {
      this.take(whole.key, whole.taken);
      this.add(whole.after, 1, whole.node);
      return 0;
    }
    const need = [...devices];
    for (const key of this.sortedKeys()) {
      const bucket = this.buckets.get(key)!;
      while (bucket.count > 0 && need.some((n, k) => n > 0 && bucket.free[k] > 0)) {
        const taken = bucket.free.map((f, k) => Math.min(f, need[k]));
        taken.forEach((t, k) => (need[k] -= t));
        this.take(key, taken);
        this.add(bucket.free.map((f, k) => f - taken[k]), 1, bucket.node);
      }
    }
    return need.reduce((a, b) => a + b, 0);
  }

  private bestFit(pod: PodShape, allowed?: ReadonlySet<string>): Fit | undefined {
    let best: (Fit & { left: number }) | undefined;
    for (const [key, b] of this.buckets) {
      if (allowed && (b.node === undefined || !allowed.has(b.node))) continue;
      const taken = fitPod(b.free, pod);
      if (!taken) continue;
      const after = b.free.map((f, k) => f - taken[k]);
      const left = after.reduce((x, y) => x + y, 0);
      if (!best || left < best.left || (left === best.left && key < best.key)) best = { key, taken, after, left, node: b.node };
    }
    return best;
  }

  /** Takes one node out of bucket `key` and `taken` devices out of the totals; {@link add} puts the node back. */
  private take(key: string, taken: readonly number[]): void {
    const b = this.buckets.get(key)!;
    if (--b.count === 0) this.buckets.delete(key);
    taken.forEach((t, k) => (this.freeTotal[k] -= t));
  }

  /** Puts `count` nodes with `free` devices (or the named node) into their bucket; the totals already count them. */
  private add(free: readonly number[], count: number, node?: string): void {
    const key = node === undefined ? free.join(',') : `${free.join(',')}@${node}`;
    const b = this.buckets.get(key);
    if (b) b.count += count; else this.buckets.set(key, { free, count, ...(node === undefined ? {} : { node }) });
  }

  /** Bucket keys, fullest nodes first. */
  private sortedKeys(): string[] {
    const left = (key: string) => this.buckets.get(key)!.free.reduce((a, b) => a + b, 0);
    return [...this.buckets.keys()].sort((a, b) => left(a) - left(b) || (a < b ? -1 : 1));
  }
}
