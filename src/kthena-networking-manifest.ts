import { durationSeconds } from './flexinfer-manifest';
import { LoadedModelMatch, readModelMatch } from './kthena-registry-manifest';
import { Manifest, ManifestMetadata, readManifest } from './manifests';

/** Kthena's ModelServer, in both API generations: the pods that serve a model, for its router. */
export const MODEL_SERVER_KINDS = [
  { apiVersion: 'networking.matrixinfer.ai/v1alpha1', kind: 'ModelServer' },
  { apiVersion: 'networking.serving.volcano.sh/v1alpha1', kind: 'ModelServer' },
] as const;
/** Kthena's ModelRoute, in both API generations: which ModelServers serve a model name, with weights. */
export const MODEL_ROUTE_KINDS = [
  { apiVersion: 'networking.matrixinfer.ai/v1alpha1', kind: 'ModelRoute' },
  { apiVersion: 'networking.serving.volcano.sh/v1alpha1', kind: 'ModelRoute' },
] as const;

/** A ModelServer read from a manifest. */
export interface LoadedModelServer extends ManifestMetadata {
  readonly engine: string;
  readonly model?: string;
  readonly port: number;
  readonly protocol: string;
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly pdGroup?: {
    readonly groupKey: string;
    readonly prefillLabels: Readonly<Record<string, string>>;
    readonly decodeLabels: Readonly<Record<string, string>>;
  };
  readonly kvConnector?: string;
  readonly retryAttempts?: number;
  readonly timeoutSeconds?: number;
}

/** A rule of a ModelRoute. */
export interface LoadedRouteRule {
  readonly name?: string;
  readonly match?: LoadedModelMatch;
  readonly targets: ReadonlyArray<{ readonly modelServer: string; readonly weight: number }>;
}

/** A ModelRoute read from a manifest. */
export interface LoadedModelRoute extends ManifestMetadata {
  readonly modelName?: string;
  readonly loraAdapters: readonly string[];
  readonly rules: readonly LoadedRouteRule[];
  readonly parentRefs?: ReadonlyArray<{ readonly name: string; readonly namespace?: string; readonly sectionName?: string }>;
}

/**
 * Reads a Kthena ModelServer of either API generation against its CRD (`workloadPort.protocol` defaults to http,
 * `kvConnector.type` to http).
 *
 * @throws SpecError listing every problem found
 */
export function loadModelServer(doc: Manifest): LoadedModelServer {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['model', 'inferenceEngine', 'workloadSelector', 'workloadPort', 'trafficPolicy', 'kvConnector']);
  const engine = r.str(s.inferenceEngine, 'spec.inferenceEngine');
  issues.check(engine === 'vLLM' || engine === 'SGLang', 'spec.inferenceEngine', engine, 'is not vLLM or SGLang', 'Write vLLM or SGLang');
  const sel = r.obj(s.workloadSelector, 'spec.workloadSelector', ['matchLabels', 'pdGroup']);
  const matchLabels = r.stringMap(sel.matchLabels, 'spec.workloadSelector.matchLabels');
  issues.check(Object.keys(matchLabels).length > 0, 'spec.workloadSelector.matchLabels', undefined, 'is empty, so it would select every pod of the namespace',
    'Give the labels of the model\'s pods');
  let pdGroup: LoadedModelServer['pdGroup'];
  if (sel.pdGroup !== undefined) {
    const g = r.obj(sel.pdGroup, 'spec.workloadSelector.pdGroup', ['groupKey', 'prefillLabels', 'decodeLabels']);
    pdGroup = {
      groupKey: r.str(g.groupKey, 'spec.workloadSelector.pdGroup.groupKey') ?? '',
      prefillLabels: r.stringMap(g.prefillLabels, 'spec.workloadSelector.pdGroup.prefillLabels'),
      decodeLabels: r.stringMap(g.decodeLabels, 'spec.workloadSelector.pdGroup.decodeLabels'),
    };
  }
  const wp = r.obj(s.workloadPort, 'spec.workloadPort', ['port', 'protocol']);
  const port = r.int(wp.port, 'spec.workloadPort.port');
  issues.check(port !== undefined && port >= 1 && port <= 65535, 'spec.workloadPort.port', port, 'is not a port', 'Give the engine\'s port, such as 8000');
  const tp = r.obj(s.trafficPolicy, 'spec.trafficPolicy', ['retry', 'timeout']);
  const retry = r.obj(tp.retry, 'spec.trafficPolicy.retry', ['attempts', 'retryInterval']);
  r.str(retry.retryInterval, 'spec.trafficPolicy.retry.retryInterval');
  const timeout = r.str(tp.timeout, 'spec.trafficPolicy.timeout');
  const timeoutSeconds = timeout === undefined ? undefined : durationSeconds(timeout);
  issues.check(timeout === undefined || timeoutSeconds !== undefined, 'spec.trafficPolicy.timeout', timeout, 'is not a duration', 'Write it as 30s or 5m');
  const kv = r.obj(s.kvConnector, 'spec.kvConnector', ['type']);
  const result: LoadedModelServer = {
    ...meta,
    engine: engine ?? '',
    model: r.str(s.model, 'spec.model'),
    port: port ?? 8000,
    protocol: r.str(wp.protocol, 'spec.workloadPort.protocol') ?? 'http',
    matchLabels,
    pdGroup,
    kvConnector: s.kvConnector === undefined ? undefined : r.str(kv.type, 'spec.kvConnector.type') ?? 'http',
    retryAttempts: r.int(retry.attempts, 'spec.trafficPolicy.retry.attempts'),
    timeoutSeconds,
  };
  issues.throwIfAny();
  return result;
}

/**
 * Reads a Kthena ModelRoute of either API generation against its CRD (target weight defaults to 100). Rate limits
 * and external model providers are refused: no Gateway API object counts tokens or calls a hosted provider.
 *
 * @throws SpecError listing every problem found
 */
export function loadModelRoute(doc: Manifest): LoadedModelRoute {
  const today = doc.apiVersion === MODEL_ROUTE_KINDS[1].apiVersion;
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', today ? ['modelName', 'loraAdapters', 'parentRefs', 'rules', 'rateLimit'] : ['modelName', 'loraAdapters', 'rules', 'rateLimit']);
  const modelName = r.str(s.modelName, 'spec.modelName');
  const loraAdapters = r.arr(s.loraAdapters, 'spec.loraAdapters').map((l, i) => r.str(l, `spec.loraAdapters[${i}]`) ?? '');
  issues.check((modelName ?? '') !== '' || loraAdapters.length > 0, 'spec.modelName', modelName, 'is empty and no loraAdapters are given, so the route matches no request',
    'Give the model name clients ask for, or the LoRA adapter names');
  issues.check(s.rateLimit === undefined, 'spec.rateLimit', s.rateLimit === undefined ? undefined : '(set)',
    'limits tokens per unit of time, which Kthena\'s router counts and no Gateway API object can express',
    'Remove it, and limit requests with your gateway\'s own policy (such as an Envoy Gateway BackendTrafficPolicy)');
  const rules = r.arr(s.rules, 'spec.rules').map((rule, i): LoadedRouteRule => {
    const f = `spec.rules[${i}]`;
    const o = r.obj(rule, f, ['name', 'modelMatch', 'targetModels']);
    const targets = r.arr(o.targetModels, `${f}.targetModels`).map((t, j) => {
      const tf = `${f}.targetModels[${j}]`;
      const to = r.obj(t, tf, today ? ['modelServerName', 'externalModelProviderName', 'weight'] : ['modelServerName', 'weight']);
      issues.check(to.externalModelProviderName === undefined, `${tf}.externalModelProviderName`, to.externalModelProviderName,
        'sends requests to a hosted provider through Kthena\'s protocol adapters, which a Gateway API route cannot do',
        'Remove the target, or front the provider with a Service your gateway can reach and route to it with your own HTTPRoute');
      const server = r.str(to.modelServerName, `${tf}.modelServerName`);
      issues.check(server !== undefined || to.externalModelProviderName !== undefined, `${tf}.modelServerName`, undefined, 'is missing', 'Name the ModelServer to send requests to');
      const weight = r.int(to.weight, `${tf}.weight`) ?? 100;
      issues.check(weight >= 0 && weight <= 100, `${tf}.weight`, weight, 'is not a percentage', 'Use 0 to 100');
      return { modelServer: server ?? '', weight };
    });
    issues.check(targets.length > 0, `${f}.targetModels`, undefined, 'is empty', 'Give at least one target ModelServer');
    return { name: r.str(o.name, `${f}.name`), match: readModelMatch(issues, r, o.modelMatch, `${f}.modelMatch`), targets };
  });
  issues.check(rules.length > 0, 'spec.rules', undefined, 'is empty', 'Give at least one rule');
  const parentRefs = s.parentRefs === undefined ? undefined : r.arr(s.parentRefs, 'spec.parentRefs').map((p, i) => {
    const f = `spec.parentRefs[${i}]`;
    const o = r.obj(p, f, ['group', 'kind', 'name', 'namespace', 'port', 'sectionName']);
    const group = r.str(o.group, `${f}.group`) ?? 'gateway.networking.k8s.io';
    const kind = r.str(o.kind, `${f}.kind`) ?? 'Gateway';
    issues.check(group === 'gateway.networking.k8s.io' && kind === 'Gateway', `${f}.kind`, `${group}/${kind}`, 'is not a Gateway', 'Attach the route to a gateway.networking.k8s.io Gateway');
    const name = r.str(o.name, `${f}.name`);
    issues.check(name !== undefined, `${f}.name`, undefined, 'is missing', 'Name the Gateway');
    issues.check(o.port === undefined, `${f}.port`, o.port, 'selects a Gateway listener by port, which inferkit does not carry to the HTTPRoute',
      'Select the listener by its name with sectionName');
    return { name: name ?? '', namespace: r.str(o.namespace, `${f}.namespace`), sectionName: r.str(o.sectionName, `${f}.sectionName`) };
  });
  issues.throwIfAny();
  return { ...meta, modelName: modelName === '' ? undefined : modelName, loraAdapters, rules, parentRefs };
}
