/**
 * The fleet inventory and ledger of one cluster, folded from its Kubernetes objects: node pools with the DRA devices
 * each node has (from Nodes, ResourceSlices and DeviceClasses), and the devices already held there, node by node, by
 * any workload (from allocated ResourceClaims and the extended resources of bound pods), plus the devices that
 * inferkit workloads' pods not yet scheduled will hold (from labelled Deployments and StatefulSets). Pure: the
 * `Placement` provider fetches the objects (`providers/inventory.ts`) and hands them here.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/
 */
import type { SpecIssue } from '../errors';
import { compareStrings } from '../hash';
import { LedgerLabels, NODE_POOL_LABEL } from '../labels';
import { MAX_OBJECT_COUNT } from '../limits';
import { isQuantity, parseQuantity } from '../quantity';
import { deviceSelectorError, evaluateDeviceSelector } from './cel';
import type { DeviceAttributeValue, FleetDevice, FleetNodePool, LedgerEntry, ReplicaAssignment } from './inventory';
import type { K8sObject } from '../rollout/sets';

/**
 * Attributes that identify one device rather than describe its kind (its index, UUID, PCI address, ...). They are
 * left out of {@link FleetDevice.attributes}, so that the eight GPUs of a node are one device kind with count 8.
 * Matched on the name after the domain (`resource.kubernetes.io/pcieRoot` is `pcieRoot`), ignoring case.
 */
export const IDENTITY_ATTRIBUTES: ReadonlySet<string> = new Set([
  'index', 'minor', 'uuid', 'uid', 'serial', 'serialnumber',
  'pciebusid', 'pcibusid', 'pciaddress', 'pciaddr', 'pcieroot', 'pciroot',
  'cardindex', 'renderindex', 'parentuuid', 'parentindex', 'parentminor',
  'ifname', 'macaddress',
]);

/** A DRA attribute (`{string}`, `{int}`, `{bool}`, `{version}`) as a {@link DeviceAttributeValue}; undefined for another type. */
export function convertAttribute(value: unknown): DeviceAttributeValue | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.string === 'string') return v.string;
  if (typeof v.bool === 'boolean') return v.bool;
  if (typeof v.version === 'string') return { version: v.version };
  if (typeof v.int === 'number' || typeof v.int === 'string') {
    // An int64 beyond 2^53 cannot be a JavaScript number exactly: left out rather than rounded.
    const n = Number(v.int);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

/** A DRA capacity (`{value: '80Gi'}`, or a bare quantity as in v1alpha3) as a quantity string; undefined when it is none. */
export function convertCapacity(value: unknown): string | undefined {
  const raw = value && typeof value === 'object' ? (value as Record<string, unknown>).value : value;
  const q = typeof raw === 'number' ? String(raw) : raw;
  return typeof q === 'string' && isQuantity(q) ? q : undefined;
}

function sorted<T>(entries: Array<[string, T]>): Record<string, T> {
  return Object.fromEntries(entries.sort(([a], [b]) => compareStrings(a, b)));
}

/** A device of a ResourceSlice, with all its attributes and the node it is on. */
export interface SliceDevice {
  readonly node: string | undefined;
  readonly device: FleetDevice;
}

/**
 * The devices of a ResourceSlice (v1 and v1beta2 flat, v1beta1 under `basic`), each as a {@link FleetDevice} named
 * as in the slice, with every attribute and capacity it has. Attributes of types this version does not know are
 * left out. A device's node is the slice's `spec.nodeName`, or the device's own with `perDeviceNodeSelection`.
 */
export function sliceDevices(slice: K8sObject): SliceDevice[] {
  const spec = slice.spec ?? {};
  return ((spec.devices ?? []) as K8sObject[]).map(d => {
    const body = d.basic ?? d;
    const attributes = Object.entries(body.attributes ?? {}).flatMap(([k, v]): Array<[string, DeviceAttributeValue]> => {
      const c = convertAttribute(v);
      return c === undefined ? [] : [[k, c]];
    });
    const capacity = Object.entries(body.capacity ?? {}).flatMap(([k, v]): Array<[string, string]> => {
      const c = convertCapacity(v);
      return c === undefined ? [] : [[k, c]];
    });
    return {
      node: d.nodeName ?? spec.nodeName,
      device: { name: d.name, driver: spec.driver, attributes: sorted(attributes), capacity: sorted(capacity) },
    };
  });
}

/**
 * The slices that describe a resource pool now: per driver and pool name, those of the highest
 * `spec.pool.generation` (a driver publishing a new generation leaves older slices behind for a moment).
 */
export function currentSlices(slices: readonly K8sObject[]): K8sObject[] {
  const key = (s: K8sObject) => `${s.spec?.driver}\u0000${s.spec?.pool?.name}`;
  const latest = new Map<string, number>();
  for (const s of slices) latest.set(key(s), Math.max(latest.get(key(s)) ?? -Infinity, Number(s.spec?.pool?.generation ?? 0)));
  return slices.filter(s => Number(s.spec?.pool?.generation ?? 0) === latest.get(key(s)));
}

/**
 * The DeviceClass a device is claimed through: the first class, by name, all of whose CEL selectors match it (a class
 * without selectors matches every device). A selector that is not CEL, or does not compile here, never matches.
 * Undefined when no class matches: the device cannot be claimed.
 */
export function deviceClassOf(device: FleetDevice, classes: readonly K8sObject[]): string | undefined {
  const byName = [...classes].sort((a, b) => compareStrings(a.metadata.name, b.metadata.name));
  return byName.find(c => ((c.spec?.selectors ?? []) as K8sObject[]).every(s => {
    const expression = s.cel?.expression;
    return typeof expression === 'string' && deviceSelectorError(expression) === undefined && evaluateDeviceSelector(expression, device);
  }))?.metadata.name;
}

function isIdentity(attribute: string): boolean {
  return IDENTITY_ATTRIBUTES.has(attribute.slice(attribute.lastIndexOf('/') + 1).toLowerCase());
}

/** A device kind: a device without its name, and the key that tells kinds apart. */
interface DeviceKind {
  readonly key: string;
  readonly device: Omit<FleetDevice, 'name' | 'count'>;
}

/**
 * The kind of a device: its driver, class, attributes without {@link IDENTITY_ATTRIBUTES}, and capacity. Two devices
 * are alike when these are equal, quantities compared by value (`80Gi` equals `85899345920`).
 */
function kindOf(device: FleetDevice, classes: readonly K8sObject[]): DeviceKind {
  const deviceClassName = deviceClassOf(device, classes);
  const attributes = sorted(Object.entries(device.attributes ?? {}).filter(([k]) => !isIdentity(k)));
  const capacity = device.capacity ?? {};
  const key = JSON.stringify([device.driver, deviceClassName ?? null, attributes,
    Object.entries(capacity).map(([k, v]) => [k, parseQuantity(v).toString()])]);
  return { key, device: { driver: device.driver, ...(deviceClassName ? { deviceClassName } : {}), attributes, capacity } };
}

/** A DNS label from the first part of a driver name: `gpu.nvidia.com` gives `gpu`. */
function baseName(driver: string): string {
  const label = String(driver ?? '').split('.')[0].toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50);
  return label || 'device';
}

/**
 * Names the device kinds of one pool. A kind is named after the first label of its driver (`gpu.nvidia.com` and
 * `gpu.amd.com` give `gpu`, `nic.example.com` gives `nic`). When several kinds of the pool share that name, each is
 * `<name>-<i>`, numbered from 0 in the order of their kind keys (driver, class, attributes, capacity), so the
 * names are the same on every read of the same devices. The ledger counts usage by these names: a pool is meant to
 * be homogeneous, and adding a kind to it can renumber the others.
 */
export function nameDeviceKinds(keys: readonly { readonly key: string; readonly driver: string }[]): Map<string, string> {
  const byBase = new Map<string, string[]>();
  for (const { key, driver } of keys) byBase.set(baseName(driver), [...(byBase.get(baseName(driver)) ?? []), key]);
  const names = new Map<string, string>();
  for (const [base, group] of byBase) {
    const unique = [...new Set(group)].sort();
    unique.forEach((key, i) => names.set(key, unique.length === 1 ? base : `${base}-${i}`));
  }
  return names;
}

function isSchedulable(node: K8sObject): boolean {
  const ready = ((node.status?.conditions ?? []) as K8sObject[]).some(c => c.type === 'Ready' && c.status === 'True');
  return ready && !node.spec?.unschedulable;
}

/** Where a device of the cluster is: its node, the node's pool, and the name of its kind in that pool. */
interface PlacedDevice {
  readonly node: string;
  readonly pool: string;
  readonly kind: string;
}

/** The node pools of a cluster, and where each of its devices (by driver, DRA pool and name) sits. */
interface PoolFold {
  readonly pools: FleetNodePool[];
  /** By `<driver> <DRA pool> <device>`. */
  readonly devices: ReadonlyMap<string, PlacedDevice>;
  /** The pool of each pooled node. */
  readonly poolOfNode: ReadonlyMap<string, string>;
  /** Per pooled node, its device kinds as named in its pool, with their driver and class. */
  readonly kindsOfNode: ReadonlyMap<string, ReadonlyArray<{ readonly name: string; readonly driver: string; readonly deviceClassName?: string }>>;
}

function deviceKey(driver: unknown, pool: unknown, device: unknown): string {
  return `${driver}\u0000${pool}\u0000${device}`;
}

function foldPools(nodes: readonly K8sObject[], slices: readonly K8sObject[], classes: readonly K8sObject[]): PoolFold {
  const perNode = new Map<string, Map<string, { kind: DeviceKind; count: number }>>();
  const kindOfDevice = new Map<string, { node: string; kindKey: string }>();
  for (const s of currentSlices(slices)) {
    for (const { node, device } of sliceDevices(s)) {
      if (!node) continue;
      const kinds = perNode.get(node) ?? new Map();
      perNode.set(node, kinds);
      const kind = kindOf(device, classes);
      const entry = kinds.get(kind.key) ?? { kind, count: 0 };
      entry.count++;
      kinds.set(kind.key, entry);
      kindOfDevice.set(deviceKey(s.spec?.driver, s.spec?.pool?.name, device.name), { node, kindKey: kind.key });
    }
  }

  const pools = new Map<string, K8sObject[]>();
  for (const node of nodes) {
    const pool = node.metadata?.labels?.[NODE_POOL_LABEL];
    if (pool) pools.set(pool, [...(pools.get(pool) ?? []), node]);
  }

  const poolOfNode = new Map<string, string>();
  const kindNames = new Map<string, Map<string, string>>();
  const kindsOfNode = new Map<string, Array<{ name: string; driver: string; deviceClassName?: string }>>();
  const result = [...pools].map(([name, members]): FleetNodePool => {
    const schedulable = members.filter(isSchedulable);
    const basis = (schedulable.length ? schedulable : members).map(n => perNode.get(n.metadata.name) ?? new Map());
    const kinds = new Map<string, DeviceKind>();
    for (const m of basis) for (const { kind } of m.values()) kinds.set(kind.key, kind);
    const counted = [...kinds.values()]
      .map(kind => ({ kind, count: Math.min(...basis.map(m => m.get(kind.key)?.count ?? 0)) }))
      .filter(k => k.count > 0);
    const names = nameDeviceKinds(counted.map(({ kind }) => ({ key: kind.key, driver: kind.device.driver })));
    kindNames.set(name, names);
    const devicesPerNode = counted
      .map(({ kind, count }): FleetDevice => ({ name: names.get(kind.key)!, ...kind.device, count }))
      .sort((a, b) => compareStrings(a.name, b.name));
    for (const n of members) {
      poolOfNode.set(n.metadata.name, name);
      kindsOfNode.set(n.metadata.name, devicesPerNode.map(d => ({ name: d.name, driver: d.driver, deviceClassName: d.deviceClassName })));
    }
    const nodeNames = schedulable.map(n => String(n.metadata.name)).sort(compareStrings);
    return { name, nodes: schedulable.length, devicesPerNode, nodeNames };
  });

  const devices = new Map<string, PlacedDevice>();
  for (const [key, { node, kindKey }] of kindOfDevice) {
    const pool = poolOfNode.get(node);
    // A kind the pool left out (some node lacks it) is not counted.
    const kind = pool === undefined ? undefined : kindNames.get(pool)!.get(kindKey);
    if (pool !== undefined && kind !== undefined) devices.set(key, { node, pool, kind });
  }
  return { pools: result.sort((a, b) => compareStrings(a.name, b.name)), devices, poolOfNode, kindsOfNode };
}

/**
 * The node pools of a cluster: Nodes labelled {@link NODE_POOL_LABEL}, grouped by its value. `nodes` counts the Ready,
 * schedulable ones, and `nodeNames` names them, sorted. Their devices come from the current ResourceSlices on each
 * node, grouped into kinds (see `kindOf`), with the DeviceClass each is claimed through ({@link deviceClassOf}) and
 * named by {@link nameDeviceKinds}. A kind's `count` is the fewest any counted node has (a pool is meant to be
 * homogeneous; a kind some node lacks is left out). A pool without a schedulable node still lists its nodes' devices,
 * with `nodes: 0`. Pools and devices are sorted by name.
 */
export function nodePoolsOf(nodes: readonly K8sObject[], slices: readonly K8sObject[], classes: readonly K8sObject[]): FleetNodePool[] {
  return foldPools(nodes, slices, classes).pools;
}

/** The objects one cluster's inventory and ledger are folded from. */
export interface ClusterObjectLists {
  /** The Nodes labelled {@link NODE_POOL_LABEL}. */
  readonly nodes: readonly K8sObject[];
  /** The ResourceSlices (of every generation: the current ones are picked). */
  readonly slices: readonly K8sObject[];
  /** The DeviceClasses. */
  readonly classes: readonly K8sObject[];
  /** Deployments and StatefulSets labelled {@link LedgerLabels.DEPLOYMENT} (with their `kind`). */
  readonly workloads: readonly K8sObject[];
  /** The cluster's Pods. */
  readonly pods: readonly K8sObject[];
  /** The cluster's ResourceClaims. */
  readonly claims: readonly K8sObject[];
}

/** A cluster's node pools and ledger, folded from its objects. */
export interface LiveInventory {
  /** The node pools, their nodes named. */
  readonly nodePools: FleetNodePool[];
  /** What is held node by node, then what pods not yet scheduled will hold. */
  readonly ledger: LedgerEntry[];
  /** Ledger workloads skipped or capped, and why ({@link ledgerOf}). */
  readonly warnings: SpecIssue[];
}

/**
 * A cluster's node pools ({@link nodePoolsOf}) and its ledger: what is held now, node by node
 * ({@link heldDevicesOf}), and what inferkit workloads' pods not yet scheduled will hold ({@link ledgerOf}).
 */
export function liveInventoryOf(cluster: string, objects: ClusterObjectLists): LiveInventory {
  const fold = foldPools(objects.nodes, objects.slices, objects.classes);
  const warnings: SpecIssue[] = [];
  return {
    nodePools: fold.pools,
    ledger: [...heldDevices(cluster, fold, objects), ...ledgerOf(cluster, objects.workloads, objects.pods, warnings)],
    warnings,
  };
}

/**
 * The devices held now on each pooled node of a cluster, one entry per allocated ResourceClaim per node, and one per
 * bound pod that uses extended resources (such as `nvidia.com/gpu` limits), whoever created them. A claim's devices
 * are found by `status.allocation.devices.results` (driver, pool, device) in the current ResourceSlices, and counted
 * under their kind's name in the node's pool. An extended resource counts against the node's device kind whose
 * DeviceClass names it (`spec.extendedResourceName`), else whose driver is the resource read backwards
 * (`nvidia.com/gpu` is driver `gpu.nvidia.com`); a pod whose extended resources are backed by a DRA claim
 * (`status.extendedResourceClaimStatus`) is counted by that claim. The owner is `<namespace>/<deployment>` when the
 * consuming pod carries {@link LedgerLabels.DEPLOYMENT}, so a deployment's own pods are left out when it is placed
 * again. Devices on nodes outside every pool are left out.
 */
export function heldDevicesOf(cluster: string, objects: ClusterObjectLists): LedgerEntry[] {
  return heldDevices(cluster, foldPools(objects.nodes, objects.slices, objects.classes), objects);
}

const FINISHED = new Set(['Succeeded', 'Failed']);

function heldDevices(cluster: string, fold: PoolFold, objects: ClusterObjectLists): LedgerEntry[] {
  const podKey = (namespace: unknown, name: unknown) => `${namespace ?? 'default'}\u0000${name}`;
  const pods = new Map(objects.pods.map(p => [podKey(p.metadata?.namespace, p.metadata?.name), p]));
  const ownerOf = (pod: K8sObject | undefined): string | undefined => {
    const deployment = pod?.metadata?.labels?.[LedgerLabels.DEPLOYMENT];
    return deployment ? `${pod!.metadata.namespace ?? 'default'}/${deployment}` : undefined;
  };
  const entries: Array<{ sort: string; entry: LedgerEntry }> = [];
  const add = (sort: string, node: string, devices: Record<string, number>, owner: string | undefined) => {
    const pool = fold.poolOfNode.get(node)!;
    const entry: LedgerEntry = { cluster, pool, node, devices: sorted(Object.entries(devices)), ...(owner ? { owner } : {}) };
    entries.push({ sort, entry });
  };

  for (const claim of objects.claims) {
    const results = (claim.status?.allocation?.devices?.results ?? []) as K8sObject[];
    if (results.length === 0) continue;
    const namespace = claim.metadata?.namespace;
    const consumer = ((claim.status?.reservedFor ?? []) as K8sObject[]).find(r => r.resource === 'pods')?.name
      ?? ((claim.metadata?.ownerReferences ?? []) as K8sObject[]).find(o => o.kind === 'Pod')?.name;
    const owner = ownerOf(consumer === undefined ? undefined : pods.get(podKey(namespace, consumer)));
    const byNode = new Map<string, Record<string, number>>();
    for (const r of results) {
      const placed = fold.devices.get(deviceKey(r.driver, r.pool, r.device));
      if (!placed) continue;
      const devices = byNode.get(placed.node) ?? {};
      devices[placed.kind] = (devices[placed.kind] ?? 0) + 1;
      byNode.set(placed.node, devices);
    }
    for (const [node, devices] of byNode) add(`claim\u0000${podKey(namespace, claim.metadata?.name)}\u0000${node}`, node, devices, owner);
  }

  const classes = new Map(objects.classes.map(c => [c.metadata?.name, c.spec?.extendedResourceName]));
  for (const pod of objects.pods) {
    const node = pod.spec?.nodeName;
    const kinds = node ? fold.kindsOfNode.get(node) : undefined;
    if (!kinds || FINISHED.has(pod.status?.phase) || pod.status?.extendedResourceClaimStatus) continue;
    const devices: Record<string, number> = {};
    for (const [resource, count] of Object.entries(extendedResources(pod))) {
      const kind = kinds.find(k => k.deviceClassName !== undefined && classes.get(k.deviceClassName) === resource)
        ?? kinds.find(k => k.driver === driverOf(resource));
      if (kind) devices[kind.name] = (devices[kind.name] ?? 0) + count;
    }
    if (Object.keys(devices).length > 0) add(`pod\u0000${podKey(pod.metadata?.namespace, pod.metadata?.name)}`, node, devices, ownerOf(pod));
  }
  return entries.sort((a, b) => compareStrings(a.sort, b.sort)).map(e => e.entry);
}

/** `nvidia.com/gpu` is driver `gpu.nvidia.com`: the device plugin's resource name read backwards. */
function driverOf(resource: string): string {
  const slash = resource.indexOf('/');
  return slash < 0 ? resource : `${resource.slice(slash + 1)}.${resource.slice(0, slash)}`;
}

/** A pod's extended resources (names with a domain, outside kubernetes.io), as the scheduler counts them: limits, else requests, summed over its containers. */
function extendedResources(pod: K8sObject): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of (pod.spec?.containers ?? []) as K8sObject[]) {
    const given = { ...c.resources?.requests, ...c.resources?.limits } as Record<string, unknown>;
    for (const [name, value] of Object.entries(given)) {
      if (!name.includes('/') || /(^|\.)kubernetes\.io\//.test(name)) continue;
      const n = Number(value);
      if (Number.isSafeInteger(n) && n > 0) out[name] = (out[name] ?? 0) + n;
    }
  }
  return out;
}

/** Devices per pod from the ledger annotation, or why the text is not a map of device name to a whole count. */
export function parseDevicesPerPod(text: string): Record<string, number> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'it is not JSON';
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return 'it is not a JSON map';
  for (const [name, count] of Object.entries(value)) {
    if (!name) return 'a device name is empty';
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return `the count of '${name}' is not a whole number`;
  }
  return value as Record<string, number>;
}

/**
 * The ledger of a cluster's inferkit workloads: each pod of every Deployment and StatefulSet labelled
 * {@link LedgerLabels.DEPLOYMENT} is one entry of the devices its annotation {@link LedgerLabels.DEVICES_PER_POD}
 * names, in the pool its label {@link LedgerLabels.POOL} names, owned by `<namespace>/<deployment label>`, on no
 * particular node. Pods are `spec.replicas` (default 1, at most {@link MAX_OBJECT_COUNT}), less the `pods` already
 * bound to a node with the same owner, pool and annotation (their devices are counted node by node, from their claims,
 * by {@link heldDevicesOf}). A workload without the annotation holds no devices (a coordinator-only leader) and adds
 * nothing.
 *
 * A workload whose annotation is not a JSON map of device name to a whole count, or that holds devices without a pool
 * label, is skipped, and one whose replicas are over {@link MAX_OBJECT_COUNT} counts that many: each with a warning in
 * `warnings`, naming the object, so that one bad or hostile object never fails every placement on the cluster.
 */
export function ledgerOf(
  cluster: string, workloads: readonly K8sObject[], pods: readonly K8sObject[] = [], warnings: SpecIssue[] = [],
): LedgerEntry[] {
  const id = (w: K8sObject) => `${w.metadata?.namespace ?? 'default'}\u0000${w.kind}\u0000${w.metadata?.name}`;
  // Pods and workloads meet on namespace, owner, pool and devices per pod.
  const group = (namespace: unknown, deployment: unknown, pod: K8sObject | undefined) =>
    `${namespace ?? 'default'}\u0000${deployment}\u0000${pod?.labels?.[LedgerLabels.POOL]}\u0000${pod?.annotations?.[LedgerLabels.DEVICES_PER_POD]}`;
  const bound = new Map<string, number>();
  for (const p of pods) {
    const deployment = p.metadata?.labels?.[LedgerLabels.DEPLOYMENT];
    if (!p.spec?.nodeName || FINISHED.has(p.status?.phase) || !deployment) continue;
    const key = group(p.metadata.namespace, deployment, p.metadata);
    bound.set(key, (bound.get(key) ?? 0) + 1);
  }
  return [...workloads].sort((a, b) => compareStrings(id(a), id(b))).flatMap(w => {
    const meta = w.metadata ?? {};
    // The owner is on the workload (the cluster is listed by it); the pool and devices on its pod template, which is
    // per member (a leader and its workers may hold different devices in one group).
    const pod = w.spec?.template?.metadata ?? {};
    const deployment = meta.labels?.[LedgerLabels.DEPLOYMENT];
    if (!deployment) return [];
    const namespace = meta.namespace ?? 'default';
    const warn = (field: string, value: unknown, cause: string, fix: string) =>
      warnings.push({ path: `${w.kind}/${meta.name}`, field, value, cause: `in namespace ${namespace} of cluster ${cluster}, ${cause}`, fix });
    const text = pod.annotations?.[LedgerLabels.DEVICES_PER_POD];
    if (text === undefined) return [];
    const parsed = parseDevicesPerPod(text);
    if (typeof parsed === 'string') {
      warn(`spec.template.metadata.annotations.${LedgerLabels.DEVICES_PER_POD}`, text,
        `is not devices per pod (${parsed}), so the ledger skips the workload and counts no devices for its pods`,
        'Fix the annotation to a JSON map of device name to count, such as {"gpu":8}');
      return [];
    }
    const devices = Object.fromEntries(Object.entries(parsed).filter(([, n]) => n > 0));
    if (Object.keys(devices).length === 0) return [];
    const pool = pod.labels?.[LedgerLabels.POOL];
    if (!pool) {
      warn(`spec.template.metadata.labels.${LedgerLabels.POOL}`, undefined,
        `the workload holds devices ${JSON.stringify(devices)} in no named pool, so the ledger skips it and counts no devices for its pods`,
        'Label the pod template with the node pool its pods run in');
      return [];
    }
    const given = w.spec?.replicas ?? 1;
    const whole = Number.isSafeInteger(given) && given > 0 ? given : 0;
    if (whole > MAX_OBJECT_COUNT) {
      warn('spec.replicas', given, `is over ${MAX_OBJECT_COUNT}, inferkit's limit of replicas per workload, so the ledger counts ${MAX_OBJECT_COUNT} pods`,
        `Check the workload: inferkit never renders more than ${MAX_OBJECT_COUNT} replicas`);
    }
    const replicas = Math.min(whole, MAX_OBJECT_COUNT);
    const key = group(namespace, deployment, pod);
    const scheduled = Math.min(bound.get(key) ?? 0, replicas);
    bound.set(key, (bound.get(key) ?? 0) - scheduled);
    const pending = replicas - scheduled;
    return Array.from({ length: pending },
      (): LedgerEntry => ({ cluster, pool, devices, owner: `${namespace}/${deployment}` }));
  });
}

/**
 * The nodes that assignments pin pods to (their members' `nodes`) in `cluster` which are no longer among the
 * Ready, schedulable nodes of their pool in `pools` (as {@link nodePoolsOf} names them), as `<pool>/<node>`, sorted.
 * A pool missing from `pools` has lost all its nodes.
 */
export function pinnedNodesGone(cluster: string, assignments: readonly ReplicaAssignment[], pools: readonly FleetNodePool[]): string[] {
  const names = new Map(pools.map(p => [p.name, new Set(p.nodeNames ?? [])]));
  const gone = new Set<string>();
  for (const a of assignments.filter(x => x.cluster === cluster)) {
    for (const m of a.members) for (const node of m.nodes ?? []) if (!names.get(m.pool)?.has(node)) gone.add(`${m.pool}/${node}`);
  }
  return [...gone].sort(compareStrings);
}
