import { Chart, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import {
  HttpRoute, HttpRouteSpecRules, HttpRouteSpecRulesMatches, HttpRouteSpecRulesMatchesHeaders, HttpRouteSpecRulesMatchesHeadersType,
  HttpRouteSpecRulesMatchesPath, HttpRouteSpecRulesMatchesPathType,
} from '../imports/gateway.networking.k8s.io';
import { checkName, Issues, Manifest, NameRule } from '../src';
import { manifestSource, ManifestSource, objectMeta, ObjectMetadataProps } from './_metadata';
import { GatewayParentProps, InferencePool, SchedulingMode } from './inference-pool';
import { recordWarnings } from './warnings';
import { loadModelRoute, loadModelServer } from '../src/kthena-networking-manifest';
import { LoadedModelMatch } from '../src/kthena-registry-manifest';

/**
 * The header a ModelRoute's HTTPRoute matches the requested model on. Kthena's router reads the request body's
 * `model`; a Gateway API route matches headers, so the gateway must run the Gateway API Inference Extension's
 * body-based routing (BBR), which copies the body's `model` into this header before routes are matched.
 *
 * @see https://gateway-api-inference-extension.sigs.k8s.io/guides/serve-multiple-genai-models/
 */
export const MODEL_NAME_HEADER = 'X-Gateway-Model-Name';

/** How a string is matched (Kthena's `exact`, `prefix` or `regex`). */
export class StringMatch {
  /** The whole value. */
  public static exact(value: string): StringMatch {
    return new StringMatch('exact', value);
  }

  /** A value that starts with `value`. */
  public static prefix(value: string): StringMatch {
    return new StringMatch('prefix', value);
  }

  /** A value that matches the regular expression (RE2 in most gateways: regular expressions are implementation-specific). */
  public static regex(value: string): StringMatch {
    return new StringMatch('regex', value);
  }

  private constructor(
    /** How the value is compared. */
    public readonly type: 'exact' | 'prefix' | 'regex',
    /** The value compared with. */
    public readonly value: string,
  ) {}
}

/** Conditions on a request, all of which must hold (Kthena `modelMatch`). */
export interface ModelMatchProps {
  /**
   * The requested model (the body's `model`), one of the route's names.
   *
   * @default - any of the route's names
   */
  readonly model?: string;

  /**
   * Headers, by name.
   *
   * @default - any headers
   */
  readonly headers?: Record<string, StringMatch>;

  /**
   * The request path.
   *
   * @default - StringMatch.prefix('/')
   */
  readonly uri?: StringMatch;
}

/** Props of a {@link ModelServer}. */
export interface ModelServerProps {
  /**
   * Name of the ModelServer: its InferencePool carries it, and routes refer to it.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Namespace of every object.
   *
   * @default - the chart's namespace
   */
  readonly namespace?: string;

  /** Labels of the model's pods (Kthena `workloadSelector.matchLabels`). */
  readonly selector: Record<string, string>;

  /**
   * Port the engines serve on (Kthena `workloadPort.port`).
   *
   * @default 8000
   */
  readonly port?: number;

  /**
   * How requests are scheduled onto the pods: prefill/decode pairs for a disaggregated server.
   *
   * @default SchedulingMode.unified()
   */
  readonly mode?: SchedulingMode;

  /**
   * Time a request may take (Kthena `trafficPolicy.timeout`), the `timeouts.request` of the route rules that target this
   * server only.
   *
   * @default - the gateway's
   */
  readonly timeout?: Duration;

  /**
   * Labels and annotations added to every object.
   *
   * @default - none
   */
  readonly metadata?: ObjectMetadataProps;
}

/**
 * Kthena's ModelServer without its router: the model's pods behind an `inference.networking.k8s.io/v1` InferencePool
 * and its endpoint picker (the {@link InferencePool} construct), which {@link ModelRoute}s send requests to.
 */
export class ModelServer extends Construct {
  /**
   * Loads a Kthena ModelServer (`networking.matrixinfer.ai/v1alpha1` or `networking.serving.volcano.sh/v1alpha1`).
   * What the Gateway API cannot do as Kthena's router does (rewriting the body's model, retries, the PD group key, the
   * KV connector) is a warning; https to the pods and selectors of several labels per PD side are refused.
   */
  public static fromManifest(scope: Construct, id: string, manifest: Manifest): ModelServer {
    const m = loadModelServer(manifest);
    const issues = new Issues(`ModelServer/${m.name}`);
    issues.check(m.protocol === 'http', 'spec.workloadPort.protocol', m.protocol, 'is not http: the endpoint picker sends plain HTTP to the pods',
      'Serve plain HTTP inside the cluster (the gateway terminates TLS)');
    let mode: SchedulingMode | undefined;
    if (m.pdGroup) {
      const [pk, ...pRest] = Object.keys(m.pdGroup.prefillLabels);
      const [dk, ...dRest] = Object.keys(m.pdGroup.decodeLabels);
      if (issues.check(pk !== undefined && pk === dk && pRest.length === 0 && dRest.length === 0, 'spec.workloadSelector.pdGroup', { prefillLabels: m.pdGroup.prefillLabels, decodeLabels: m.pdGroup.decodeLabels },
        'does not tell prefill from decode pods by one label with two values, which is what the endpoint picker filters on',
        'Label prefill and decode pods with one key, such as modelserving.volcano.sh/role: prefill | decode')) {
        mode = SchedulingMode.prefillDecode({ key: pk, prefillValue: m.pdGroup.prefillLabels[pk], decodeValue: m.pdGroup.decodeLabels[dk] });
      }
      issues.warn('spec.workloadSelector.pdGroup.groupKey', m.pdGroup.groupKey, 'pairs prefill and decode pods of the same group in Kthena\'s router, ' +
        'but the endpoint picker pairs any prefill pod with any decode pod of the pool', 'Give each group its own ModelServer to keep pairs within a group');
    }
    if (m.model !== undefined) {
      issues.warn('spec.model', m.model, 'makes Kthena\'s router rewrite the requested model, and a Gateway API route cannot rewrite a request body',
        'Serve the model under every name clients ask for (vLLM --served-model-name takes several), and remove spec.model');
    }
    if (m.retryAttempts !== undefined) {
      issues.warn('spec.trafficPolicy.retry', m.retryAttempts, 'has no HTTPRoute equivalent in the Gateway API standard channel, so requests are not retried',
        'Configure retries on your gateway, or remove the retry policy');
    }
    if (m.engine === 'SGLang') {
      issues.warn('spec.inferenceEngine', m.engine, 'is scored by the endpoint picker with vLLM\'s metric names, its default, which SGLang pods do not export, '
        + 'so the picker does not see their queues or cache use', 'Accept load-blind picking between the pods, or serve the model with vLLM');
    }
    if (m.kvConnector !== undefined) {
      issues.warn('spec.kvConnector.type', m.kvConnector, 'tells Kthena\'s router how to hand the KV cache from prefill to decode; with the endpoint picker, ' +
        'the decode pods\' routing sidecar does it', 'Run llm-d\'s routing sidecar on the decode pods with the engines\' matching KV connector');
    }
    issues.check(m.namespace !== undefined || Chart.of(scope).namespace !== undefined, 'metadata.namespace', undefined,
      'is not set, and the endpoint picker\'s RoleBinding is bound to its namespace', 'Give the ModelServer its namespace');
    issues.throwIfAny();
    const server = new ModelServer(scope, id, {
      name: m.name,
      namespace: m.namespace,
      selector: { ...m.matchLabels },
      port: m.port,
      mode,
      timeout: m.timeoutSeconds === undefined ? undefined : Duration.seconds(m.timeoutSeconds),
      metadata: { labels: m.labels, annotations: m.annotations },
    });
    recordWarnings(server, issues);
    return server;
  }

  /** Name of the ModelServer and its InferencePool. */
  public readonly name: string;
  /** Time a request may take, if bounded. */
  public readonly timeout?: Duration;

  constructor(scope: Construct, id: string, props: ModelServerProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.timeout = props.timeout;
    new InferencePool(this, 'pool', {
      name: this.name,
      namespace: props.namespace,
      selector: props.selector,
      targetPort: props.port,
      mode: props.mode,
      metadata: props.metadata,
    });
  }
}

/** A target of a route rule: a ModelServer and its share of the traffic. */
export interface RouteTargetProps {
  /** The ModelServer that serves it. */
  readonly server: ModelServer;

  /**
   * Share of the rule's traffic, relative to the other targets' (Kthena: a percentage, 0 to 100).
   *
   * @default 100
   */
  readonly weight?: number;
}

/** A rule of a {@link ModelRoute}. */
export interface ModelRouteRuleProps {
  /**
   * Name of the rule (the HTTPRoute rule's name).
   *
   * @default - none
   */
  readonly name?: string;

  /**
   * Conditions of the rule.
   *
   * @default - every request for one of the route's names
   */
  readonly match?: ModelMatchProps;

  /** Where matching requests go, by weight. */
  readonly targets: RouteTargetProps[];
}

/** Props of a {@link ModelRoute}. */
export interface ModelRouteProps {
  /**
   * Name of the HTTPRoute.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Namespace of the HTTPRoute.
   *
   * @default - the chart's namespace
   */
  readonly namespace?: string;

  /**
   * The model name clients ask for (the body's `model`).
   *
   * @default - only the LoRA adapter names
   */
  readonly modelName?: string;

  /**
   * LoRA adapter names clients may ask for instead.
   *
   * @default - none
   */
  readonly loraAdapters?: string[];

  /** Rules; Kthena uses the first that matches. */
  readonly rules: ModelRouteRuleProps[];

  /** The Gateways the route attaches to (Kthena attaches to every Gateway of the namespace when none is named). */
  readonly gateways: GatewayParentProps[];

  /**
   * Labels and annotations of the HTTPRoute.
   *
   * @default - none
   */
  readonly metadata?: ObjectMetadataProps;

  /** @internal where the props came from (a manifest), for messages */
  readonly _source?: ManifestSource;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function headerMatch(name: string, m: StringMatch): HttpRouteSpecRulesMatchesHeaders {
  return m.type === 'exact'
    ? { type: HttpRouteSpecRulesMatchesHeadersType.EXACT, name, value: m.value }
    : { type: HttpRouteSpecRulesMatchesHeadersType.REGULAR_EXPRESSION, name, value: m.type === 'prefix' ? `^${escapeRegex(m.value)}.*` : m.value };
}

function pathMatch(m: StringMatch | undefined): HttpRouteSpecRulesMatchesPath {
  if (!m) return { type: HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value: '/' };
  const type = {
    exact: HttpRouteSpecRulesMatchesPathType.EXACT,
    prefix: HttpRouteSpecRulesMatchesPathType.PATH_PREFIX,
    regex: HttpRouteSpecRulesMatchesPathType.REGULAR_EXPRESSION,
  }[m.type];
  return { type, value: m.value };
}

/** The construct form of a loaded `modelMatch`. @internal */
export function matchProps(m: LoadedModelMatch | undefined): ModelMatchProps | undefined {
  if (!m) return undefined;
  const of = (s: { type: 'exact' | 'prefix' | 'regex'; value: string }) => StringMatch[s.type](s.value);
  return {
    model: m.model,
    headers: m.headers && Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, of(v)])),
    uri: m.uri && of(m.uri),
  };
}

/**
 * Kthena's ModelRoute as a Gateway API HTTPRoute: one rule per ModelRoute rule, matching the requested model by the
 * {@link MODEL_NAME_HEADER} header (set from the body by body-based routing on the gateway) together with the rule's
 * headers and path, and sending requests to the targets' InferencePools by weight. Gateway API orders rules by how
 * specific their matches are, not as written: a route of several rules is a warning.
 */
export class ModelRoute extends Construct {
  /**
   * Loads a Kthena ModelRoute of either API generation, with the ModelServers it targets (by name, in its namespace).
   * `gateways` stand for the Gateways of the namespace a route without `parentRefs` attaches to in Kthena.
   */
  public static fromManifest(
    scope: Construct, id: string, manifest: Manifest, options: { servers: readonly ModelServer[]; gateways?: GatewayParentProps[] },
  ): ModelRoute {
    const m = loadModelRoute(manifest);
    const issues = new Issues(`ModelRoute/${m.name}`);
    const rules = m.rules.map((rule, i) => ({
      name: rule.name,
      match: matchProps(rule.match),
      targets: rule.targets.flatMap((t, j) => {
        const server = options.servers.find(s => s.name === t.modelServer && (Chart.of(s).namespace ?? 'default') === (m.namespace ?? 'default'));
        issues.check(server !== undefined, `spec.rules[${i}].targetModels[${j}].modelServerName`, t.modelServer, 'names no ModelServer in the given files',
          `Add the ModelServer ${t.modelServer}${m.namespace ? ` (namespace ${m.namespace})` : ''} to the input`);
        return server ? [{ server, weight: t.weight }] : [];
      }),
    }));
    const gateways = m.parentRefs ?? options.gateways ?? [];
    issues.check(gateways.length > 0, 'spec.parentRefs', undefined, 'is empty: Kthena attaches the route to every Gateway of its namespace, and an HTTPRoute names its Gateways',
      'Name the Gateway in spec.parentRefs, or give it with --gateway NAMESPACE/NAME');
    issues.throwIfAny();
    return new ModelRoute(scope, id, {
      name: m.name,
      namespace: m.namespace,
      modelName: m.modelName,
      loraAdapters: [...m.loraAdapters],
      rules,
      gateways: [...gateways],
      metadata: { labels: m.labels, annotations: m.annotations },
      _source: { ...manifestSource('ModelRoute', m.name), fieldName: f => `spec.${f.replace(/^gateways/, 'parentRefs').replace(/\.targets(\[|$)/, '.targetModels$1').replace(/\.match\./, '.modelMatch.').replace(/\.model$/, '.body.model')}` },
    });
  }

  /** Name of the HTTPRoute. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: ModelRouteProps) {
    super(scope, id);
    this.name = props.name ?? id;
    const issues = new Issues(props._source?.path ?? this.node.path, props._source?.fieldName);
    checkName(issues, 'name', this.name, NameRule.DNS1123_SUBDOMAIN);
    const names = [...new Set([props.modelName, ...(props.loraAdapters ?? [])].filter((n): n is string => n !== undefined && n !== ''))];
    issues.check(names.length > 0, 'modelName', props.modelName, 'is missing and no loraAdapters are given, so the route matches no request',
      'Give the model name clients ask for, or the LoRA adapter names');
    issues.check(props.rules.length >= 1 && props.rules.length <= 16, 'rules', props.rules.length, 'is not 1 to 16 rules', 'Give 1 to 16 rules');
    issues.check(props.gateways.length > 0, 'gateways', undefined, 'is empty, so no gateway routes to the model', 'Name the Gateway the route attaches to');
    // Rules for different model names never match the same request, so their order does not matter.
    const overlap = props.rules.some((a, i) => props.rules.some((b, j) => j > i
      && (a.match?.model === undefined || b.match?.model === undefined || a.match.model === b.match.model)));
    if (overlap) {
      issues.warn('rules', props.rules.length, 'are tried in order by Kthena\'s router, but a Gateway API route prefers the most specific match (longest path, most headers) whatever the order',
        'Make the rules\' matches exclusive, or order-independent');
    }
    const rules = props.rules.map((rule, i) => routeRule(issues, `rules[${i}]`, rule, names));
    issues.throwIfAny();
    new HttpRoute(this, 'route', {
      metadata: objectMeta(this.name, props.namespace ?? Chart.of(this).namespace, props.metadata),
      spec: {
        parentRefs: props.gateways.map(g => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: g.name, namespace: g.namespace, sectionName: g.sectionName })),
        rules,
      },
    });
    recordWarnings(this, issues);
  }
}

/** One rule of a ModelRoute's HTTPRoute. */
function routeRule(issues: Issues, field: string, rule: ModelRouteRuleProps, names: readonly string[]): HttpRouteSpecRules {
  if (rule.name !== undefined) checkName(issues, `${field}.name`, rule.name, NameRule.DNS1123_SUBDOMAIN);
  const model = rule.match?.model;
  issues.check(model === undefined || names.includes(model), `${field}.match.model`, model, `is none of the route's names (${names.join(', ')}), so the rule never matches`,
    'Match one of the route\'s model or LoRA adapter names');
  const headers = Object.entries(rule.match?.headers ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([n, m]) => headerMatch(n, m));
  const path = pathMatch(rule.match?.uri);
  const matches: HttpRouteSpecRulesMatches[] = (model !== undefined ? [model] : names).map(n => ({
    headers: [{ type: HttpRouteSpecRulesMatchesHeadersType.EXACT, name: MODEL_NAME_HEADER, value: n }, ...headers],
    path,
  }));
  issues.check(rule.targets.length >= 1 && rule.targets.length <= 16, `${field}.targets`, rule.targets.length, 'is not 1 to 16 targets', 'Give 1 to 16 targets');
  rule.targets.forEach((t, j) => issues.check(Number.isInteger(t.weight ?? 100) && (t.weight ?? 100) >= 0 && (t.weight ?? 100) <= 100, `${field}.targets[${j}].weight`, t.weight,
    'is not a percentage', 'Use 0 to 100'));
  const timeouts = [...new Set(rule.targets.map(t => t.server.timeout?.toSeconds()))];
  if (timeouts.length > 1) {
    issues.warn(`${field}.targets`, rule.targets.map(t => t.server.name).join(', '), `have different timeouts (${timeouts.map(s => (s === undefined ? 'none' : `${s}s`)).join(', ')}), ` +
      'and an HTTPRoute rule has one, so the rule sets none', 'Give the ModelServers of one rule the same timeout');
  }
  const timeout = timeouts.length === 1 ? timeouts[0] : undefined;
  return {
    name: rule.name,
    matches,
    backendRefs: rule.targets.map(t => ({ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: t.server.name, weight: t.weight ?? 100 })),
    timeouts: timeout === undefined ? undefined : { request: `${timeout}s` },
  };
}
