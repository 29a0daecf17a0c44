import { Issues } from './errors';
import { durationSeconds } from './flexinfer-manifest';
import { Manifest, ManifestMetadata, ManifestReader, readManifest } from './manifests';
import { isQuantity } from './quantity';

/** Kthena's registry Model of the ModelInfer era, which its model controller turned into ModelInfers, ModelServers and a ModelRoute. */
export const KTHENA_MODEL_KIND = { apiVersion: 'registry.matrixinfer.ai/v1alpha1', kind: 'Model' } as const;
/** Today's Kthena ModelBooster: one backend, which its controller turns into a ModelServing, a ModelServer and a ModelRoute. */
export const MODEL_BOOSTER_KIND = { apiVersion: 'workload.serving.volcano.sh/v1alpha1', kind: 'ModelBooster' } as const;
/** Kthena's AutoscalingPolicy, in both API generations. */
export const AUTOSCALING_POLICY_KINDS = [
  { apiVersion: 'registry.matrixinfer.ai/v1alpha1', kind: 'AutoscalingPolicy' },
  { apiVersion: 'workload.serving.volcano.sh/v1alpha1', kind: 'AutoscalingPolicy' },
] as const;
/** The ModelInfer era's AutoscalingPolicyBinding: which object a policy scales, and between which counts. */
export const AUTOSCALING_POLICY_BINDING_KIND = { apiVersion: 'registry.matrixinfer.ai/v1alpha1', kind: 'AutoscalingPolicyBinding' } as const;

/** A metric of an AutoscalingPolicy and the value per pod it aims for. */
export interface LoadedPolicyMetric {
  readonly name: string;
  readonly targetValue: string;
}

/** One direction of an AutoscalingPolicy's behavior (Kthena `stablePolicy` or `scaleDown`), defaults applied. */
export interface LoadedScalingRate {
  readonly instances: number;
  readonly percent: number;
  readonly periodSeconds: number;
  readonly selectPolicy: 'Or' | 'And';
  readonly stabilizationWindowSeconds?: number;
}

/** Kthena's panic mode of scaling up, defaults applied. */
export interface LoadedPanicPolicy {
  readonly percent: number;
  readonly periodSeconds?: number;
  readonly panicThresholdPercent: number;
  readonly panicModeHoldSeconds: number;
}

/** The scaling rules of an AutoscalingPolicy (inline in a Model, or its own object), CRD defaults applied. */
export interface LoadedPolicySpec {
  readonly metrics: readonly LoadedPolicyMetric[];
  readonly tolerancePercent: number;
  readonly scaleUp?: LoadedScalingRate;
  readonly panic?: LoadedPanicPolicy;
  readonly scaleDown?: LoadedScalingRate;
}

/** A LoRA adapter of a backend. */
export interface LoadedLoraAdapter {
  readonly name: string;
  readonly artifactUrl: string;
}

/** A backend of a Kthena Model or ModelBooster, read as the construct's props need it. */
export interface LoadedKthenaBackend {
  readonly name: string;
  readonly type: string;
  readonly modelUri: string;
  readonly cacheUri?: string;
  readonly env?: Manifest[];
  readonly envFrom?: Manifest[];
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly loraAdapters: readonly LoadedLoraAdapter[];
  readonly routeWeight: number;
  readonly scalingCost?: number;
  readonly scaleToZeroGracePeriodSeconds?: number;
  readonly autoscalingPolicy?: LoadedPolicySpec;
  readonly runtimeClassName?: string;
  readonly schedulerName?: string;
  /** The one server worker. */
  readonly image?: string;
  readonly config?: Record<string, unknown>;
  readonly resources?: Manifest;
  readonly tolerations?: Manifest[];
  readonly affinity?: Manifest;
}

/** Kthena's `modelMatch`: conditions on the request, ANDed. */
export interface LoadedModelMatch {
  readonly model?: string;
  readonly headers?: Readonly<Record<string, { readonly type: 'exact' | 'prefix' | 'regex'; readonly value: string }>>;
  readonly uri?: { readonly type: 'exact' | 'prefix' | 'regex'; readonly value: string };
}

/** A Kthena Model or ModelBooster read from a manifest. */
export interface LoadedKthenaModel extends ManifestMetadata {
  readonly kind: string;
  /** `spec.name`: the model name clients ask for. */
  readonly modelName: string;
  readonly owner?: string;
  readonly backends: readonly LoadedKthenaBackend[];
  readonly autoscalingPolicy?: LoadedPolicySpec;
  readonly costExpansionRatePercent?: number;
  readonly modelMatch?: LoadedModelMatch;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENGINES: Readonly<Record<string, string>> = { vLLM: 'vllm', SGLang: 'sglang' };

function duration(issues: Issues, r: ManifestReader, value: unknown, field: string): number | undefined {
  const text = r.str(value, field);
  if (text === undefined) return undefined;
  const seconds = durationSeconds(text);
  issues.check(seconds !== undefined, field, text, 'is not a duration', 'Write it as 15s, 5m or 1h30m');
  return seconds;
}

function matchOf(issues: Issues, r: ManifestReader, value: unknown, field: string): LoadedModelMatch['uri'] | undefined {
  const o = r.obj(value, field, ['exact', 'prefix', 'regex']);
  const given = (['exact', 'prefix', 'regex'] as const).filter(k => o[k] !== undefined);
  if (given.length === 0) return undefined;
  issues.check(given.length === 1, field, o, 'gives more than one of exact, prefix and regex', 'Give one of them');
  const value1 = r.str(o[given[0]], `${field}.${given[0]}`);
  return value1 === undefined ? undefined : { type: given[0], value: value1 };
}

/** Reads Kthena's `modelMatch` (Model, ModelBooster and ModelRoute rules share it). */
export function readModelMatch(issues: Issues, r: ManifestReader, value: unknown, field: string): LoadedModelMatch | undefined {
  if (value === undefined) return undefined;
  const o = r.obj(value, field, ['body', 'headers', 'uri']);
  const body = r.obj(o.body, `${field}.body`, ['model']);
  const headers: Record<string, { type: 'exact' | 'prefix' | 'regex'; value: string }> = {};
  for (const [name, m] of Object.entries(r.obj(o.headers, `${field}.headers`, Object.keys((o.headers ?? {}) as Manifest)))) {
    const read = matchOf(issues, r, m, `${field}.headers.${name}`);
    if (read) headers[name] = read;
  }
  return {
    model: r.str(body.model, `${field}.body.model`),
    headers: Object.keys(headers).length > 0 ? headers : undefined,
    uri: matchOf(issues, r, o.uri, `${field}.uri`),
  };
}

function rate(issues: Issues, r: ManifestReader, value: unknown, field: string): LoadedScalingRate | undefined {
  if (value === undefined) return undefined;
  const o = r.obj(value, field, ['instances', 'percent', 'period', 'selectPolicy', 'stabilizationWindow']);
  const select = r.str(o.selectPolicy, `${field}.selectPolicy`) ?? 'Or';
  issues.check(select === 'Or' || select === 'And', `${field}.selectPolicy`, select, 'is not Or or And', 'Write Or or And');
  return {
    instances: r.int(o.instances, `${field}.instances`) ?? 1,
    percent: r.int(o.percent, `${field}.percent`) ?? 100,
    periodSeconds: duration(issues, r, o.period, `${field}.period`) ?? 15,
    selectPolicy: select as 'Or' | 'And',
    stabilizationWindowSeconds: duration(issues, r, o.stabilizationWindow, `${field}.stabilizationWindow`),
  };
}

/** Reads the rules of an AutoscalingPolicy at `field` (`spec`, or a Model's inline `autoscalingPolicy`). */
function policySpec(issues: Issues, r: ManifestReader, o: Manifest, field: string, nameField: 'name' | 'metricName' = 'metricName'): LoadedPolicySpec {
  const at = (f: string) => `${field}.${f}`;
  const metrics = r.arr(o.metrics, at('metrics')).map((m, i) => {
    const mo = r.obj(m, `${at('metrics')}[${i}]`, [nameField, 'targetValue']);
    const name = r.str(mo[nameField], `${at('metrics')}[${i}].${nameField}`);
    issues.check(name !== undefined && name !== '', `${at('metrics')}[${i}].${nameField}`, name, 'is missing', 'Name the metric, such as vllm:num_requests_waiting');
    const target = mo.targetValue;
    issues.check((typeof target === 'string' || typeof target === 'number') && isQuantity(target), `${at('metrics')}[${i}].targetValue`, target,
      'is not a quantity', 'Write the target value per pod, such as 10 or 500m');
    return { name: name ?? '', targetValue: String(target) };
  });
  issues.check(metrics.length > 0, at('metrics'), o.metrics, 'is empty', 'Give at least one metric and its target value');
  const behavior = r.obj(o.behavior, at('behavior'), ['scaleUp', 'scaleDown']);
  const up = r.obj(behavior.scaleUp, at('behavior.scaleUp'), ['stablePolicy', 'panicPolicy']);
  let panic: LoadedPanicPolicy | undefined;
  if (up.panicPolicy !== undefined) {
    const f = at('behavior.scaleUp.panicPolicy');
    const p = r.obj(up.panicPolicy, f, ['percent', 'period', 'panicThresholdPercent', 'panicModeHold']);
    panic = {
      percent: r.int(p.percent, `${f}.percent`) ?? 1000,
      periodSeconds: duration(issues, r, p.period, `${f}.period`),
      panicThresholdPercent: r.int(p.panicThresholdPercent, `${f}.panicThresholdPercent`) ?? 200,
      panicModeHoldSeconds: duration(issues, r, p.panicModeHold, `${f}.panicModeHold`) ?? 60,
    };
  }
  return {
    metrics,
    tolerancePercent: r.int(o.tolerancePercent, at('tolerancePercent')) ?? 10,
    scaleUp: rate(issues, r, up.stablePolicy, at('behavior.scaleUp.stablePolicy')),
    panic,
    scaleDown: rate(issues, r, behavior.scaleDown, at('behavior.scaleDown')),
  };
}

function backendOf(issues: Issues, r: ManifestReader, value: unknown, field: string, booster: boolean): LoadedKthenaBackend | undefined {
  const known = booster
    ? ['name', 'type', 'modelURI', 'cacheURI', 'env', 'envFrom', 'replicas', 'workers', 'runtimeClassName', 'schedulerName']
    : ['name', 'type', 'modelURI', 'cacheURI', 'env', 'envFrom', 'minReplicas', 'maxReplicas', 'loraAdapters', 'routeWeight', 'scalingCost',
      'scaleToZeroGracePeriod', 'autoscalingPolicy', 'workers'];
  const b = r.obj(value, field, known);
  const name = r.str(b.name, `${field}.name`);
  if (issues.check(name !== undefined, `${field}.name`, undefined, 'is missing', 'Name the backend such as vllm-a100')) {
    issues.check(NAME.test(name!), `${field}.name`, name, 'is not a DNS-1123 label', 'Name the backend such as vllm-a100');
  }
  const type = r.str(b.type, `${field}.type`);
  const engine = type === undefined ? undefined : ENGINES[type];
  if (type !== undefined && engine === undefined) {
    const disaggregated = /Disaggregated$/.test(type);
    issues.add(`${field}.type`, type, disaggregated
      ? 'is a prefill/decode backend, which inferkit does not compile from a Model'
      : 'is an engine inferkit has no image and flags for', disaggregated
      ? 'Write its prefill and decode workers as the roles of a ModelServing (or ModelInfer), which inferkit compiles with gang scheduling'
      : `Use ${Object.keys(ENGINES).join(' or ')}`);
  }
  issues.check(type !== undefined, `${field}.type`, undefined, 'is missing', `Give the engine: ${Object.keys(ENGINES).join(' or ')}`);
  const modelUri = r.str(b.modelURI, `${field}.modelURI`);
  issues.check(modelUri !== undefined, `${field}.modelURI`, undefined, 'is missing', 'Give where the weights come from, such as hf://Qwen/Qwen2.5-0.5B-Instruct');
  const workers = r.arr(b.workers, `${field}.workers`);
  issues.check(workers.length === 1, `${field}.workers`, workers.length, 'is not one worker: inferkit compiles a backend of one server worker',
    'Give one worker of type server; write several (prefill, decode, coordinator...) as the roles of a ModelServing');
  const wf = `${field}.workers[0]`;
  const w = r.obj(workers[0], wf, ['type', 'image', 'replicas', 'pods', 'resources', 'affinity', 'config', 'tolerations']);
  const wType = r.str(w.type, `${wf}.type`) ?? 'server';
  issues.check(wType === 'server', `${wf}.type`, wType, 'is not a server worker', 'Use type server; write prefill and decode workers as the roles of a ModelServing');
  const pods = r.int(w.pods, `${wf}.pods`);
  issues.check(pods === undefined || pods === 1, `${wf}.pods`, pods, 'spans several pods, which a backend Deployment cannot gang-schedule',
    'Use one pod, or write the backend as a ModelServing role with workerReplicas');
  const wReplicas = r.int(w.replicas, `${wf}.replicas`);
  issues.check(wReplicas === undefined || wReplicas === 1, `${wf}.replicas`, wReplicas, 'is not 1: the backend\'s replicas count its server pods',
    booster ? 'Remove it and set spec.backend.replicas' : 'Remove it and set the backend\'s minReplicas and maxReplicas');
  const config = w.config;
  issues.check(config === undefined || (typeof config === 'object' && config !== null && !Array.isArray(config)), `${wf}.config`, config,
    'is not an object of engine settings', 'Write the engine arguments as a mapping, such as max-model-len: 4096');
  const loras = booster ? [] : r.arr(b.loraAdapters, `${field}.loraAdapters`).map((l, i) => {
    const lo = r.obj(l, `${field}.loraAdapters[${i}]`, ['name', 'artifactURL']);
    const n = r.str(lo.name, `${field}.loraAdapters[${i}].name`);
    issues.check(n !== undefined && NAME.test(n), `${field}.loraAdapters[${i}].name`, n, 'is not a DNS-1123 label', 'Name the adapter such as sql-lora');
    const url = r.str(lo.artifactURL, `${field}.loraAdapters[${i}].artifactURL`);
    issues.check(url !== undefined, `${field}.loraAdapters[${i}].artifactURL`, undefined, 'is missing', 'Give where the adapter comes from, such as hf://org/adapter');
    return { name: n ?? '', artifactUrl: url ?? '' };
  });
  const replicas = booster ? r.int(b.replicas, `${field}.replicas`) : undefined;
  if (booster) issues.check(replicas !== undefined, `${field}.replicas`, undefined, 'is missing', 'Give the number of replicas');
  const min = booster ? replicas ?? 1 : r.int(b.minReplicas, `${field}.minReplicas`);
  const max = booster ? Math.max(1, replicas ?? 1) : r.int(b.maxReplicas, `${field}.maxReplicas`);
  if (!booster) {
    issues.check(min !== undefined && min >= 0, `${field}.minReplicas`, min, 'is missing or negative', 'Give the fewest replicas, 0 or more');
    issues.check(max !== undefined && max >= 1 && max >= (min ?? 0), `${field}.maxReplicas`, max, 'is missing, below 1 or below minReplicas', 'Give the most replicas, at least minReplicas and 1');
  }
  const weight = booster ? 100 : r.int(b.routeWeight, `${field}.routeWeight`) ?? 100;
  issues.check(weight >= 0 && weight <= 100, `${field}.routeWeight`, weight, 'is not a percentage', 'Use 0 to 100');
  return {
    name: name ?? '',
    type: engine ?? '',
    modelUri: modelUri ?? '',
    cacheUri: r.str(b.cacheURI, `${field}.cacheURI`),
    env: b.env === undefined ? undefined : r.arr(b.env, `${field}.env`) as Manifest[],
    envFrom: b.envFrom === undefined ? undefined : r.arr(b.envFrom, `${field}.envFrom`) as Manifest[],
    minReplicas: min ?? 0,
    maxReplicas: max ?? 1,
    loraAdapters: loras,
    routeWeight: weight,
    scalingCost: booster ? undefined : r.int(b.scalingCost, `${field}.scalingCost`),
    scaleToZeroGracePeriodSeconds: booster ? undefined : duration(issues, r, b.scaleToZeroGracePeriod, `${field}.scaleToZeroGracePeriod`),
    autoscalingPolicy: booster || b.autoscalingPolicy === undefined ? undefined
      : policySpec(issues, r, r.obj(b.autoscalingPolicy, `${field}.autoscalingPolicy`, ['metrics', 'tolerancePercent', 'behavior']), `${field}.autoscalingPolicy`),
    runtimeClassName: booster ? r.str(b.runtimeClassName, `${field}.runtimeClassName`) : undefined,
    schedulerName: booster ? r.str(b.schedulerName, `${field}.schedulerName`) : undefined,
    image: r.str(w.image, `${wf}.image`),
    config: config as Record<string, unknown> | undefined,
    resources: w.resources as Manifest | undefined,
    tolerations: w.tolerations === undefined ? undefined : r.arr(w.tolerations, `${wf}.tolerations`) as Manifest[],
    affinity: w.affinity as Manifest | undefined,
  };
}

/**
 * Reads a Kthena `registry.matrixinfer.ai/v1alpha1` Model or `workload.serving.volcano.sh/v1alpha1` ModelBooster against
 * its CRD, with the CRD's defaults (route weight 100, a server worker, the policy defaults). Unknown fields are errors;
 * so are backends inferkit cannot compile (disaggregated or multi-pod workers, engines without an image).
 *
 * @throws SpecError listing every problem found
 */
export function loadKthenaModel(doc: Manifest): LoadedKthenaModel {
  const booster = doc.kind === MODEL_BOOSTER_KIND.kind;
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', booster
    ? ['name', 'owner', 'backend', 'modelMatch']
    : ['name', 'owner', 'backends', 'autoscalingPolicy', 'costExpansionRatePercent', 'modelMatch']);
  const modelName = r.str(s.name, 'spec.name') ?? meta.name;
  issues.check(NAME.test(modelName), 'spec.name', modelName, 'is not a DNS-1123 label', 'Name the model such as qwen-7b');
  const backends = booster
    ? [backendOf(issues, r, s.backend, 'spec.backend', true)]
    : r.arr(s.backends, 'spec.backends').map((b, i) => backendOf(issues, r, b, `spec.backends[${i}]`, false));
  issues.check(backends.length > 0, booster ? 'spec.backend' : 'spec.backends', undefined, 'is missing', 'Give at least one backend');
  const names = backends.map(b => b?.name);
  names.forEach((n, i) => issues.check(names.indexOf(n) === i, `spec.backends[${i}].name`, n, 'is given twice', 'Give each backend its own name'));
  const result: LoadedKthenaModel = {
    ...meta,
    kind: String(doc.kind),
    modelName,
    owner: r.str(s.owner, 'spec.owner'),
    backends: backends.filter((b): b is LoadedKthenaBackend => b !== undefined),
    autoscalingPolicy: booster || s.autoscalingPolicy === undefined ? undefined
      : policySpec(issues, r, r.obj(s.autoscalingPolicy, 'spec.autoscalingPolicy', ['metrics', 'tolerancePercent', 'behavior']), 'spec.autoscalingPolicy'),
    costExpansionRatePercent: booster ? undefined : r.int(s.costExpansionRatePercent, 'spec.costExpansionRatePercent'),
    modelMatch: readModelMatch(issues, r, s.modelMatch, 'spec.modelMatch'),
  };
  issues.throwIfAny();
  return result;
}

/** What an AutoscalingPolicy target names: a kind and a name (in the policy's namespace unless given). */
export interface LoadedScaleTarget {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly minReplicas: number;
  readonly maxReplicas: number;
}

/** An AutoscalingPolicy: its rules, and (today's API) the one object it scales. */
export interface LoadedAutoscalingPolicy extends ManifestMetadata {
  readonly kind: string;
  readonly spec: LoadedPolicySpec;
  /** Today's `homogeneousTarget`; the ModelInfer era names targets in an AutoscalingPolicyBinding. */
  readonly target?: LoadedScaleTarget;
}

/** An AutoscalingPolicyBinding (ModelInfer era): the policy it applies, and the object it scales. */
export interface LoadedAutoscalingPolicyBinding extends ManifestMetadata {
  readonly policy: string;
  readonly target: LoadedScaleTarget;
}

function targetOf(issues: Issues, r: ManifestReader, value: unknown, field: string, known: readonly string[]): LoadedScaleTarget | undefined {
  const o = r.obj(value, field, ['minReplicas', 'maxReplicas', 'target']);
  const t = r.obj(o.target, `${field}.target`, known);
  if (t.metricEndpoint !== undefined || t.metricSources !== undefined || t.additionalMatchLabels !== undefined) {
    const key = ['metricEndpoint', 'metricSources', 'additionalMatchLabels'].find(k => t[k] !== undefined)!;
    issues.add(`${field}.target.${key}`, t[key], 'tells Kthena\'s autoscaler where to scrape pods, but the HPA inferkit writes reads metrics from the ' +
      'cluster\'s custom metrics API', 'Remove it, and have your metrics adapter (such as prometheus-adapter) serve the policy\'s metrics for the pods');
  }
  const ref = r.obj(t.targetRef, `${field}.target.targetRef`, ['apiVersion', 'kind', 'name', 'namespace', 'fieldPath', 'resourceVersion', 'uid']);
  const name = r.str(ref.name, `${field}.target.targetRef.name`);
  issues.check(name !== undefined, `${field}.target.targetRef.name`, undefined, 'is missing', 'Name the object to scale');
  // apiVersion, resourceVersion and uid only identify the object the kind and name already name.
  issues.check(ref.fieldPath === undefined, `${field}.target.targetRef.fieldPath`, ref.fieldPath, 'points into the object, and an HPA scales whole objects',
    'Remove fieldPath');
  const min = r.int(o.minReplicas, `${field}.minReplicas`);
  const max = r.int(o.maxReplicas, `${field}.maxReplicas`);
  issues.check(min !== undefined && min >= 0, `${field}.minReplicas`, min, 'is missing or negative', 'Give the fewest replicas');
  issues.check(max !== undefined && max >= 1 && max >= (min ?? 0), `${field}.maxReplicas`, max, 'is missing, below 1 or below minReplicas', 'Give the most replicas, at least minReplicas');
  if (name === undefined) return undefined;
  return {
    kind: r.str(ref.kind, `${field}.target.targetRef.kind`) ?? 'ModelServing',
    name,
    namespace: r.str(ref.namespace, `${field}.target.targetRef.namespace`),
    minReplicas: min ?? 1,
    maxReplicas: max ?? 1,
  };
}

/**
 * Reads a Kthena AutoscalingPolicy of either API generation. Today's heterogeneous (cost-optimized, several
 * ModelServings) and disaggregated (roles scaled together by a ratio) targets are refused: an HPA scales one object
 * on its own metrics.
 *
 * @throws SpecError listing every problem found
 */
export function loadAutoscalingPolicy(doc: Manifest): LoadedAutoscalingPolicy {
  const today = doc.apiVersion === AUTOSCALING_POLICY_KINDS[1].apiVersion;
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', today
    ? ['metrics', 'tolerancePercent', 'behavior', 'homogeneousTarget', 'heterogeneousTarget', 'disaggregatedTarget']
    : ['metrics', 'tolerancePercent', 'behavior']);
  const spec = policySpec(issues, r, s, 'spec', today ? 'name' : 'metricName');
  issues.check(s.heterogeneousTarget === undefined, 'spec.heterogeneousTarget', s.heterogeneousTarget === undefined ? undefined : '(set)',
    'asks Kthena\'s optimizer to split replicas across several ModelServings by cost, which no Kubernetes autoscaler does',
    'Give each ModelServing (or Model backend) its own homogeneousTarget policy, with the replica range it may use');
  issues.check(s.disaggregatedTarget === undefined, 'spec.disaggregatedTarget', s.disaggregatedTarget === undefined ? undefined : '(set)',
    'scales the prefill and decode roles of one ModelServing together by a ratio, and a role of a group is not a scalable object outside Kthena\'s controller',
    'Remove it; set the roles\' replicas in the ModelServing, or scale whole groups with a new synth');
  const target = s.homogeneousTarget === undefined ? undefined : targetOf(issues, r, s.homogeneousTarget, 'spec.homogeneousTarget', ['targetRef', 'metricSources']);
  issues.check(!today || target !== undefined || s.heterogeneousTarget !== undefined || s.disaggregatedTarget !== undefined, 'spec.homogeneousTarget',
    undefined, 'is missing, so the policy scales nothing', 'Give homogeneousTarget with the targetRef and replica range');
  issues.throwIfAny();
  return { ...meta, kind: String(doc.kind), spec, target };
}

/**
 * Reads a ModelInfer-era AutoscalingPolicyBinding. `optimizerConfiguration` (cost-optimized scaling across several
 * ModelInfers) is refused: an HPA scales one object on its own metrics.
 *
 * @throws SpecError listing every problem found
 */
export function loadAutoscalingPolicyBinding(doc: Manifest): LoadedAutoscalingPolicyBinding {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['policyRef', 'scalingConfiguration', 'optimizerConfiguration']);
  const policy = r.str(r.obj(s.policyRef, 'spec.policyRef', ['name']).name, 'spec.policyRef.name');
  issues.check(policy !== undefined && policy !== '', 'spec.policyRef.name', policy, 'is missing', 'Name the AutoscalingPolicy to apply');
  issues.check(s.optimizerConfiguration === undefined, 'spec.optimizerConfiguration', s.optimizerConfiguration === undefined ? undefined : '(set)',
    'asks Kthena\'s optimizer to split replicas across several ModelInfers by cost, which no Kubernetes autoscaler does',
    'Bind the policy to each ModelInfer with its own scalingConfiguration and replica range');
  issues.check(s.scalingConfiguration !== undefined || s.optimizerConfiguration !== undefined, 'spec.scalingConfiguration', undefined, 'is missing',
    'Give scalingConfiguration with the target and its replica range');
  const target = s.scalingConfiguration === undefined ? undefined
    : targetOf(issues, r, s.scalingConfiguration, 'spec.scalingConfiguration', ['targetRef', 'additionalMatchLabels', 'metricEndpoint']);
  issues.throwIfAny();
  return { ...meta, policy: policy!, target: target! };
}
