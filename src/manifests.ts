import { Issues } from './errors';
import { INT32_MAX } from './limits';
import { GangSpec, KthenaApi, ModelInferSpec, NetworkTopologyMode, NetworkTopologySpec, RecoveryPolicy, RoleSpec, RolloutLevel, RolloutSpec } from './model-infer';
import { checkAnnotations, checkLabels, checkNamespace } from './names';

/** A Kubernetes object as parsed from YAML. */
export type Manifest = Record<string, unknown>;

/** The seed-system kinds the ModelInfer loader reads. */
export const MODEL_INFER_KINDS = [
  { apiVersion: 'workload.matrixinfer.ai/v1alpha1', kind: 'ModelInfer' },
  { apiVersion: 'workload.serving.volcano.sh/v1alpha1', kind: 'ModelServing' },
] as const;

/**
 * Metadata the API server populates: an object exported from a cluster (`kubectl get -o yaml`) carries them, and
 * they are ignored on input, as `kubectl apply` does.
 */
export const SERVER_POPULATED_METADATA = [
  'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'ownerReferences',
  'selfLink',
] as const;

/** The annotation in which `kubectl apply` keeps the last applied object: ignored on input. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * A copy of `doc` without what the API server populates: {@link SERVER_POPULATED_METADATA}, the
 * {@link LAST_APPLIED_ANNOTATION} annotation and `status`. Every other field is kept as written.
 */
export function withoutServerFields(doc: Manifest): Manifest {
  const { status: _status, ...rest } = doc;
  const metadata = doc.metadata;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) return rest;
  const m: Obj = { ...(metadata as Obj) };
  for (const k of SERVER_POPULATED_METADATA) delete m[k];
  const annotations = m.annotations;
  if (typeof annotations === 'object' && annotations !== null && !Array.isArray(annotations) && LAST_APPLIED_ANNOTATION in annotations) {
    const { [LAST_APPLIED_ANNOTATION]: _lastApplied, ...kept } = annotations as Obj;
    if (Object.keys(kept).length > 0) m.annotations = kept;
    else delete m.annotations;
  }
  return { ...rest, metadata: m };
}

/** The API groups of the seed systems, by system: a kind of theirs inferkit does not compile is refused, not passed through. */
const SEED_API_GROUPS: ReadonlyArray<{ readonly system: string; readonly groups: readonly string[] }> = [
  { system: 'Kthena', groups: ['matrixinfer.ai', 'serving.volcano.sh'] },
  { system: 'KubeDL', groups: ['kubedl.io'] },
  // `ai.flexinfer.io` is not FlexInfer's group, but several of its published examples write it: refused, not passed through.
  { system: 'FlexInfer', groups: ['ai.flexinfer', 'flexinfer.ai', 'flexinfer.io'] },
  { system: 'Modelplane', groups: ['modelplane.ai'] },
];

/**
 * The seed system whose API `apiVersion` belongs to (its group, or a subgroup such as `registry.matrixinfer.ai`), if any.
 */
export function seedSystemOf(apiVersion: string): string | undefined {
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  return SEED_API_GROUPS.find(s => s.groups.some(g => group === g || group.endsWith(`.${g}`)))?.system;
}

/** A ModelInfer read from a seed manifest: the spec with opaque (JSON) pod templates, and its metadata. */
export interface LoadedModelInfer extends ManifestMetadata {
  readonly kind: string;
  readonly spec: ModelInferSpec<Manifest>;
  readonly topologySpreadConstraints?: readonly Manifest[];
  /** Maps a construct prop name to the manifest field it came from, for messages. */
  readonly fieldName: (field: string) => string;
}

type Obj = Record<string, unknown>;

/** Reads a manifest strictly: every key must be known, or an issue is recorded. */
export class ManifestReader {
  constructor(private readonly issues: Issues, private readonly kindName: string) {}


  /** Checks apiVersion/kind/metadata/spec of a manifest without its server-populated fields; returns the metadata. */
  public topLevel(doc: Manifest): Obj {
    this.obj(doc, '', ['apiVersion', 'kind', 'metadata', 'spec']);
    const m = this.obj(doc.metadata, 'metadata', ['name', 'namespace', 'labels', 'annotations']);
    this.issues.check(typeof m.name === 'string', 'metadata.name', m.name, 'is missing', 'Name the resource');
    return m;
  }

  public obj(value: unknown, field: string, known: readonly string[], ignored: readonly string[] = []): Obj {
    if (value === undefined || value === null) return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.issues.add(field, value, 'is not an object', `Write ${field} as a mapping`);
      return {};
    }
    const o = value as Obj;
    for (const k of Object.keys(o)) {
      if (!known.includes(k) && !ignored.includes(k)) {
        this.issues.add(`${field}.${k}`, o[k], `is not a field of ${this.kindName}`, `Remove it; ${field} accepts ${known.join(', ')}`);
      }
    }
    return o;
  }

  public arr(value: unknown, field: string): unknown[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.issues.add(field, value, 'is not a list', `Write ${field} as a list`);
      return [];
    }
    return value;
  }

  /** An integer, an int32 unless a larger `max` is given (a larger one loses precision or overflows in Kubernetes). */
  public int(value: unknown, field: string, max: number = INT32_MAX): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      this.issues.add(field, value, 'is not an integer', `Write ${field} as a whole number`);
      return undefined;
    }
    return this.issues.check(Math.abs(value) <= max, field, value, `is beyond ±${max}, ${max === INT32_MAX ? 'the int32 range of the Kubernetes API' : 'the range inferkit reads exactly'}`,
      `Write ${field} as a smaller whole number`) ? value : undefined;
  }

  public intOrString(value: unknown, field: string): number | string | undefined {
    if (value === undefined || typeof value === 'number' || typeof value === 'string') return value as number | string | undefined;
    this.issues.add(field, value, 'is neither an integer nor a percentage', `Write ${field} as 1 or '25%'`);
    return undefined;
  }

  public str(value: unknown, field: string): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.issues.add(field, value, 'is not a string', `Write ${field} as text`);
      return undefined;
    }
    return value;
  }

  public stringMap(value: unknown, field: string): Record<string, string> {
    const o = this.obj(value, field, Object.keys((value ?? {}) as Obj));
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(o)) {
      if (typeof v === 'string') out[k] = v;
      else this.issues.add(`${field}.${k}`, v, 'is not a string', 'Quote the value');
    }
    return out;
  }

  public intMap(value: unknown, field: string): Record<string, number> | undefined {
    if (value === undefined) return undefined;
    const o = this.obj(value, field, Object.keys((value ?? {}) as Obj));
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(o)) {
      const n = this.int(v, `${field}.${k}`);
      if (n !== undefined) out[k] = n;
    }
    return out;
  }
}

/** Name, namespace, labels and annotations of a manifest. */
export interface ManifestMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * Starts reading a manifest: the issues (every message starts with `<Kind>/<name>`), a strict reader, and the
 * metadata, checked. What the API server populates is ignored (see {@link withoutServerFields}).
 */
export function readManifest(doc: Manifest): { issues: Issues; r: ManifestReader; meta: ManifestMetadata } {
  const raw = (doc.metadata ?? {}) as Obj;
  const name = typeof raw.name === 'string' ? raw.name : '(unnamed)';
  const issues = new Issues(`${String(doc.kind)}/${name}`);
  const r = new ManifestReader(issues, `${String(doc.apiVersion)} ${String(doc.kind)}`);
  const m = r.topLevel(withoutServerFields(doc));
  const meta = {
    name,
    namespace: r.str(m.namespace, 'metadata.namespace'),
    labels: r.stringMap(m.labels, 'metadata.labels'),
    annotations: r.stringMap(m.annotations, 'metadata.annotations'),
  };
  if (meta.namespace !== undefined) checkNamespace(issues, 'metadata.namespace', meta.namespace);
  checkLabels(issues, 'metadata.labels', meta.labels);
  checkAnnotations(issues, 'metadata.annotations', meta.annotations);
  return { issues, r, meta };
}

function topology(r: ManifestReader, value: unknown, field: string, withName: boolean): NetworkTopologySpec | undefined {
  if (value === undefined) return undefined;
  const o = r.obj(value, field, withName ? ['mode', 'highestTierAllowed', 'highestTierName'] : ['mode', 'highestTierAllowed']);
  return {
    mode: (r.str(o.mode, `${field}.mode`) ?? NetworkTopologyMode.HARD) as NetworkTopologyMode,
    highestTierAllowed: r.int(o.highestTierAllowed, `${field}.highestTierAllowed`),
    highestTierName: withName ? r.str(o.highestTierName, `${field}.highestTierName`) : undefined,
  };
}

/**
 * Reads a Kthena `workload.matrixinfer.ai/v1alpha1` ModelInfer or `workload.serving.volcano.sh/v1alpha1`
 * ModelServing into a ModelInfer spec. Every field their CRDs define is read or rejected with a reason;
 * a field they do not define is an error.
 *
 * @throws SpecError listing every problem found
 */
export function loadModelInferManifest(doc: Manifest): LoadedModelInfer {
  const serving = doc.kind === 'ModelServing';
  const { issues, r, meta } = readManifest(doc);
  const name = meta.name;

  const specKeys = serving
    ? ['replicas', 'schedulerName', 'template', 'rolloutStrategy', 'recoveryPolicy', 'plugins']
    : ['replicas', 'schedulerName', 'template', 'rolloutStrategy', 'recoveryPolicy', 'topologySpreadConstraints'];
  const s = r.obj(doc.spec, 'spec', specKeys, serving ? [] : ['modelRef']);
  if (!serving && s.modelRef !== undefined) {
    issues.add('spec.modelRef', s.modelRef, 'belongs to the simple ModelInfer form, which cannot be mixed with the roles form (spec.template)',
      'Keep spec.modelRef and drop spec.template, or the reverse');
  }
  if (serving && s.plugins !== undefined) {
    issues.add('spec.plugins', s.plugins, 'are run by the Kthena controller, which inferkit replaces',
      'Remove spec.plugins; headless Services are always rendered, and other plugin effects can be written into the pod templates');
  }

  const t = r.obj(s.template, 'spec.template', serving
    ? ['roles', 'gangPolicy', 'networkTopology', 'restartGracePeriodSeconds']
    : ['roles', 'gangSchedule', 'restartGracePeriodSeconds']);

  const roles: RoleSpec<Manifest>[] = r.arr(t.roles, 'spec.template.roles').map((raw, i) => {
    const f = `spec.template.roles[${i}]`;
    const o = r.obj(raw, f, serving
      ? ['name', 'replicas', 'entryTemplate', 'workerReplicas', 'workerTemplate', 'maxUnavailable', 'partition']
      : ['name', 'replicas', 'entryTemplate', 'workerReplicas', 'workerTemplate']);
    issues.check(o.workerReplicas !== undefined, `${f}.workerReplicas`, undefined, 'is missing; the CRD requires it', 'Add workerReplicas (0 for a single-pod role)');
    return {
      name: r.str(o.name, `${f}.name`) ?? '',
      replicas: r.int(o.replicas, `${f}.replicas`),
      workerReplicas: r.int(o.workerReplicas, `${f}.workerReplicas`),
      entryTemplate: o.entryTemplate as Manifest,
      workerTemplate: o.workerTemplate as Manifest | undefined,
      maxUnavailable: o.maxUnavailable === undefined ? undefined : r.intOrString(o.maxUnavailable, `${f}.maxUnavailable`),
      partition: o.partition === undefined ? undefined : r.intOrString(o.partition, `${f}.partition`),
    };
  });

  let gang: GangSpec | undefined;
  if (serving) {
    const g = r.obj(t.gangPolicy, 'spec.template.gangPolicy', ['minRoleReplicas']);
    const nt = r.obj(t.networkTopology, 'spec.template.networkTopology', ['groupPolicy', 'rolePolicy']);
    if (t.gangPolicy !== undefined || t.networkTopology !== undefined) {
      gang = {
        minRoleReplicas: r.intMap(g.minRoleReplicas, 'spec.template.gangPolicy.minRoleReplicas'),
        networkTopology: topology(r, nt.groupPolicy, 'spec.template.networkTopology.groupPolicy', true),
        roleNetworkTopology: topology(r, nt.rolePolicy, 'spec.template.networkTopology.rolePolicy', true),
      };
    }
  } else if (t.gangSchedule !== undefined) {
    const g = r.obj(t.gangSchedule, 'spec.template.gangSchedule', ['minRoleReplicas', 'networkTopology']);
    gang = {
      minRoleReplicas: r.intMap(g.minRoleReplicas, 'spec.template.gangSchedule.minRoleReplicas'),
      networkTopology: topology(r, g.networkTopology, 'spec.template.gangSchedule.networkTopology', false),
    };
  }

  let rollout: RolloutSpec | undefined;
  if (s.rolloutStrategy !== undefined) {
    const ro = r.obj(s.rolloutStrategy, 'spec.rolloutStrategy', ['type', 'rollingUpdateConfiguration']);
    const groupType = serving ? 'ServingGroupRollingUpdate' : 'InferGroupRollingUpdate';
    const types = serving ? [groupType, 'RoleRollingUpdate'] : [groupType];
    if (ro.type !== undefined) issues.check(types.includes(ro.type as string), 'spec.rolloutStrategy.type', ro.type, 'is not a rollout type', `Use ${types.join(' or ')}`);
    const roleLevel = ro.type === 'RoleRollingUpdate';
    issues.check(!roleLevel || ro.rollingUpdateConfiguration === undefined, 'spec.rolloutStrategy.rollingUpdateConfiguration', ro.rollingUpdateConfiguration,
      'is set while the type is RoleRollingUpdate, which the CRD forbids', 'Remove it, and set maxUnavailable and partition on each role');
    const c = r.obj(ro.rollingUpdateConfiguration, 'spec.rolloutStrategy.rollingUpdateConfiguration',
      serving ? ['maxUnavailable', 'partition'] : ['maxUnavailable', 'maxSurge', 'partition']);
    const f = 'spec.rolloutStrategy.rollingUpdateConfiguration';
    const partition = serving ? r.intOrString(c.partition, `${f}.partition`) : r.int(c.partition, `${f}.partition`);
    issues.check(typeof partition !== 'string', `${f}.partition`, partition, 'is a percentage, which a group index cannot be', 'Use the index of the first group to update');
    rollout = {
      level: roleLevel ? RolloutLevel.ROLE : RolloutLevel.GROUP,
      maxUnavailable: r.intOrString(c.maxUnavailable, `${f}.maxUnavailable`),
      maxSurge: serving ? undefined : r.intOrString(c.maxSurge, `${f}.maxSurge`),
      partition: typeof partition === 'number' ? partition : undefined,
    };
  }

  // Both CRDs default to RoleRecreate; a backend that cannot honour it says so with a warning.
  const rp = r.str(s.recoveryPolicy, 'spec.recoveryPolicy') ?? RecoveryPolicy.ROLE_RECREATE;
  const recoveryPolicy = (rp === 'ServingGroupRecreate' ? RecoveryPolicy.INFER_GROUP_RECREATE : rp) as RecoveryPolicy;
  const allowed = serving ? ['ServingGroupRecreate', 'RoleRecreate', 'None'] : Object.values(RecoveryPolicy) as string[];
  issues.check(allowed.includes(rp), 'spec.recoveryPolicy', rp, 'is not a recovery policy', `Use one of ${allowed.join(', ')}`);

  const tsc = serving ? undefined : r.arr(s.topologySpreadConstraints, 'spec.topologySpreadConstraints') as Manifest[];
  const replicas = r.int(s.replicas, 'spec.replicas');
  const schedulerName = r.str(s.schedulerName, 'spec.schedulerName');
  const restartGracePeriodSeconds = r.int(t.restartGracePeriodSeconds, 'spec.template.restartGracePeriodSeconds');
  // Checked here: the construct takes it as a Duration, which cannot be negative.
  issues.check(restartGracePeriodSeconds === undefined || restartGracePeriodSeconds >= 0, 'spec.template.restartGracePeriodSeconds', restartGracePeriodSeconds,
    'is negative', 'Give 0 or more seconds');
  issues.throwIfAny();

  const groupWord = serving ? 'gangPolicy' : 'gangSchedule';
  const fieldName = (field: string): string => {
    if (field === 'name') return 'metadata.name';
    if (field.startsWith('roles')) return `spec.template.${field}`;
    if (field.startsWith('gangScheduling.minRoleReplicas')) return field.replace('gangScheduling', `spec.template.${groupWord}`);
    if (field.startsWith('gangScheduling.roleNetworkTopology')) return field.replace('gangScheduling.roleNetworkTopology', 'spec.template.networkTopology.rolePolicy');
    if (field.startsWith('gangScheduling.networkTopology')) {
      return field.replace('gangScheduling.networkTopology', serving ? 'spec.template.networkTopology.groupPolicy' : 'spec.template.gangSchedule.networkTopology');
    }
    if (field === 'gangScheduling') return `spec.template.${groupWord}`;
    if (field === 'rolloutStrategy') return 'spec.rolloutStrategy.rollingUpdateConfiguration';
    if (field.startsWith('rolloutStrategy.')) return field.replace('rolloutStrategy.', 'spec.rolloutStrategy.rollingUpdateConfiguration.');
    if (field === 'restartGracePeriodSeconds') return 'spec.template.restartGracePeriodSeconds';
    return `spec.${field}`;
  };

  return {
    ...meta,
    kind: String(doc.kind),
    spec: {
      name,
      replicas,
      schedulerName,
      restartGracePeriodSeconds,
      gang,
      roles,
      rollout,
      recoveryPolicy,
      api: serving ? KthenaApi.MODEL_SERVING : KthenaApi.MODEL_INFER,
    },
    topologySpreadConstraints: tsc && tsc.length > 0 ? tsc : undefined,
    fieldName,
  };
}

/** The simple ModelInfer form of the seed document: a Model reference with scaling and placement. */
export interface LoadedSimpleModelInfer extends ManifestMetadata {
  readonly modelRef: { readonly name: string; readonly namespace?: string };
  readonly replicas?: number;
  readonly autoscaling?: {
    readonly enabled?: boolean;
    readonly minReplicas?: number;
    readonly maxReplicas: number;
    readonly targetCPUUtilizationPercentage?: number;
    readonly metrics?: Manifest[];
  };
  /** Pod-level fields, as JSON: `resources` of the engine container, `nodeSelector`, `tolerations`, `affinity`. */
  readonly pod: {
    readonly resources?: Manifest; readonly nodeSelector?: Record<string, string>; readonly tolerations?: Manifest[]; readonly affinity?: Manifest;
  };
}

/** True for the seed document's simple `workload.matrixinfer.ai/v1alpha1` ModelInfer (it has `spec.modelRef`). */
export function isSimpleModelInfer(doc: Manifest): boolean {
  return doc.apiVersion === MODEL_INFER_KINDS[0].apiVersion && doc.kind === 'ModelInfer' && ((doc.spec ?? {}) as Obj).modelRef !== undefined;
}

/**
 * Reads the simple ModelInfer form of the seed document (`spec.modelRef`, `replicas`, `autoscaling`,
 * `resources`, `nodeSelector`, `tolerations`, `affinity`). Unknown fields are errors.
 *
 * @throws SpecError listing every problem found
 */
export function loadSimpleModelInfer(doc: Manifest): LoadedSimpleModelInfer {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['modelRef', 'replicas', 'autoscaling', 'resources', 'nodeSelector', 'tolerations', 'affinity']);
  const ref = r.obj(s.modelRef, 'spec.modelRef', ['name', 'namespace']);
  const refName = r.str(ref.name, 'spec.modelRef.name');
  issues.check(refName !== undefined, 'spec.modelRef.name', undefined, 'is missing', 'Name the Model');
  let autoscaling: LoadedSimpleModelInfer['autoscaling'];
  if (s.autoscaling !== undefined) {
    const a = r.obj(s.autoscaling, 'spec.autoscaling', ['enabled', 'minReplicas', 'maxReplicas', 'targetCPUUtilizationPercentage', 'metrics']);
    if (a.enabled !== undefined) issues.check(typeof a.enabled === 'boolean', 'spec.autoscaling.enabled', a.enabled, 'is not true or false', 'Write true or false');
    const max = r.int(a.maxReplicas, 'spec.autoscaling.maxReplicas');
    issues.check(max !== undefined || a.enabled === false, 'spec.autoscaling.maxReplicas', undefined, 'is missing', 'Give the largest number of replicas');
    autoscaling = {
      enabled: a.enabled as boolean | undefined,
      minReplicas: r.int(a.minReplicas, 'spec.autoscaling.minReplicas'),
      maxReplicas: max ?? 1,
      targetCPUUtilizationPercentage: r.int(a.targetCPUUtilizationPercentage, 'spec.autoscaling.targetCPUUtilizationPercentage'),
      metrics: a.metrics === undefined ? undefined : r.arr(a.metrics, 'spec.autoscaling.metrics') as Manifest[],
    };
  }
  const replicas = r.int(s.replicas, 'spec.replicas');
  const nodeSelector = s.nodeSelector === undefined ? undefined : r.stringMap(s.nodeSelector, 'spec.nodeSelector');
  const tolerations = s.tolerations === undefined ? undefined : r.arr(s.tolerations, 'spec.tolerations') as Manifest[];
  const refNamespace = r.str(ref.namespace, 'spec.modelRef.namespace');
  issues.throwIfAny();
  return {
    ...meta,
    modelRef: { name: refName!, namespace: refNamespace },
    replicas,
    autoscaling,
    pod: { resources: s.resources as Manifest | undefined, nodeSelector, tolerations, affinity: s.affinity as Manifest | undefined },
  };
}
