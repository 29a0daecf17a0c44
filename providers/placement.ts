/**
 * The `Placement` dynamic resource: decides during `pulumi up` which cluster and node pools each replica of a
 * ModelDeployment runs on, keeps the answer in the stack's state, and feeds it back on the next run so a healthy
 * replica never moves. A thin shell over the pure solver in `src/placement`.
 *
 * The provider's methods are serialized into the stack and run in Pulumi's dynamic-provider process. They capture
 * nothing but module paths and load the solver and the cluster reader with `require` when they run, so the
 * serialized provider stays small and the program never loads them.
 *
 * At preview an input may not be known yet (a replica count from a resource this preview creates, the kubeconfig of a
 * new cluster): the engine hands it to `check` and `diff` as Pulumi's placeholder string. The placement never guesses
 * from it: `check` validates only the known parts, `diff` reports a change without comparing or reading any cluster,
 * and the engine, which runs no `create` or `update` of a dynamic resource at preview, shows the outputs unknown.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import type {
  ClusterTaint, FleetInventory, FleetNodePool, LedgerEntry, PlacementDemand, ReplicaAssignment, UnplacedReplica,
} from '../src';

/** One cluster of the fleet: declared (its node pools given), or read live through its kubeconfig. */
export interface PlacementCluster {
  readonly name: string;
  /** Labels a deployment's clusterSelector matches. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** Cluster taints (NoSchedule, NoExecute). @default [] */
  readonly taints?: readonly ClusterTaint[];
  /**
   * The cluster's node pools, declared. Given, the kubeconfig is only used for the ledger.
   *
   * @default - read live from the cluster's Nodes (by the `inferkit.dev/pool` label) and ResourceSlices
   */
  readonly nodePools?: readonly FleetNodePool[];
  /**
   * A kubeconfig for the cluster (pass it as a secret). Without it the cluster is declared only: its `nodePools`
   * are required and no ledger is read from it.
   *
   * @default - declared only
   */
  readonly kubeconfig?: string;
}

/** Inputs of a {@link Placement}. */
export interface PlacementArgs {
  /** What to place: replicas of engines whose members claim devices (see `ModelDeployment.demandOf`). Its name owns the ledger entries it may ignore. */
  readonly demand: pulumi.Input<PlacementDemand>;
  /** The fleet. A cluster removed from it has its replicas placed again; the order does not matter. */
  readonly clusters: pulumi.Input<pulumi.Input<PlacementCluster>[]>;
  /**
   * The namespaces whose labelled workloads count in the ledger of each live cluster (pods not yet scheduled): those of
   * the ModelDeployments that share the fleet. A workload in any other namespace is not read, so that a user of that
   * namespace cannot push a replica off a cluster by labelling a Deployment. Devices already allocated count wherever
   * they are.
   *
   * @default - the namespace of the deployment placed (the part of `demand.name` before `/`, else `default`)
   */
  readonly ledgerNamespaces?: pulumi.Input<pulumi.Input<string>[]>;
}

/** What the resource keeps in state: the inputs it compares (kubeconfigs only as hashes) and its decision. */
interface PlacementState {
  readonly demand: PlacementDemand;
  readonly ledgerNamespaces?: readonly string[];
  readonly clusters: ReadonlyArray<Omit<PlacementCluster, 'kubeconfig'> & { readonly kubeconfigHash?: string }>;
  readonly assignments: readonly ReplicaAssignment[];
  /** The node pools the assignments use, by `<cluster>/<pool>`: what the renderer resolves device classes against. */
  readonly pools: Readonly<Record<string, FleetNodePool>>;
  /** The DRA API each live cluster serves, by cluster: the claim templates rendered for it take its shape. */
  readonly draApiVersions: Readonly<Record<string, string>>;
  /** Replicas pinned to a cluster that could not be read, with the reason. */
  readonly degraded: ReadonlyArray<{ readonly replica: number; readonly cluster: string; readonly reason: string }>;
}

// Absolute paths, resolved where this module is (lib/ when installed, the sources under ts-node).
const CORE_MODULE = path.join(__dirname, '..', 'src');
const INVENTORY_MODULE = path.join(__dirname, 'inventory');
const KUBE_MODULE = path.join(__dirname, '_kube');
const ENGINE_LOG_MODULE = path.join(__dirname, '_engine-log');

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The inputs as stored: kubeconfigs replaced by their hashes, so state holds no credentials. */
function stateInputs(inputs: Inputs): Pick<PlacementState, 'demand' | 'clusters' | 'ledgerNamespaces'> {
  return {
    demand: inputs.demand,
    ...(inputs.ledgerNamespaces ? { ledgerNamespaces: inputs.ledgerNamespaces } : {}),
    clusters: inputs.clusters.map(({ kubeconfig, ...c }) => ({ ...c, ...(kubeconfig ? { kubeconfigHash: hashOf(kubeconfig) } : {}) })),
  };
}

type Inputs = { demand: PlacementDemand; clusters: PlacementCluster[]; ledgerNamespaces?: string[] };

/** The namespaces read for the ledger: as given, else the placed deployment's own. */
function ledgerNamespacesOf(inputs: Inputs): string[] {
  const slash = inputs.demand.name.indexOf('/');
  return inputs.ledgerNamespaces ?? [slash > 0 ? inputs.demand.name.slice(0, slash) : 'default'];
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded when the provider runs, by absolute path (see the top) */
/** Reads each cluster (live where it has no declared pools), places, and fails naming every unplaced replica's reasons. */
async function decide(inputs: Inputs, existing: readonly ReplicaAssignment[]): Promise<PlacementState> {
  const solver = require(CORE_MODULE) as typeof import('../src');
  const reader = require(INVENTORY_MODULE) as typeof import('./inventory');
  const ledger: LedgerEntry[] = [];
  const warnings: string[] = [];
  const unreachable = new Map<string, string>();
  const clusters = await Promise.all(inputs.clusters.map(async c => {
    if (!c.kubeconfig) {
      if (!c.nodePools) throw new Error(`Unable to place ${inputs.demand.name}: cluster '${c.name}' has neither nodePools nor a kubeconfig. Declare its node pools, or give a kubeconfig to read them live.`);
      return { name: c.name, labels: c.labels, taints: c.taints, nodePools: c.nodePools };
    }
    const connection = { name: c.name, kubeconfig: c.kubeconfig, labels: { ...c.labels }, taints: c.taints ? [...c.taints] : undefined };
    const live = await reader.readLiveCluster(connection, { ledgerNamespaces: ledgerNamespacesOf(inputs) });
    ledger.push(...live.ledger);
    warnings.push(...live.warnings);
    if (live.cluster.unreachable) unreachable.set(c.name, live.error ?? 'unreachable');
    return c.nodePools ? { ...live.cluster, nodePools: c.nodePools } : live.cluster;
  }));
  if (warnings.length > 0) {
    (require(ENGINE_LOG_MODULE) as typeof import('./_engine-log')).connectEngineLog();
    for (const warning of warnings) void pulumi.log.warn(warning);
  }
  const inventory: FleetInventory = { clusters };
  const result = solver.place(inputs.demand, inventory, existing, ledger);
  if (result.unplaced.length > 0) {
    const lines = result.unplaced.map((u: UnplacedReplica) => `replica ${u.replica}${u.movedFrom ? ` (left ${u.movedFrom.cluster}: ${u.movedFrom.reason})` : ''}: ${solver.describeRejections(u.rejections)}`);
    throw new Error(`Unable to place ${inputs.demand.name}: ${result.unplaced.length} of ${inputs.demand.replicas} replicas fit nowhere. ${lines.join('. ')}. `
      + 'Lower replicas, relax the selectors or tolerations, or add capacity; nothing was applied.');
  }
  const pools: Record<string, FleetNodePool> = {};
  for (const a of result.assignments) {
    const cluster = clusters.find(c => c.name === a.cluster);
    for (const m of a.members) {
      const pool = cluster?.nodePools.find(p => p.name === m.pool);
      if (pool) pools[`${a.cluster}/${m.pool}`] = pool;
    }
  }
  const draApiVersions = Object.fromEntries(clusters.filter(c => c.draApiVersion).map(c => [c.name, c.draApiVersion!]));
  const degraded = result.assignments.filter(a => a.state === 'Degraded').map(a => ({ replica: a.replica, cluster: a.cluster, reason: unreachable.get(a.cluster) ?? 'unreachable' }));
  return { ...stateInputs(inputs), assignments: result.assignments, pools, draApiVersions, degraded };
}

/**
 * Whether a value, or anything in it, is Pulumi's placeholder for a value not known until the update: what `check`
 * and `diff` see at preview for an input that depends on a resource not created yet.
 */
export function hasUnknown(value: unknown): boolean {
  const { unknownValue } = require('@pulumi/pulumi/runtime/rpc') as { unknownValue: string };
  const unknown = (v: unknown): boolean => v === unknownValue
    || (Array.isArray(v) ? v.some(unknown) : !!v && typeof v === 'object' && Object.values(v).some(unknown));
  return unknown(value);
}

/** Whether a live cluster's pool no longer has a node that an assignment pins pods to. */
async function pinnedNodeGone(inputs: Inputs, assignments: readonly ReplicaAssignment[]): Promise<boolean> {
  const core = require(CORE_MODULE) as typeof import('../src');
  const reader = require(INVENTORY_MODULE) as typeof import('./inventory');
  const pinned = (c: PlacementCluster) => assignments.some(a => a.cluster === c.name && a.members.some(m => m.nodes));
  const live = inputs.clusters.filter(c => c.kubeconfig && !c.nodePools && pinned(c));
  const gone = await Promise.all(live.map(async c => {
    const pools = await reader.readPoolNodes({ kubeconfig: c.kubeconfig! });
    return pools !== undefined && core.pinnedNodesGone(c.name, assignments, pools).length > 0;
  }));
  return gone.some(g => g);
}

/** The dynamic provider. Exported for tests; programs use {@link Placement}. */
export const placementProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const core = require(CORE_MODULE) as typeof import('../src');
    // Unknown at preview: checked here once known, at the update (the component also checks its args as they resolve).
    const demandKnown = !hasUnknown(news.demand);
    const name = typeof news.demand?.name === 'string' && !hasUnknown(news.demand.name) ? news.demand.name : '?';
    const issues = new core.Issues(`ModelDeployment/${name}`);
    if (demandKnown) core.validateDemand(issues, news.demand);
    const kube = require(KUBE_MODULE) as typeof import('./_kube');
    const names = new Set<string>();
    // The list, a cluster, or a field of one may be unknown: each is checked as far as it is known.
    for (const c of (Array.isArray(news.clusters) ? news.clusters : []) as PlacementCluster[]) {
      if (!c || typeof c !== 'object') continue;
      if (!hasUnknown(c.name)) {
        issues.check(!names.has(c.name), 'clusters', c.name, 'is named twice', 'Give every cluster its own name');
        names.add(c.name);
      }
      issues.check(!!c.kubeconfig || !!c.nodePools, 'clusters', c.name, 'has neither nodePools nor a kubeconfig', 'Declare its node pools, or give a kubeconfig to read them live');
      if (c.kubeconfig && !hasUnknown(c.kubeconfig)) {
        try {
          kube.parseKubeconfig(c.kubeconfig);
        } catch (e) {
          // The message says what is wrong with the kubeconfig, never its content.
          issues.add('clusters', c.name, `has a kubeconfig that cannot be used: ${(e as Error).message.replace(/\.$/, '')}`, 'Give the content of a kubeconfig with a server and a token, tokenFile, client certificate or exec credential plugin');
        }
      }
    }
    return { inputs: news, failures: issues.all.map(i => ({ property: i.field.split(/[.[]/)[0] || 'demand', reason: core.formatIssue(i) })) };
  },

  async diff(_id, olds: PlacementState, news) {
    // An input not known at preview may change the placement: a change, with nothing compared and no cluster read.
    // The engine then shows the outputs unknown, so nothing downstream is rendered from a guess.
    if ((['demand', 'clusters', 'ledgerNamespaces'] as const).some(k => hasUnknown(news[k]))) return { changes: true, replaces: [], deleteBeforeReplace: false };
    const { canonicalJson } = require(CORE_MODULE) as typeof import('../src');
    const next = stateInputs(news as Inputs);
    // Canonical JSON, so that key order never reads as a change.
    const changed = (['demand', 'clusters', 'ledgerNamespaces'] as const).filter(k => canonicalJson(olds[k]) !== canonicalJson(next[k]));
    // Inputs alike, a replica whose pods are pinned to a node that has left its pool is placed again (update): its
    // pods wait Pending on that node otherwise. One Node list per live cluster with pinned pods; unreadable, no change.
    const moved = changed.length === 0 && await pinnedNodeGone(news as Inputs, olds.assignments ?? []);
    return { changes: changed.length > 0 || moved, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs) {
    const state = await decide(inputs as Inputs, []);
    return { id: hashOf(`${state.demand.name}`).slice(0, 16), outs: state };
  },

  async update(_id, olds: PlacementState, news) {
    return { outs: await decide(news as Inputs, olds.assignments ?? []) };
  },

  // The assignments are this resource's own decision: nothing in a cluster holds them, so refresh keeps them.
  async read(id, props) {
    return { id, props };
  },
  /* eslint-enable @typescript-eslint/no-require-imports */

  async delete() {
    // Nothing to release: the placed objects are separate resources, deleted by their own providers.
  },
};

/**
 * Places a deployment's replicas on a fleet during `pulumi up` and keeps the assignments in state; later runs retain
 * them (scale-down removes the highest indices; a cluster removed from `clusters` has its replicas placed again).
 * When an input is not known at preview (it comes from a resource the same update creates or changes), the preview
 * shows its outputs unknown: it places nothing from a guess and reads no cluster.
 */
export class Placement extends pulumi.dynamic.Resource {
  /** Replica to cluster and pools, with each one's state (Retained, Placed, Moved, Degraded). */
  public readonly assignments!: pulumi.Output<ReplicaAssignment[]>;
  /** The pools the assignments use, by `<cluster>/<pool>`. */
  public readonly pools!: pulumi.Output<Record<string, FleetNodePool>>;
  /** The DRA API each live cluster serves, by cluster. */
  public readonly draApiVersions!: pulumi.Output<Record<string, string>>;
  /** Replicas on clusters that could not be read: still pinned there. */
  public readonly degraded!: pulumi.Output<Array<{ replica: number; cluster: string; reason: string }>>;

  constructor(name: string, args: PlacementArgs, opts?: pulumi.CustomResourceOptions) {
    // The clusters carry kubeconfigs: secret whatever the caller passed, since a resource's inputs are kept in the state.
    const outputs = { assignments: undefined, pools: undefined, draApiVersions: undefined, degraded: undefined };
    const inputs = { demand: args.demand, clusters: pulumi.secret(args.clusters), ledgerNamespaces: args.ledgerNamespaces, ...outputs };
    super(placementProvider, name, inputs, opts, 'inferkit', 'Placement');
  }
}
