import { Issues, SpecError, SpecIssue } from './errors';
import { compareStrings } from './hash';
import { Manifest, ManifestMetadata, ManifestReader, readManifest } from './manifests';
import { checkAnnotations, checkLabels, checkLabelValue, checkName, isDnsSubdomain, NameRule } from './names';
import {
  ClusterSelector, ClusterTaint, ClusterToleration, DeviceAttributeValue, FleetCluster, FleetDevice, FleetInventory, isSemver, matchesClusterSelector,
  toleratesTaint,
} from './placement';
import { isQuantity } from './quantity';

const API_VERSION = 'modelplane.ai/v1alpha1';

/** The Modelplane kind the ModelReplica loader reads. */
export const MODEL_REPLICA_KIND = { apiVersion: API_VERSION, kind: 'ModelReplica' } as const;
/** The Modelplane kind the ModelDeployment loader reads. */
export const MODEL_DEPLOYMENT_KIND = { apiVersion: API_VERSION, kind: 'ModelDeployment' } as const;
/** The Modelplane kind the InferenceCluster loader reads (cluster-scoped). */
export const INFERENCE_CLUSTER_KIND = { apiVersion: API_VERSION, kind: 'InferenceCluster' } as const;
/** The Modelplane kind the InferenceClass loader reads (cluster-scoped). */
export const INFERENCE_CLASS_KIND = { apiVersion: API_VERSION, kind: 'InferenceClass' } as const;
/** The Modelplane kind the ModelCache loader reads. */
export const MODEL_CACHE_KIND = { apiVersion: API_VERSION, kind: 'ModelCache' } as const;

type Obj = Record<string, unknown>;

/** An InferenceCluster name: a Kubernetes object name, which `inferkit synth -o` also uses as a folder name. */
const MEMBER_ROLES = ['Standalone', 'Leader', 'Worker'];
const PHASES = ['Prefill', 'Decode'];
const SERVING_MODES = ['Unified', 'PrefillDecode'];
const TAINT_EFFECTS = ['NoSchedule', 'NoExecute'];

/** A device request of an engine member, as written. */
export interface LoadedDeviceRequest {
  readonly name: string;
  readonly deviceClassName: string;
  readonly count?: number;
  readonly selectors?: string[];
}

/** What every engine member has, placed or not: its role, its size, and its pod template left as JSON. */
export interface LoadedMemberCommon {
  /** Standalone, Leader or Worker (checked). */
  readonly role?: string;
  readonly workerNodes?: number;
  /**
   * The curated pod template (one `engine` container with image, command, args and env; pull secrets; labels and
   * annotations), checked field by field: no quantity or int-or-string is among them, so the JSON is the typed form.
   */
  readonly template: Manifest;
}

/** An engine member of a ModelReplica: pinned to a node pool, claiming through named DeviceClasses. */
export interface LoadedEngineMember extends LoadedMemberCommon {
  readonly nodePoolName: string;
  readonly deviceRequests?: LoadedDeviceRequest[];
}

/** A device request of a ModelDeployment member (`nodeSelector.devices[]`): the class comes from the matched device. */
export interface LoadedDeploymentDeviceRequest {
  readonly name: string;
  readonly count?: number;
  readonly selectors: string[];
}

/** An engine member of a ModelDeployment: the placement picks its pool. */
export interface LoadedDeploymentMember extends LoadedMemberCommon {
  readonly deviceRequests?: LoadedDeploymentDeviceRequest[];
}

/** An engine, with members of either form. */
export interface LoadedEngineOf<M> {
  readonly name: string;
  readonly copies?: number;
  /** Prefill or Decode (checked). */
  readonly phase?: string;
  readonly members: M[];
}

/** An engine of a replica. */
export type LoadedEngine = LoadedEngineOf<LoadedEngineMember>;

/** A Modelplane ModelReplica read from a manifest. */
export interface LoadedModelReplica extends ManifestMetadata {
  readonly clusterName: string;
  /** Name of the ModelCache mounted into the engines, in the replica's namespace. @default - none */
  readonly modelCacheRef?: string;
  /** `spec.serving.mode`. @default 'Unified' */
  readonly servingMode?: string;
  readonly engines: ReadonlyArray<LoadedEngine>;
}

/** A Modelplane InferenceClass: the devices each node of a pool of the class has. */
export interface LoadedInferenceClass extends ManifestMetadata {
  readonly devices: readonly FleetDevice[];
}

/** A node pool of an InferenceCluster. */
export interface LoadedNodePool {
  readonly name: string;
  /** The InferenceClass describing the pool's nodes. */
  readonly className: string;
  /** Nodes placement counts: `maxNodeCount` for an autoscaled pool, else `nodeCount` (the CRD's default, 1). */
  readonly nodes: number;
  /** @default - any zone */
  readonly zones?: readonly string[];
}

/** A Modelplane InferenceCluster: a cluster of the fleet, selected by its labels. */
export interface LoadedInferenceCluster extends ManifestMetadata {
  /** `spec.cluster.source`: GKE, EKS, AKS, Nebius, Vultr or Existing. */
  readonly source: string;
  readonly taints: readonly ClusterTaint[];
  readonly nodePools: readonly LoadedNodePool[];
  /**
   * The ReadWriteMany StorageClass ModelCaches use (`spec.cluster.existing.cache.storageClassName`).
   *
   * @default - the cluster's default StorageClass (a provisioned cluster's class is known only to Modelplane)
   */
  readonly cacheStorageClassName?: string;
}

/** A Modelplane ModelCache (`source: HuggingFace`). */
export interface LoadedModelCache extends ManifestMetadata {
  readonly repo: string;
  readonly revision?: string;
  readonly authSecret?: { readonly name: string; readonly key?: string };
  readonly sizeGiB: number;
  /** @default - every cluster */
  readonly clusterSelector?: ClusterSelector;
}

/** A Modelplane ModelDeployment read from a manifest; placement is left to the solver. */
export interface LoadedModelDeployment extends ManifestMetadata {
  readonly replicas: number;
  /** `spec.template.metadata.labels`: set on every replica's objects. */
  readonly templateLabels: Readonly<Record<string, string>>;
  readonly clusterSelector?: ClusterSelector;
  /** Name of the ModelCache, in the deployment's namespace. */
  readonly modelCacheRef?: string;
  readonly servingMode?: 'Unified' | 'PrefillDecode';
  readonly tolerations: readonly ClusterToleration[];
  readonly engines: ReadonlyArray<LoadedEngineOf<LoadedDeploymentMember>>;
}

/** The fields of a ModelDeployment's `spec.template.spec`. */
const TEMPLATE_SPEC_FIELDS = ['clusterSelector', 'modelCacheRef', 'serving', 'tolerations', 'engines'];

/** Objects read from values that are not mappings (already reported): their fields are not reported missing. */
const NOT_A_MAPPING = new WeakSet<Obj>();

/** Reads a mapping strictly (see {@link ManifestReader.obj}). */
function obj(r: ManifestReader, value: unknown, field: string, known: readonly string[], ignored: readonly string[] = []): Obj {
  const o = r.obj(value, field, known, ignored);
  if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) NOT_A_MAPPING.add(o);
  return o;
}

/** Records "is missing" when `parent` (a mapping) lacks `key`; returns whether it has it. */
function required(issues: Issues, parent: Obj, key: string, field: string, fix: string): boolean {
  return NOT_A_MAPPING.has(parent) || issues.check(parent[key] !== undefined, field, undefined, 'is missing', fix);
}

/** A required string field of `parent`. */
function requiredStr(r: ManifestReader, issues: Issues, parent: Obj, key: string, field: string, fix: string): string | undefined {
  required(issues, parent, key, field, fix);
  return r.str(parent[key], field);
}

function bool(issues: Issues, value: unknown, field: string): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  issues.add(field, value, 'is not true or false', 'Write true or false');
  return undefined;
}

function strList(r: ManifestReader, value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  return r.arr(value, field).map((v, i) => r.str(v, `${field}[${i}]`) ?? '');
}

function oneOf<T extends string>(issues: Issues, value: string | undefined, allowed: readonly T[], field: string, what: string): T | undefined {
  if (value === undefined) return undefined;
  return issues.check((allowed as readonly string[]).includes(value), field, value, `is not ${what}`, `Use ${allowed.join(' or ')}`) ? value as T : undefined;
}

/** An integer from `min` to `max` (no upper bound when `max` is Infinity). */
function intIn(r: ManifestReader, issues: Issues, value: unknown, field: string, min: number, max: number, fix: string): number | undefined {
  const n = r.int(value, field);
  if (n !== undefined) issues.check(n >= min && n <= max, field, n, max === Infinity ? `is below ${min}` : `is outside ${min} to ${max}`, fix);
  return n;
}

function clusterScoped(issues: Issues, meta: ManifestMetadata, kinds: string): void {
  issues.check(meta.namespace === undefined, 'metadata.namespace', meta.namespace, `is set, but ${kinds} are cluster-scoped`, 'Remove it');
}

function readClusterSelector(r: ManifestReader, value: unknown, field: string): ClusterSelector | undefined {
  if (value === undefined) return undefined;
  const o = obj(r, value, field, ['matchLabels']);
  return { matchLabels: r.stringMap(o.matchLabels, `${field}.matchLabels`) };
}

function readSecretKeyRef(r: ManifestReader, issues: Issues, value: unknown, field: string): void {
  const o = obj(r, value, field, ['name', 'key', 'optional']);
  requiredStr(r, issues, o, 'name', `${field}.name`, 'Name the object');
  requiredStr(r, issues, o, 'key', `${field}.key`, 'Name the key');
  bool(issues, o.optional, `${field}.optional`);
}

/**
 * Checks a member's pod template against Modelplane's curated subset of PodTemplateSpec, field by field and type by
 * type, and returns it as written.
 */
function readTemplate(r: ManifestReader, issues: Issues, value: unknown, f: string): Manifest {
  const t = obj(r, value, f, ['metadata', 'spec']);
  const md = obj(r, t.metadata, `${f}.metadata`, ['labels', 'annotations']);
  if (md.labels !== undefined) checkLabels(issues, `${f}.metadata.labels`, r.stringMap(md.labels, `${f}.metadata.labels`));
  if (md.annotations !== undefined) checkAnnotations(issues, `${f}.metadata.annotations`, r.stringMap(md.annotations, `${f}.metadata.annotations`));
  const ts = obj(r, t.spec, `${f}.spec`, ['containers', 'imagePullSecrets']);
  const containers = r.arr(ts.containers, `${f}.spec.containers`);
  issues.check(containers.length === 1 || NOT_A_MAPPING.has(t) || NOT_A_MAPPING.has(ts) || !Array.isArray(ts.containers ?? []), `${f}.spec.containers`, containers.length, 'is not one container: a member\'s pods run the engine container only',
    'Give one container, named engine');
  containers.forEach((raw, k) => {
    const cf = `${f}.spec.containers[${k}]`;
    const c = obj(r, raw, cf, ['name', 'image', 'command', 'args', 'env']);
    const name = requiredStr(r, issues, c, 'name', `${cf}.name`, 'Name the container engine');
    if (name !== undefined) issues.check(name === 'engine', `${cf}.name`, name, 'is not engine: the single container must be named engine', 'Name it engine');
    requiredStr(r, issues, c, 'image', `${cf}.image`, 'Give the engine image, such as vllm/vllm-openai:v0.23.0');
    strList(r, c.command, `${cf}.command`);
    strList(r, c.args, `${cf}.args`);
    r.arr(c.env, `${cf}.env`).forEach((rawEnv, j) => {
      const ef = `${cf}.env[${j}]`;
      const e = obj(r, rawEnv, ef, ['name', 'value', 'valueFrom']);
      requiredStr(r, issues, e, 'name', `${ef}.name`, 'Name the variable');
      r.str(e.value, `${ef}.value`);
      if (e.valueFrom === undefined) return;
      const from = obj(r, e.valueFrom, `${ef}.valueFrom`, ['secretKeyRef', 'configMapKeyRef', 'fieldRef']);
      if (from.secretKeyRef !== undefined) readSecretKeyRef(r, issues, from.secretKeyRef, `${ef}.valueFrom.secretKeyRef`);
      if (from.configMapKeyRef !== undefined) readSecretKeyRef(r, issues, from.configMapKeyRef, `${ef}.valueFrom.configMapKeyRef`);
      if (from.fieldRef !== undefined) {
        const fr = obj(r, from.fieldRef, `${ef}.valueFrom.fieldRef`, ['fieldPath', 'apiVersion']);
        requiredStr(r, issues, fr, 'fieldPath', `${ef}.valueFrom.fieldRef.fieldPath`, 'Give the pod field, such as status.podIP');
        r.str(fr.apiVersion, `${ef}.valueFrom.fieldRef.apiVersion`);
      }
    });
  });
  r.arr(ts.imagePullSecrets, `${f}.spec.imagePullSecrets`).forEach((s, j) =>
    requiredStr(r, issues, obj(r, s, `${f}.spec.imagePullSecrets[${j}]`, ['name']), 'name', `${f}.spec.imagePullSecrets[${j}].name`, 'Name the Secret'));
  return (value ?? {}) as Manifest;
}

/** CEL selectors, `[{cel}]`: each must carry its expression. */
function readSelectors(r: ManifestReader, issues: Issues, value: unknown, field: string): string[] {
  return r.arr(value, field).map((raw, k) => {
    const sf = `${field}[${k}]`;
    return requiredStr(r, issues, obj(r, raw, sf, ['cel']), 'cel', `${sf}.cel`,
      "Give a CEL expression, such as device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0") ?? '';
  });
}

/**
 * Reads the engines of a ModelReplica or a ModelDeployment: everything the two share (engine name, copies, phase;
 * member role, worker size, curated template), with `placement` reading what differs (a replica's pool and named
 * classes, a deployment's device requests).
 */
function readEngines<P>(
  r: ManifestReader, issues: Issues, value: unknown, field: string,
  placement: { readonly keys: readonly string[]; readonly read: (m: Obj, mf: string) => P },
): Array<LoadedEngineOf<LoadedMemberCommon & P>> {
  return r.arr(value, field).map((raw, e) => {
    const f = `${field}[${e}]`;
    const o = obj(r, raw, f, ['name', 'copies', 'phase', 'members']);
    return {
      name: requiredStr(r, issues, o, 'name', `${f}.name`, 'Name the engine') ?? '',
      copies: r.int(o.copies, `${f}.copies`),
      phase: oneOf(issues, r.str(o.phase, `${f}.phase`), PHASES, `${f}.phase`, 'a phase'),
      members: r.arr(o.members, `${f}.members`).map((rawMember, i) => {
        const mf = `${f}.members[${i}]`;
        const m = obj(r, rawMember, mf, ['role', 'worker', 'template', ...placement.keys]);
        const role = oneOf(issues, r.str(m.role, `${mf}.role`), MEMBER_ROLES, `${mf}.role`, 'a role');
        let workerNodes: number | undefined;
        if (m.worker !== undefined) {
          issues.check(role === 'Worker', `${mf}.worker`, m.worker, `is set on a ${role ?? 'Standalone'} member`, 'Set worker on the Worker member only');
          const w = obj(r, m.worker, `${mf}.worker`, ['nodes']);
          required(issues, w, 'nodes', `${mf}.worker.nodes`, 'Give the number of worker nodes, 1 to 63');
          workerNodes = r.int(w.nodes, `${mf}.worker.nodes`);
        } else {
          issues.check(role !== 'Worker', `${mf}.worker`, undefined, 'is missing on a Worker member', 'Give worker.nodes, the number of worker nodes (1 to 63)');
        }
        required(issues, m, 'template', `${mf}.template`, 'Give the member a pod template with its engine container');
        return { role, workerNodes, template: readTemplate(r, issues, m.template, `${mf}.template`), ...placement.read(m, mf) };
      }),
    };
  });
}

/**
 * Reads a Modelplane `modelplane.ai/v1alpha1` ModelReplica (placement already resolved): its cluster, the ModelCache
 * it mounts (by name), its serving mode and its engines. Unknown fields are errors.
 *
 * @throws SpecError listing every problem found
 */
export function loadModelReplica(doc: Manifest): LoadedModelReplica {
  const { issues, r, meta } = readManifest(doc);
  const s = obj(r, doc.spec, 'spec', ['clusterName', 'modelCacheRef', 'serving', 'engines']);
  const clusterName = requiredStr(r, issues, s, 'clusterName', 'spec.clusterName', 'Name the cluster the replica is pinned to');
  if (clusterName !== undefined) {
    issues.check(isDnsSubdomain(clusterName), 'spec.clusterName', clusterName, 'is not an InferenceCluster name (a DNS-1123 subdomain)', 'Use the metadata.name of the cluster');
  }
  const modelCacheRef = s.modelCacheRef === undefined ? undefined
    : requiredStr(r, issues, obj(r, s.modelCacheRef, 'spec.modelCacheRef', ['name']), 'name', 'spec.modelCacheRef.name', 'Name the ModelCache');
  const servingMode = s.serving === undefined ? undefined : r.str(obj(r, s.serving, 'spec.serving', ['mode']).mode, 'spec.serving.mode');
  if (servingMode !== undefined) oneOf(issues, servingMode, ['Unified', 'PrefillDecode'], 'spec.serving.mode', 'a serving mode');
  const engines = readEngines(r, issues, s.engines, 'spec.engines', {
    keys: ['nodePoolName', 'deviceRequests'],
    read: (m, mf) => ({
      nodePoolName: requiredStr(r, issues, m, 'nodePoolName', `${mf}.nodePoolName`, 'Name the node pool the member is pinned to') ?? '',
      deviceRequests: m.deviceRequests === undefined ? undefined : r.arr(m.deviceRequests, `${mf}.deviceRequests`).map((rawReq, j): LoadedDeviceRequest => {
        const rf = `${mf}.deviceRequests[${j}]`;
        const q = obj(r, rawReq, rf, ['name', 'deviceClassName', 'count', 'selectors']);
        const deviceClassName = r.str(q.deviceClassName, `${rf}.deviceClassName`);
        if (deviceClassName) checkName(issues, `${rf}.deviceClassName`, deviceClassName, NameRule.DNS1123_SUBDOMAIN);
        return {
          name: r.str(q.name, `${rf}.name`) ?? '',
          deviceClassName: deviceClassName ?? '',
          count: r.int(q.count, `${rf}.count`),
          selectors: q.selectors === undefined ? undefined : readSelectors(r, issues, q.selectors, `${rf}.selectors`),
        };
      }),
    }),
  });
  issues.throwIfAny();
  return { ...meta, clusterName: clusterName!, modelCacheRef, servingMode, engines };
}

/**
 * Reads a Modelplane ModelDeployment: replicas, template labels, cluster selector, cache reference, serving mode,
 * tolerations and engines, whose members ask for devices (`nodeSelector.devices`) rather than naming a pool. Unknown
 * fields are errors.
 *
 * @throws SpecError listing every problem found
 */
export function loadModelDeployment(doc: Manifest): LoadedModelDeployment {
  const { issues, r, meta } = readManifest(doc);
  const s = obj(r, doc.spec, 'spec', ['replicas', 'template'], TEMPLATE_SPEC_FIELDS);
  // Modelplane's own demo manifests once wrote these beside spec.replicas; its CRD has them in the replica template only.
  const misplaced = TEMPLATE_SPEC_FIELDS.filter(k => s[k] !== undefined);
  for (const key of misplaced) {
    issues.add(`spec.${key}`, s[key], 'is a field of the ModelReplica template, not of the ModelDeployment spec: the CRD keeps everything but ' +
      'replicas under spec.template.spec', `Move it to spec.template.spec.${key}`);
  }
  required(issues, s, 'replicas', 'spec.replicas', 'Give the number of replicas, 1 to 10');
  if (misplaced.length === 0) required(issues, s, 'template', 'spec.template', 'Give the template of the replicas, with their engines in spec.template.spec.engines');
  const replicas = intIn(r, issues, s.replicas, 'spec.replicas', 1, 10, 'Give 1 to 10 replicas, as the ModelDeployment CRD allows');
  const t = obj(r, s.template, 'spec.template', ['metadata', 'spec']);
  const templateLabels = r.stringMap(obj(r, t.metadata, 'spec.template.metadata', ['labels']).labels, 'spec.template.metadata.labels');
  checkLabels(issues, 'spec.template.metadata.labels', templateLabels);
  const f = 'spec.template.spec';
  const ts = obj(r, t.spec, f, TEMPLATE_SPEC_FIELDS);
  const modelCacheRef = ts.modelCacheRef === undefined ? undefined
    : requiredStr(r, issues, obj(r, ts.modelCacheRef, `${f}.modelCacheRef`, ['name']), 'name', `${f}.modelCacheRef.name`, 'Name the ModelCache');
  let servingMode: LoadedModelDeployment['servingMode'];
  if (ts.serving !== undefined) {
    const mode = requiredStr(r, issues, obj(r, ts.serving, `${f}.serving`, ['mode']), 'mode', `${f}.serving.mode`, 'Give Unified or PrefillDecode');
    servingMode = oneOf(issues, mode, SERVING_MODES, `${f}.serving.mode`, 'a serving mode') as LoadedModelDeployment['servingMode'];
  }
  const tolerations = r.arr(ts.tolerations, `${f}.tolerations`).map((raw, i): ClusterToleration => {
    const tf = `${f}.tolerations[${i}]`;
    const o = obj(r, raw, tf, ['key', 'operator', 'value', 'effect']);
    return {
      key: r.str(o.key, `${tf}.key`),
      operator: oneOf(issues, r.str(o.operator, `${tf}.operator`), ['Exists', 'Equal'] as const, `${tf}.operator`, 'a toleration operator'),
      value: r.str(o.value, `${tf}.value`),
      effect: oneOf(issues, r.str(o.effect, `${tf}.effect`), TAINT_EFFECTS, `${tf}.effect`, 'a cluster taint effect') as ClusterToleration['effect'],
    };
  });
  const engines = readEngines(r, issues, ts.engines, `${f}.engines`, {
    keys: ['nodeSelector'],
    read: (m, mf) => {
      if (m.nodeSelector === undefined) return {};
      const ns = obj(r, m.nodeSelector, `${mf}.nodeSelector`, ['devices']);
      required(issues, ns, 'devices', `${mf}.nodeSelector.devices`, 'List the devices each pod needs, or remove nodeSelector');
      return {
        deviceRequests: r.arr(ns.devices, `${mf}.nodeSelector.devices`).map((rawReq, j): LoadedDeploymentDeviceRequest => {
          const rf = `${mf}.nodeSelector.devices[${j}]`;
          const q = obj(r, rawReq, rf, ['name', 'count', 'selectors']);
          required(issues, q, 'selectors', `${rf}.selectors`,
            "Give at least one CEL selector, such as device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0");
          return {
            name: requiredStr(r, issues, q, 'name', `${rf}.name`, 'Name the request') ?? '',
            count: r.int(q.count, `${rf}.count`),
            selectors: readSelectors(r, issues, q.selectors, `${rf}.selectors`),
          };
        }),
      };
    },
  });
  const clusterSelector = readClusterSelector(r, ts.clusterSelector, `${f}.clusterSelector`);
  issues.throwIfAny();
  return {
    ...meta,
    replicas: replicas!,
    templateLabels,
    clusterSelector,
    modelCacheRef,
    servingMode,
    tolerations,
    engines,
  };
}

/** A typed DRA attribute: exactly one of `string`, `int`, `bool`, `version`. */
function readAttribute(r: ManifestReader, issues: Issues, value: unknown, field: string): DeviceAttributeValue | undefined {
  const o = obj(r, value, field, ['string', 'int', 'bool', 'version']);
  const set = Object.keys(o);
  if (NOT_A_MAPPING.has(o)) return undefined;
  if (set.length !== 1) {
    issues.add(field, value, set.length === 0 ? 'sets no typed value' : `sets ${set.join(' and ')}`, 'Set exactly one of string, int, bool, version');
    return undefined;
  }
  switch (set[0]) {
    case 'string': return r.str(o.string, `${field}.string`);
    case 'bool': return bool(issues, o.bool, `${field}.bool`);
    case 'int': {
      // DRA's int attributes are int64: those JavaScript holds exactly are read.
      return r.int(o.int, `${field}.int`, Number.MAX_SAFE_INTEGER);
    }
    case 'version': {
      const v = r.str(o.version, `${field}.version`);
      return v !== undefined && issues.check(isSemver(v), `${field}.version`, v, 'is not a semantic version', 'Give major.minor.patch, such as 9.0.0') ? { version: v } : undefined;
    }
    default: return undefined;
  }
}

function readDevice(r: ManifestReader, issues: Issues, raw: unknown, f: string): FleetDevice {
  const d = obj(r, raw, f, ['name', 'claim', 'driver', 'deviceClassName', 'count', 'attributes', 'capacity']);
  const claim = oneOf(issues, r.str(d.claim, `${f}.claim`), ['DRA', 'Synthetic'] as const, `${f}.claim`, 'a claim mode') ?? 'DRA';
  const deviceClassName = r.str(d.deviceClassName, `${f}.deviceClassName`);
  issues.check(claim !== 'DRA' || d.deviceClassName !== undefined || NOT_A_MAPPING.has(d), `${f}.deviceClassName`, undefined, 'is missing on a claim: DRA device, which pods claim through its DeviceClass',
    'Name the DeviceClass the DRA driver installs, such as gpu.nvidia.com, or set claim: Synthetic for a device placement reads but pods never claim');
  const attributes: Record<string, DeviceAttributeValue> = {};
  for (const [k, v] of Object.entries(obj(r, d.attributes, `${f}.attributes`, Object.keys((d.attributes ?? {}) as Obj)))) {
    const a = readAttribute(r, issues, v, `${f}.attributes.${k}`);
    if (a !== undefined) attributes[k] = a;
  }
  const capacity: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(r, d.capacity, `${f}.capacity`, Object.keys((d.capacity ?? {}) as Obj)))) {
    const cf = `${f}.capacity.${k}`;
    const q = requiredStr(r, issues, obj(r, v, cf, ['value']), 'value', `${cf}.value`, "Give a quantity, such as '80Gi'");
    if (q !== undefined && issues.check(isQuantity(q), `${cf}.value`, q, 'is not a Kubernetes quantity', "Give a quantity, such as '80Gi'")) capacity[k] = q;
  }
  return {
    name: requiredStr(r, issues, d, 'name', `${f}.name`, 'Name the device, such as gpu') ?? '',
    driver: requiredStr(r, issues, d, 'driver', `${f}.driver`, 'Name the DRA driver, such as gpu.nvidia.com') ?? '',
    // A Synthetic device is described for placement only; the CRD ignores its class.
    deviceClassName: claim === 'DRA' ? deviceClassName : undefined,
    count: intIn(r, issues, d.count, `${f}.count`, 1, 64, 'Give the devices of this kind on each node, 1 to 64') ?? 1,
    attributes,
    capacity,
  };
}

const PROVISIONING: Readonly<Record<string, readonly string[]>> = {
  gke: ['machineType', 'diskSizeGb', 'accelerator'],
  eks: ['instanceType', 'diskSizeGb', 'accelerator'],
  aks: ['vmSize', 'diskSizeGb', 'accelerator'],
  nebius: ['platform', 'preset', 'diskSizeGb', 'driversPreset', 'accelerator'],
  vultr: ['plan', 'accelerator'],
};

/**
 * Reads a Modelplane InferenceClass (cluster-scoped): its `spec.devices` become the devices of each node of every pool
 * of the class. `claim: Synthetic` devices have no DeviceClass (placement reads them, pods never claim them);
 * `claim: DRA`, the default, requires one. `spec.description` and `spec.provisioning` are checked and otherwise
 * ignored: they say how a cloud provisions such a pool, and placement matches devices only.
 *
 * @throws SpecError listing every problem found
 */
export function loadInferenceClass(doc: Manifest): LoadedInferenceClass {
  const { issues, r, meta } = readManifest(doc);
  clusterScoped(issues, meta, 'InferenceClasses');
  const s = obj(r, doc.spec, 'spec', ['description', 'provisioning', 'devices']);
  r.str(s.description, 'spec.description');
  if (s.provisioning !== undefined) {
    const p = obj(r, s.provisioning, 'spec.provisioning', ['provider', ...Object.keys(PROVISIONING)]);
    const provider = requiredStr(r, issues, p, 'provider', 'spec.provisioning.provider', 'Give GKE, EKS, AKS, Nebius or Vultr');
    oneOf(issues, provider, ['GKE', 'EKS', 'AKS', 'Nebius', 'Vultr'], 'spec.provisioning.provider', 'a provider');
    for (const [key, fields] of Object.entries(PROVISIONING)) {
      if (p[key] === undefined) continue;
      const block = obj(r, p[key], `spec.provisioning.${key}`, fields);
      if (block.accelerator !== undefined) obj(r, block.accelerator, `spec.provisioning.${key}.accelerator`, ['type', 'count']);
    }
  }
  required(issues, s, 'devices', 'spec.devices', 'List the devices each node of the class has');
  const devices = r.arr(s.devices, 'spec.devices').map((raw, i) => readDevice(r, issues, raw, `spec.devices[${i}]`));
  const seen = new Set<string>();
  devices.forEach((d, i) => {
    issues.check(!seen.has(d.name), `spec.devices[${i}].name`, d.name, 'names another device of the class too', 'Give every device its own name');
    seen.add(d.name);
  });
  issues.throwIfAny();
  return { ...meta, devices };
}

const CLUSTER_SOURCES: Readonly<Record<string, readonly string[]>> = {
  gke: ['region', 'kubernetesVersion', 'credentials'],
  eks: ['region', 'kubernetesVersion', 'credentials'],
  aks: ['location', 'kubernetesVersion', 'credentials'],
  nebius: ['kubernetesVersion', 'credentials'],
  vultr: ['region', 'kubernetesVersion', 'credentials'],
};
const SOURCES = ['GKE', 'EKS', 'AKS', 'Nebius', 'Vultr', 'Existing'];

/**
 * Reads a Modelplane InferenceCluster (cluster-scoped): its labels (what a `clusterSelector` matches), taints, and
 * node pools, each naming its InferenceClass. A pool holds `maxNodeCount` nodes when autoscaled, else `nodeCount`
 * (1 when omitted, the CRD's default): placement counts the most the pool can hold. `spec.cluster` says how the
 * cluster is reached or provisioned; it is checked, and only `existing.cache.storageClassName` is kept.
 *
 * @throws SpecError listing every problem found
 */
export function loadInferenceCluster(doc: Manifest): LoadedInferenceCluster {
  const { issues, r, meta } = readManifest(doc);
  clusterScoped(issues, meta, 'InferenceClusters');
  issues.check(meta.name === '(unnamed)' || isDnsSubdomain(meta.name), 'metadata.name', meta.name, 'is not a DNS-1123 subdomain', 'Use lower-case letters, digits, \'-\' and \'.\'');
  const s = obj(r, doc.spec, 'spec', ['cluster', 'taints', 'nodePools']);

  required(issues, s, 'cluster', 'spec.cluster', 'Give spec.cluster.source, and spec.cluster.existing for a cluster you bring');
  const c = obj(r, s.cluster, 'spec.cluster', ['source', 'existing', ...Object.keys(CLUSTER_SOURCES)]);
  const source = oneOf(issues, requiredStr(r, issues, c, 'source', 'spec.cluster.source', `Give one of ${SOURCES.join(', ')}`), SOURCES, 'spec.cluster.source', 'a cluster source');
  const block = source?.toLowerCase();
  if (block !== undefined) {
    issues.check(c[block] !== undefined, `spec.cluster.${block}`, undefined, `is missing, and spec.cluster.source is ${source}`, `Add spec.cluster.${block}`);
  }
  for (const [key, fields] of Object.entries(CLUSTER_SOURCES)) {
    if (c[key] === undefined) continue;
    const o = obj(r, c[key], `spec.cluster.${key}`, fields);
    if (o.credentials !== undefined) obj(r, o.credentials, `spec.cluster.${key}.credentials`, ['type', 'name']);
  }
  let cacheStorageClassName: string | undefined;
  if (c.existing !== undefined) {
    const e = obj(r, c.existing, 'spec.cluster.existing', ['secretRef', 'identitySecretRef', 'cache']);
    const secret = obj(r, e.secretRef, 'spec.cluster.existing.secretRef', ['name', 'key']);
    requiredStr(r, issues, secret, 'name', 'spec.cluster.existing.secretRef.name', 'Name the Secret holding the kubeconfig');
    if (e.identitySecretRef !== undefined) obj(r, e.identitySecretRef, 'spec.cluster.existing.identitySecretRef', ['name', 'key', 'type']);
    const cache = obj(r, e.cache, 'spec.cluster.existing.cache', ['storageClassName']);
    cacheStorageClassName = r.str(cache.storageClassName, 'spec.cluster.existing.cache.storageClassName');
  }

  const taints = r.arr(s.taints, 'spec.taints').map((raw, i): ClusterTaint => {
    const tf = `spec.taints[${i}]`;
    const o = obj(r, raw, tf, ['key', 'value', 'effect']);
    const effect = requiredStr(r, issues, o, 'effect', `${tf}.effect`, 'Give NoSchedule or NoExecute');
    return {
      key: requiredStr(r, issues, o, 'key', `${tf}.key`, 'Give the taint key') ?? '',
      value: r.str(o.value, `${tf}.value`),
      effect: (oneOf(issues, effect, TAINT_EFFECTS, `${tf}.effect`, 'a cluster taint effect') ?? 'NoSchedule') as ClusterTaint['effect'],
    };
  });

  const seen = new Set<string>();
  const nodePools = r.arr(s.nodePools, 'spec.nodePools').map((raw, i): LoadedNodePool => {
    const pf = `spec.nodePools[${i}]`;
    const o = obj(r, raw, pf, ['name', 'className', 'nodeCount', 'minNodeCount', 'maxNodeCount', 'zones', 'capacityBlock', 'fabric']);
    const name = requiredStr(r, issues, o, 'name', `${pf}.name`, 'Name the pool') ?? '';
    // Pods are pinned to the pool by the node label inferkit.dev/pool: <name>.
    if (name) checkLabelValue(issues, `${pf}.name`, name);
    issues.check(!seen.has(name), `${pf}.name`, name, 'names another pool of the cluster too', 'Give every pool its own name');
    seen.add(name);
    const nodeCount = intIn(r, issues, o.nodeCount, `${pf}.nodeCount`, 0, Infinity, 'Give 0 or more nodes');
    intIn(r, issues, o.minNodeCount, `${pf}.minNodeCount`, 0, Infinity, 'Give 0 or more nodes');
    const maxNodeCount = intIn(r, issues, o.maxNodeCount, `${pf}.maxNodeCount`, 1, Infinity, 'Give 1 or more nodes, or omit it for a fixed-size pool');
    if (o.capacityBlock !== undefined) obj(r, o.capacityBlock, `${pf}.capacityBlock`, ['capacityReservationId']);
    if (o.fabric !== undefined) {
      const fabric = obj(r, o.fabric, `${pf}.fabric`, ['type', 'infiniband']);
      oneOf(issues, r.str(fabric.type, `${pf}.fabric.type`), ['None', 'EFA', 'InfiniBand'], `${pf}.fabric.type`, 'a fabric');
      if (fabric.infiniband !== undefined) obj(r, fabric.infiniband, `${pf}.fabric.infiniband`, ['fabric']);
    }
    return {
      name,
      className: requiredStr(r, issues, o, 'className', `${pf}.className`, 'Name the InferenceClass of the pool') ?? '',
      nodes: maxNodeCount ?? nodeCount ?? 1,
      zones: strList(r, o.zones, `${pf}.zones`),
    };
  });
  issues.throwIfAny();
  return { ...meta, source: source!, taints, nodePools, cacheStorageClassName };
}

/**
 * Reads a Modelplane ModelCache (`source: HuggingFace`): the repository, revision, token Secret and size to stage,
 * and the clusters to stage it on.
 *
 * @throws SpecError listing every problem found
 */
export function loadModelCache(doc: Manifest): LoadedModelCache {
  const { issues, r, meta } = readManifest(doc);
  const s = obj(r, doc.spec, 'spec', ['source', 'huggingFace', 'clusterSelector']);
  oneOf(issues, requiredStr(r, issues, s, 'source', 'spec.source', 'Give HuggingFace'), ['HuggingFace'], 'spec.source', 'a cache source');
  required(issues, s, 'huggingFace', 'spec.huggingFace', 'Give spec.huggingFace.repo and sizeGiB');
  const hf = obj(r, s.huggingFace, 'spec.huggingFace', ['repo', 'revision', 'authSecret', 'sizeGiB']);
  const repo = requiredStr(r, issues, hf, 'repo', 'spec.huggingFace.repo', 'Give the repository id, such as Qwen/Qwen3-8B');
  required(issues, hf, 'sizeGiB', 'spec.huggingFace.sizeGiB', 'Give the size to allocate on each cluster, in GiB');
  const sizeGiB = intIn(r, issues, hf.sizeGiB, 'spec.huggingFace.sizeGiB', 1, 100_000, 'Give the staged size in whole GiB');
  let authSecret: LoadedModelCache['authSecret'];
  if (hf.authSecret !== undefined) {
    const a = obj(r, hf.authSecret, 'spec.huggingFace.authSecret', ['name', 'key']);
    authSecret = {
      name: requiredStr(r, issues, a, 'name', 'spec.huggingFace.authSecret.name', 'Name the Secret holding the token') ?? '',
      key: r.str(a.key, 'spec.huggingFace.authSecret.key'),
    };
  }
  const revision = r.str(hf.revision, 'spec.huggingFace.revision');
  const clusterSelector = readClusterSelector(r, s.clusterSelector, 'spec.clusterSelector');
  issues.throwIfAny();
  return { ...meta, repo: repo!, revision, authSecret, sizeGiB: sizeGiB!, clusterSelector };
}

/**
 * The InferenceClusters Modelplane stages a ModelCache on: those its `clusterSelector` matches, every cluster without
 * one; by name.
 */
export function stagingClusters(cache: LoadedModelCache, clusters: readonly LoadedInferenceCluster[]): LoadedInferenceCluster[] {
  return clusters.filter(c => matchesClusterSelector(cache.clusterSelector, c.labels)).sort((a, b) => compareStrings(a.name, b.name));
}

/** Throws one SpecError holding the issues of every failed load; returns the loaded values. */
function loadAll<T>(docs: readonly Manifest[], load: (doc: Manifest) => T, found: SpecIssue[]): T[] {
  const out: T[] = [];
  for (const doc of docs) {
    try {
      out.push(load(doc));
    } catch (e) {
      if (!(e instanceof SpecError)) throw e;
      found.push(...e.issues);
    }
  }
  return out;
}

/**
 * The fleet the solver places on: one cluster per InferenceCluster, with its labels and taints, and per node pool
 * the devices of its InferenceClass.
 *
 * @throws SpecError naming every InferenceCluster pool whose className names no InferenceClass given
 */
export function fleetInventory(clusters: readonly LoadedInferenceCluster[], classes: readonly LoadedInferenceClass[]): FleetInventory {
  const byName = new Map(classes.map(c => [c.name, c]));
  const known = classes.map(c => c.name).sort();
  const found: SpecIssue[] = [];
  // Two classes of one name would leave the pools' hardware to the order of the files.
  for (const name of new Set(known.filter((n, i) => known[i + 1] === n))) {
    found.push({ path: `InferenceClass/${name}`, field: 'metadata.name', value: name, cause: 'is given twice', fix: 'Give each InferenceClass once' });
  }
  const clusterNames = clusters.map(c => c.name).sort();
  for (const name of new Set(clusterNames.filter((n, i) => clusterNames[i + 1] === n))) {
    found.push({ path: `InferenceCluster/${name}`, field: 'metadata.name', value: name, cause: 'is given twice', fix: 'Give each InferenceCluster once' });
  }
  const fleet = clusters.map((c): FleetCluster => {
    const issues = new Issues(`InferenceCluster/${c.name}`);
    const nodePools = c.nodePools.map((p, i) => {
      const cls = byName.get(p.className);
      issues.check(cls !== undefined, `spec.nodePools[${i}].className`, p.className, 'names no InferenceClass in the given files',
        known.length ? `Add that InferenceClass, or use one of ${known.join(', ')}` : 'Add that InferenceClass to the input');
      return { name: p.name, nodes: p.nodes, devicesPerNode: cls?.devices ?? [] };
    });
    found.push(...issues.all);
    return { name: c.name, labels: c.labels, taints: c.taints, nodePools };
  });
  if (found.length > 0) throw new SpecError(found);
  return { clusters: fleet };
}

/** The manifests a ModelDeployment is placed with. */
export interface ModelDeploymentFleetManifests {
  /** Modelplane InferenceClusters: the clusters replicas may go to. */
  readonly clusters: readonly Manifest[];
  /** Modelplane InferenceClasses: the hardware of the clusters' node pools. */
  readonly classes: readonly Manifest[];
  /** Modelplane ModelCaches, one of which the deployment may refer to. @default [] */
  readonly caches?: readonly Manifest[];
}

/** A ModelDeployment with its fleet and cache, read and checked: what the ModelDeployment construct is built from. */
export interface LoadedModelDeploymentWithFleet {
  readonly deployment: LoadedModelDeployment;
  readonly inventory: FleetInventory;
  /** The deployment's clusterSelector with its ModelCache's merged in: replicas go only where the cache is staged. */
  readonly clusterSelector?: ClusterSelector;
  /** The referenced ModelCache, with the StorageClass of the clusters that may host the deployment. */
  readonly cache?: LoadedModelCache & { readonly storageClassName?: string };
  /** Maps a ModelDeployment construct prop path to the manifest field it came from. */
  readonly fieldName: (field: string) => string;
}

/** Maps a ModelDeployment prop path (`engines[0].members[1].deviceRequests[0].selectors[0]`) to its manifest field. */
export function modelDeploymentFieldName(field: string): string {
  if (field === 'name') return 'metadata.name';
  if (field === 'replicas') return 'spec.replicas';
  if (field === 'labels' || field.startsWith('labels.')) return `spec.template.metadata.${field}`;
  if (field === 'servingMode') return 'spec.template.spec.serving.mode';
  const spec = field
    .replace(/\.deviceRequests(?=\[|$)/, '.nodeSelector.devices')
    .replace(/(\.selectors\[\d+\])$/, '$1.cel')
    .replace(/\.(pods|workerNodes)$/, '.worker.nodes');
  return `spec.template.spec.${spec}`;
}

/**
 * Reads a ModelDeployment with the InferenceClusters, InferenceClasses and ModelCaches it is placed with: the
 * deployment, the fleet inventory, and its ModelCache (looked up by name in the deployment's namespace). Replicas go
 * only to clusters that stage the cache, so the cache's `clusterSelector` is merged into the deployment's. The cache
 * uses the `existing.cache.storageClassName` of the clusters the deployment may go to (selected, every taint
 * tolerated), which must agree: the StorageClass is one for the whole deployment.
 *
 * @throws SpecError listing every problem of every manifest
 */
export function loadModelDeploymentWithFleet(doc: Manifest, fleet: ModelDeploymentFleetManifests): LoadedModelDeploymentWithFleet {
  const found: SpecIssue[] = [];
  const [deployment] = loadAll([doc], loadModelDeployment, found);
  const clusters = loadAll(fleet.clusters, loadInferenceCluster, found);
  const classes = loadAll(fleet.classes, loadInferenceClass, found);
  const caches = loadAll(fleet.caches ?? [], loadModelCache, found);
  if (found.length > 0) throw new SpecError(found);
  const inventory = fleetInventory(clusters, classes);

  const issues = new Issues(`ModelDeployment/${deployment.name}`);
  const f = 'spec.template.spec';
  let clusterSelector = deployment.clusterSelector;
  let cache: LoadedModelDeploymentWithFleet['cache'];
  if (deployment.modelCacheRef !== undefined) {
    const namespace = deployment.namespace ?? 'default';
    const ref = caches.find(c => c.name === deployment.modelCacheRef && (c.namespace ?? 'default') === namespace);
    if (issues.check(ref !== undefined, `${f}.modelCacheRef.name`, deployment.modelCacheRef, `names no ModelCache in namespace ${namespace} in the given files`,
      'Add the ModelCache to the input, or remove modelCacheRef and mount the model with the engine templates')) {
      const labels: Record<string, string> = { ...ref!.clusterSelector?.matchLabels };
      for (const [key, value] of Object.entries(deployment.clusterSelector?.matchLabels ?? {})) {
        issues.check(labels[key] === undefined || labels[key] === value, `${f}.clusterSelector.matchLabels.${key}`, value,
          `conflicts with ModelCache/${ref!.name} spec.clusterSelector.matchLabels.${key} '${labels[key]}': replicas go only to clusters that stage the cache`,
          'Select clusters the cache is staged on, or widen the ModelCache\'s clusterSelector');
        labels[key] = value;
      }
      clusterSelector = Object.keys(labels).length > 0 ? { matchLabels: labels } : undefined;
      const eligible = clusters.filter(c => matchesClusterSelector(clusterSelector, c.labels)
        && c.taints.every(t => toleratesTaint(deployment.tolerations, t)));
      const classesOf = new Map<string, string[]>();
      for (const c of eligible) {
        const key = c.cacheStorageClassName ?? '';
        classesOf.set(key, [...(classesOf.get(key) ?? []), c.name]);
      }
      issues.check(classesOf.size <= 1, `${f}.modelCacheRef.name`, deployment.modelCacheRef,
        `is staged on clusters whose spec.cluster.existing.cache.storageClassName differ (${[...classesOf].map(([sc, names]) => `${sc || 'unset'}: ${names.join(', ')}`).join('; ')})`,
        'Give the clusters the deployment may go to the same cache storageClassName, or narrow spec.template.spec.clusterSelector to clusters that agree');
      cache = { ...ref!, storageClassName: [...classesOf.keys()][0] || undefined };
    }
  }
  issues.throwIfAny();
  return { deployment, inventory, clusterSelector, cache, fieldName: modelDeploymentFieldName };
}
