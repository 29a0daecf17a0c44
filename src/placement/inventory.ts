/**
 * What the placement solver reads and writes: the fleet's supply (clusters, node pools, devices per node), one
 * deployment's demand (replicas of engines whose pods claim devices), the state fed back from the last run, and the
 * ledger of other deployments' usage. Plain readonly data, so that it round-trips through Pulumi state as JSON.
 *
 * Shapes follow Modelplane's InferenceCluster / InferenceClass (`status.gpuPools[].devices`) and ModelDeployment,
 * with devices described like a DRA ResourceSlice.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/
 */
import { Issues } from '../errors';
import { compareStrings } from '../hash';
import { checkObjectCount } from '../limits';
import { checkLabelValue, checkName, NameRule } from '../names';
import { isQuantity } from '../quantity';
import { deviceSelectorError, isSemver } from './cel';

/** How a cluster taint repels replicas: NoSchedule keeps new ones off, NoExecute also drains the ones already there. */
export type TaintEffect = 'NoSchedule' | 'NoExecute';

/**
 * A taint on a whole cluster (Modelplane InferenceCluster `spec.taints`).
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
 */
export interface ClusterTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

/**
 * A toleration of cluster taints, with the Kubernetes toleration semantics.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
 */
export interface ClusterToleration {
  /** Taint key; empty with operator Exists tolerates every taint. @default - every key (only with Exists) */
  readonly key?: string;
  /** Exists ignores the value; Equal compares it. @default 'Equal' */
  readonly operator?: 'Exists' | 'Equal';
  /** The value an Equal toleration matches. @default '' */
  readonly value?: string;
  /** Effect to tolerate. @default - every effect */
  readonly effect?: TaintEffect;
}

/** One requirement of a {@link ClusterSelector}, as in a Kubernetes label selector. */
export interface ClusterSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  /** Values for In and NotIn (at least one); none for Exists and DoesNotExist. */
  readonly values?: readonly string[];
}

/**
 * Selects clusters by label, as a Kubernetes label selector: every `matchLabels` entry and every expression must hold.
 *
 * @see https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
 */
export interface ClusterSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly ClusterSelectorRequirement[];
}

/**
 * A typed device attribute: a string, an integer, a bool, or a semantic version (DRA's four attribute types).
 * Integers are given as JavaScript numbers and must be safe integers.
 */
export type DeviceAttributeValue = string | number | boolean | { readonly version: string };

/**
 * One kind of device every node of a pool has, `count` of them (an InferenceClass device, or the devices of one
 * ResourceSlice that are alike).
 */
export interface FleetDevice {
  /** Name of the device within the pool, such as `gpu`; the ledger counts usage by it. */
  readonly name: string;
  /** DRA driver that publishes the device, such as `gpu.nvidia.com`; the domain of bare attribute names. */
  readonly driver: string;
  /**
   * The DeviceClass a request claims it through; a request matches only devices of its own class.
   *
   * @default - the device is never claimed (Modelplane `claim: Synthetic`)
   */
  readonly deviceClassName?: string;
  /** Devices of this kind on each node. @default 1 */
  readonly count?: number;
  /**
   * Typed attributes by qualified name: a bare name (`productName`) is in the driver's domain, `<domain>/<name>`
   * names another domain. CEL reads them as `device.attributes['<domain>'].<name>`.
   *
   * @default {}
   */
  readonly attributes?: Readonly<Record<string, DeviceAttributeValue>>;
  /**
   * Capacities by qualified name, as Kubernetes quantities (`80Gi`). CEL reads them as
   * `device.capacity['<domain>'].<name>`.
   *
   * @default {}
   */
  readonly capacity?: Readonly<Record<string, string>>;
}

/** A node pool: `nodes` identical nodes, each with the devices listed. */
export interface FleetNodePool {
  readonly name: string;
  /** Nodes in the pool (the maximum, for an autoscaled pool). */
  readonly nodes: number;
  readonly devicesPerNode: readonly FleetDevice[];
  /**
   * The names of the pool's nodes, `nodes` of them, as read from a live cluster. Given, the solver counts devices on
   * each named node (ledger entries with a `node` are held there), records the node of every pod it places
   * ({@link MemberAssignment.nodes}), and the replica's pods are pinned to those nodes.
   *
   * @default - the nodes are alike and unnamed: ledger entries are held best fit, and pods are pinned to the pool only
   */
  readonly nodeNames?: readonly string[];
}

/** A cluster of the fleet. */
export interface FleetCluster {
  readonly name: string;
  /** @default {} */
  readonly labels?: Readonly<Record<string, string>>;
  /** @default [] */
  readonly taints?: readonly ClusterTaint[];
  readonly nodePools: readonly FleetNodePool[];
  /**
   * The DRA API the cluster serves (`resource.k8s.io/v1`, `v1beta2` or `v1beta1`): the shape of the claim templates
   * rendered for it. The solver does not read it.
   *
   * @default - the deployment's Kubernetes version decides
   */
  readonly draApiVersion?: string;
  /**
   * The cluster could not be reached: replicas already there stay pinned (reported `Degraded`), no new ones go there.
   *
   * @default false
   */
  readonly unreachable?: boolean;
}

/** The clusters a deployment may be placed on. A cluster missing from it has its replicas placed again elsewhere. */
export interface FleetInventory {
  readonly clusters: readonly FleetCluster[];
}

/** A device request of a member's pod (Modelplane `nodeSelector.devices[]`, DRA `DeviceRequest`). */
export interface DeviceRequestDemand {
  /** Request name, unique in the member. */
  readonly name: string;
  /** Devices each pod needs, all on its own node. @default 1 */
  readonly count?: number;
  /**
   * The DeviceClass to claim through; only devices of that class match.
   *
   * @default - any claimable device (one with a class), as Modelplane's `nodeSelector.devices`; the replica then
   * claims through the class of the device matched in its pool
   */
  readonly deviceClassName?: string;
  /**
   * DRA CEL selectors, all of which a device must satisfy.
   *
   * @default []
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/#device-selectors
   */
  readonly selectors?: readonly string[];
}

/** A member of an engine: a Standalone pod, the Leader pod, or the Worker pods (one per node). */
export interface MemberDemand {
  /** @default 'Standalone' */
  readonly role?: 'Standalone' | 'Leader' | 'Worker';
  /** Pods of the member: 1 for Standalone and Leader, `worker.nodes` (1 to 63) for Worker. @default 1 */
  readonly pods?: number;
  /** What each pod claims. @default - nothing (a coordinator-only Leader) */
  readonly deviceRequests?: readonly DeviceRequestDemand[];
}

/** An engine of every replica: `copies` identical gangs of its members, all in one node pool. */
export interface EngineDemand {
  readonly name: string;
  /** @default 1 */
  readonly copies?: number;
  /** Prefill or Decode, only in PrefillDecode serving. @default - none */
  readonly phase?: 'Prefill' | 'Decode';
  readonly members: readonly MemberDemand[];
}

/** One deployment's demand: `replicas` replicas, each a full set of the engines, each replica in one cluster. */
export interface PlacementDemand {
  /** Deployment name: used in messages, and to leave the deployment's own entries out of the ledger. */
  readonly name: string;
  readonly replicas: number;
  /** @default - every cluster */
  readonly clusterSelector?: ClusterSelector;
  /** @default [] */
  readonly tolerations?: readonly ClusterToleration[];
  /** @default 'Unified' */
  readonly servingMode?: 'Unified' | 'PrefillDecode';
  readonly engines: readonly EngineDemand[];
}

/** Where the pods of one member of one engine of a replica run. */
export interface MemberAssignment {
  readonly engine: string;
  /** Index of the member in the engine's `members`. */
  readonly member: number;
  readonly pool: string;
  /**
   * The node of each of the member's pods, copy by copy (`copies x pods` entries), when the pool names its nodes. The
   * member's pods are pinned to these nodes, so that the scheduler puts them where the devices were counted; a
   * retained replica is held on them again.
   *
   * @default - the pool's nodes are unnamed (a declared inventory): the pods are pinned to the pool only
   */
  readonly nodes?: readonly string[];
}

/**
 * Why a replica is where it is: `Retained` from the state, `Degraded` retained on an unreachable cluster, `Placed`
 * anew, `Moved` placed again because its old cluster or pool no longer holds it.
 */
export type AssignmentState = 'Retained' | 'Degraded' | 'Placed' | 'Moved';

/** One replica's placement: a cluster, and a pool per engine member. Fed back as `existing` on the next run. */
export interface ReplicaAssignment {
  /** The replica's index: its identity, stable across runs. */
  readonly replica: number;
  readonly cluster: string;
  /** One entry per member of every engine, in engine then member order. */
  readonly members: readonly MemberAssignment[];
  /** Set by the solver; ignored in `existing`. */
  readonly state?: AssignmentState;
  /** For a `Moved` replica: the cluster it was on, and why it left. */
  readonly movedFrom?: { readonly cluster: string; readonly reason: string };
}

/**
 * Devices held on one node of a pool by another workload (one pod's, or one claim's). An entry with a `node` (read
 * from the cluster's allocated ResourceClaims and bound pods) is subtracted from that node. One without (a declared
 * ledger, or a pod not yet scheduled) is subtracted from a single node, best fit, as the solver places pods itself:
 * an optimistic model, since the real scheduler spreads; an entry larger than any node's free devices is spread over
 * the fullest nodes. Device names the pool does not have are ignored; more than the pool or node has leaves it full.
 */
export interface LedgerEntry {
  readonly cluster: string;
  readonly pool: string;
  /**
   * The node that holds the devices, one of the pool's {@link FleetNodePool.nodeNames}; an entry naming another node
   * (one not Ready, or outside the pool) holds nothing.
   *
   * @default - a node chosen best fit
   */
  readonly node?: string;
  /** Devices held, by {@link FleetDevice.name}. */
  readonly devices: Readonly<Record<string, number>>;
  /** The deployment that holds them; entries of the deployment being placed are ignored. @default - another deployment */
  readonly owner?: string;
}

/** Which check turned a cluster or pool down. */
export type RejectionReason =
  | 'ClusterUnreachable'
  | 'ClusterSelectorNotMatched'
  | 'TaintNotTolerated'
  | 'NoNodePools'
  | 'DeviceNotMatched'
  | 'TooFewDevicesPerNode'
  | 'TooFewNodes'
  | 'InsufficientCapacity';

/** Why a replica could not go to one cluster, or one pool of it. */
export interface PlacementRejection {
  readonly cluster: string;
  /** @default - the whole cluster */
  readonly pool?: string;
  /** @default - every engine */
  readonly engine?: string;
  readonly reason: RejectionReason;
  /** The check with its values: which selector failed, which capacity was short. */
  readonly message: string;
}

/** A replica the fleet cannot hold, with every cluster's and pool's reason. */
export interface UnplacedReplica {
  readonly replica: number;
  readonly rejections: readonly PlacementRejection[];
  /** For a replica that had to leave its cluster: the cluster, and why. */
  readonly movedFrom?: { readonly cluster: string; readonly reason: string };
}

/** The solver's answer. */
export interface PlacementResult {
  /** Placed replicas, by replica index. */
  readonly assignments: readonly ReplicaAssignment[];
  /** Wanted replicas that fit nowhere, by replica index. */
  readonly unplaced: readonly UnplacedReplica[];
  /** Indices of existing replicas removed by a scale-down. */
  readonly removed: readonly number[];
}

const MAX_ENGINES = 8;
const MAX_COPIES = 64;
const MAX_WORKER_NODES = 63;
const MAX_REQUESTS = 16;
const MAX_REQUEST_COUNT = 64;
const MAX_SELECTORS = 8;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function isCount(n: unknown, min: number, max: number): boolean {
  return typeof n === 'number' && Number.isInteger(n) && n >= min && n <= max;
}

/**
 * Checks a deployment's demand the way Modelplane's ModelDeployment schema does, and that every CEL selector
 * compiles. Every problem is recorded in `issues`.
 */
export function validateDemand(issues: Issues, demand: PlacementDemand): void {
  checkObjectCount(issues, 'replicas', demand.replicas, 'replicas');
  const engines = demand.engines ?? [];
  issues.check(engines.length >= 1 && engines.length <= MAX_ENGINES, 'engines', engines.length,
    `is outside 1 to ${MAX_ENGINES}: a replica runs one to ${MAX_ENGINES} engines`, `Give 1 to ${MAX_ENGINES} engines; put further models in another deployment`);
  const seen = new Set<string>();
  engines.forEach((engine, e) => {
    const f = `engines[${e}]`;
    if (issues.check(DNS_LABEL.test(engine.name), `${f}.name`, engine.name, 'is not a DNS label', 'Use lower-case letters, digits and dashes, at most 63')) {
      issues.check(!seen.has(engine.name), `${f}.name`, engine.name, 'is used by another engine', 'Give every engine its own name');
      seen.add(engine.name);
    }
    issues.check(engine.copies === undefined || isCount(engine.copies, 1, MAX_COPIES), `${f}.copies`, engine.copies, `is outside 1 to ${MAX_COPIES}`,
      'Scale with replicas; copies is a fixed number per replica');
    validateMembers(issues, f, engine);
  });
  validatePhases(issues, demand);
  validateSelectorShape(issues, demand.clusterSelector);
  (demand.tolerations ?? []).forEach((t, i) => {
    const f = `tolerations[${i}]`;
    if ((t.operator ?? 'Equal') === 'Exists') {
      issues.check(!t.value, `${f}.value`, t.value, 'is set on an Exists toleration, which ignores values', 'Remove the value, or use operator Equal');
    } else {
      issues.check(!!t.key, `${f}.key`, t.key, 'is empty on an Equal toleration', 'Name the taint key, or use operator Exists to tolerate every taint');
    }
  });
}

function validateMembers(issues: Issues, f: string, engine: EngineDemand): void {
  const members = engine.members ?? [];
  const roles = members.map(m => m.role ?? 'Standalone');
  const standalone = roles.length === 1 && roles[0] === 'Standalone';
  const gang = roles.length === 2 && roles.includes('Leader') && roles.includes('Worker');
  if (!standalone && !gang) {
    const cause = roles.includes('Worker') && !roles.includes('Leader')
      ? 'has a Worker without a Leader: workers join a leader pod'
      : 'is neither one Standalone member nor one Leader and one Worker';
    issues.add(`${f}.members`, roles.join('+') || 'no members', cause, 'Give one Standalone member, or one Leader and one Worker');
  }
  issues.check(members.some(m => (m.deviceRequests ?? []).length > 0), `${f}.members`, engine.name,
    'claims no devices in any member', 'Give at least one member device requests; a coordinator-only Leader may claim none');
  members.forEach((m, i) => {
    const mf = `${f}.members[${i}]`;
    const role = m.role ?? 'Standalone';
    if (role === 'Worker') {
      issues.check(m.pods === undefined || isCount(m.pods, 1, MAX_WORKER_NODES), `${mf}.pods`, m.pods, `is outside 1 to ${MAX_WORKER_NODES} worker nodes`,
        `Give 1 to ${MAX_WORKER_NODES}`);
    } else {
      issues.check(m.pods === undefined || m.pods === 1, `${mf}.pods`, m.pods, `is not 1: a ${role} member is one pod`, 'Give 1, or leave it unset');
    }
    validateRequests(issues, mf, m.deviceRequests ?? []);
  });
}

function validateRequests(issues: Issues, mf: string, requests: readonly DeviceRequestDemand[]): void {
  issues.check(requests.length <= MAX_REQUESTS, `${mf}.deviceRequests`, requests.length, `requests exceed ${MAX_REQUESTS}`, `Give at most ${MAX_REQUESTS}`);
  const names = new Set<string>();
  requests.forEach((r, j) => {
    const rf = `${mf}.deviceRequests[${j}]`;
    if (issues.check(DNS_LABEL.test(r.name ?? ''), `${rf}.name`, r.name, 'is not a DNS label', 'Name the request with lower-case letters, digits and dashes')) {
      issues.check(!names.has(r.name), `${rf}.name`, r.name, 'is used by another request of the member', 'Give every request its own name');
      names.add(r.name);
    }
    issues.check(r.count === undefined || isCount(r.count, 1, MAX_REQUEST_COUNT), `${rf}.count`, r.count, `is outside 1 to ${MAX_REQUEST_COUNT} devices`,
      `Give 1 to ${MAX_REQUEST_COUNT} devices per pod`);
    issues.check(r.deviceClassName === undefined || !!r.deviceClassName, `${rf}.deviceClassName`, r.deviceClassName, 'is empty',
      'Name the DeviceClass to claim through, such as gpu.nvidia.com, or leave it unset to match any claimable device');
    if (r.deviceClassName) checkName(issues, `${rf}.deviceClassName`, r.deviceClassName, NameRule.DNS1123_SUBDOMAIN);
    const selectors = r.selectors ?? [];
    issues.check(selectors.length <= MAX_SELECTORS, `${rf}.selectors`, selectors.length, `selectors exceed ${MAX_SELECTORS}`, 'Join selectors with &&');
    selectors.forEach((expression, k) => {
      const error = deviceSelectorError(expression);
      issues.check(error === undefined, `${rf}.selectors[${k}]`, expression, `of request '${r.name}' is not a valid device selector: ${error}`,
        "Write a CEL expression over device.driver, device.attributes['<domain>'].<name> and device.capacity['<domain>'].<name> that returns a bool, " +
        "such as device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80Gi')) >= 0");
    });
  });
}

function validatePhases(issues: Issues, demand: PlacementDemand): void {
  const engines = demand.engines ?? [];
  const mode = demand.servingMode ?? 'Unified';
  if (mode === 'PrefillDecode') {
    const phases = engines.map(e => e.phase ?? 'none');
    const ok = engines.length === 2 && phases.includes('Prefill') && phases.includes('Decode');
    issues.check(ok, 'engines', phases,
      'do not make PrefillDecode serving, which needs exactly two engines, one Prefill and one Decode',
      'Give one engine with phase Prefill and one with phase Decode, or use Unified serving');
  } else if (mode === 'Unified') {
    engines.forEach((e, i) => issues.check(e.phase === undefined, `engines[${i}].phase`, e.phase, 'is set, but serving is Unified',
      'Remove the phase, or use PrefillDecode serving'));
  } else {
    issues.add('servingMode', mode, 'is not a serving mode', 'Use Unified or PrefillDecode');
  }
}

function validateSelectorShape(issues: Issues, selector: ClusterSelector | undefined): void {
  (selector?.matchExpressions ?? []).forEach((x, i) => {
    const f = `clusterSelector.matchExpressions[${i}]`;
    const values = x.values ?? [];
    if (x.operator === 'In' || x.operator === 'NotIn') {
      issues.check(values.length > 0, `${f}.values`, values, `is empty for operator ${x.operator}`, 'Give at least one value');
    } else if (x.operator === 'Exists' || x.operator === 'DoesNotExist') {
      issues.check(values.length === 0, `${f}.values`, values, `is set for operator ${x.operator}, which takes none`, 'Remove the values');
    } else {
      issues.add(`${f}.operator`, x.operator, 'is not a selector operator', 'Use In, NotIn, Exists or DoesNotExist');
    }
  });
}

/**
 * Checks the fleet: unique cluster, pool and device names, whole node and device counts, quantities that parse,
 * versions that are semantic versions and integers that are safe.
 */
export function validateInventory(issues: Issues, inventory: FleetInventory): void {
  const clusters = new Set<string>();
  inventory.clusters.forEach((c, i) => {
    const f = `clusters[${i}]`;
    issues.check(!!c.name && !clusters.has(c.name), `${f}.name`, c.name, 'is empty or names another cluster too', 'Give every cluster its own name');
    clusters.add(c.name);
    (c.taints ?? []).forEach((t, k) => issues.check(t.effect === 'NoSchedule' || t.effect === 'NoExecute', `${f}.taints[${k}].effect`, t.effect,
      'is not a cluster taint effect', 'Use NoSchedule or NoExecute'));
    const pools = new Set<string>();
    c.nodePools.forEach((p, j) => {
      const pf = `${f}.nodePools[${j}]`;
      issues.check(!!p.name && !pools.has(p.name), `${pf}.name`, p.name, 'is empty or names another pool of the cluster too', 'Give every pool its own name');
      pools.add(p.name);
      // Pods are pinned to the pool by the node label inferkit.dev/pool: <name>.
      if (p.name) checkLabelValue(issues, `${pf}.name`, p.name);
      issues.check(isCount(p.nodes, 0, Number.MAX_SAFE_INTEGER), `${pf}.nodes`, p.nodes, 'is not a whole number of nodes', 'Give 0 or more');
      if (p.nodeNames) validateNodeNames(issues, `${pf}.nodeNames`, p);
      const devices = new Set<string>();
      p.devicesPerNode.forEach((d, k) => validateDevice(issues, `${pf}.devicesPerNode[${k}]`, d, devices));
    });
  });
}

function validateNodeNames(issues: Issues, f: string, p: FleetNodePool): void {
  const names = p.nodeNames ?? [];
  issues.check(names.length === p.nodes, f, names.length, `names ${names.length} nodes, but the pool has ${p.nodes}`, 'Name every node of the pool once, or leave nodeNames unset');
  issues.check(names.every(n => !!n) && new Set(names).size === names.length, f, names, 'has an empty or repeated node name', 'Name every node of the pool once');
}

function validateDevice(issues: Issues, f: string, d: FleetDevice, seen: Set<string>): void {
  issues.check(!!d.name && !seen.has(d.name), `${f}.name`, d.name, 'is empty or names another device of the pool too', 'Give every device its own name');
  seen.add(d.name);
  issues.check(!!d.driver, `${f}.driver`, d.driver, 'is empty', 'Name the DRA driver, such as gpu.nvidia.com');
  issues.check(d.count === undefined || isCount(d.count, 0, Number.MAX_SAFE_INTEGER), `${f}.count`, d.count, 'is not a whole number of devices', 'Give 0 or more');
  for (const [name, value] of Object.entries(d.attributes ?? {})) {
    const af = `${f}.attributes.${name}`;
    if (typeof value === 'number') {
      issues.check(Number.isSafeInteger(value), af, value, 'is not an integer: DRA attributes are int, bool, string or version', 'Give a whole number');
    } else if (typeof value === 'object') {
      issues.check(isSemver(value.version), af, value.version, 'is not a semantic version', 'Give major.minor.patch, such as 1.2.3');
    }
  }
  for (const [name, value] of Object.entries(d.capacity ?? {})) {
    issues.check(isQuantity(value), `${f}.capacity.${name}`, value, 'is not a Kubernetes quantity', "Give a quantity such as '80Gi'");
  }
}

/** Whether a cluster's labels satisfy a selector; no selector selects every cluster. */
export function matchesClusterSelector(selector: ClusterSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  return clusterSelectorMismatch(selector, labels) === undefined;
}

/** The first requirement of `selector` that `labels` fail, described; undefined when they match. */
export function clusterSelectorMismatch(selector: ClusterSelector | undefined, labels: Readonly<Record<string, string>>): string | undefined {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(labels, k);
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}).sort(([a], [b]) => compareStrings(a, b))) {
    if (labels[key] !== value || !has(key)) return `label ${key}=${value} is ${has(key) ? `${key}=${labels[key]}` : 'missing'}`;
  }
  for (const x of selector?.matchExpressions ?? []) {
    const values = x.values ?? [];
    const present = has(x.key);
    const ok = x.operator === 'In' ? present && values.includes(labels[x.key])
      : x.operator === 'NotIn' ? !present || !values.includes(labels[x.key])
        : x.operator === 'Exists' ? present
          : !present;
    if (!ok) {
      const actual = present ? `${x.key}=${labels[x.key]}` : `no ${x.key} label`;
      return `expression ${x.key} ${x.operator}${values.length ? ` (${values.join(', ')})` : ''} does not hold for ${actual}`;
    }
  }
  return undefined;
}

/** Whether one of `tolerations` tolerates `taint`, with the Kubernetes rules. */
export function toleratesTaint(tolerations: readonly ClusterToleration[], taint: ClusterTaint): boolean {
  return tolerations.some(t => {
    if (t.effect !== undefined && t.effect !== taint.effect) return false;
    if ((t.operator ?? 'Equal') === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

/** Every rejection of a replica in one line: `<cluster>[/<pool>][ (engine <e>)]: <reason>: <check>`, joined by `; `. */
export function describeRejections(rejections: readonly PlacementRejection[]): string {
  return rejections.map(r => `${r.cluster}${r.pool ? `/${r.pool}` : ''}${r.engine ? ` (engine ${r.engine})` : ''}: ${r.reason}: ${r.message}`).join('; ')
    || 'no cluster in the inventory';
}

/** Describes a taint the way kubectl does: `key=value:Effect`. */
export function describeTaint(taint: ClusterTaint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}
