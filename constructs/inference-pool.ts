import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { HttpRoute, HttpRouteSpecRulesMatchesPathType } from '../imports/gateway.networking.k8s.io';
import { InferencePool as InferencePoolObject } from '../imports/inference.networking.k8s.io';
import { checkLabelKey, checkLabelValue, checkName, Issues, NameRule } from '../src';
import { addedContainerResources } from './_hf-download';
import { objectMeta, ObjectMetadataProps } from './_metadata';

/**
 * The upstream endpoint picker, Gateway API Inference Extension v1.1.0: the release whose InferencePool CRD
 * (`inference.networking.k8s.io/v1`) inferkit imports. Its scorers cover Unified serving only.
 */
export const GIE_EPP_IMAGE = 'registry.k8s.io/gateway-api-inference-extension/epp:v1.1.0';

/**
 * llm-d's endpoint picker (llm-d/llm-d-inference-scheduler): GIE's EPP plus llm-d's plugins `pd-profile-handler`,
 * `prefill-header-handler` and `by-label`; GIE v1.1.0 itself has no disaggregated prefill/decode scheduling. v0.4.0
 * is built on GIE v1.2.0 (its go.mod), serves the same `inference.networking.k8s.io/v1` InferencePool, and comes
 * before llm-d-router #531 replaced the handler's `threshold` with decider plugins, so it reads the configuration
 * rendered below.
 */
export const LLMD_EPP_IMAGE = 'ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0';

/** Ports of the endpoint picker (the defaults of its `--grpc-port`, `--grpc-health-port` and `--metrics-port`). */
export const EppPorts = {
  /** Envoy ext-proc, which the InferencePool's `endpointPickerRef` points at. */
  GRPC: 9002,
  /** gRPC health, for the probes. */
  HEALTH: 9003,
  /** Prometheus metrics. */
  METRICS: 9090,
} as const;

/** Labels of InferencePool objects. Selector labels are public API. */
export const InferencePoolLabels = {
  /** On the endpoint picker's pods, `<pool>-epp`; its Service selects them (the label upstream's chart uses). */
  EPP: 'inferencepool',
} as const;

/** The name of the endpoint picker configuration file in its ConfigMap. */
export const EPP_CONFIG_FILE = 'epp-config.yaml';

const DEFAULT_TARGET_PORT = 8000;
/** The endpoint picker's Service is named `<pool>-epp`, which must stay a DNS-1035 label. */
const EPP_SUFFIX = '-epp';
const MAX_POOL_NAME_LENGTH = 63 - EPP_SUFFIX.length;
/** The distroless `nonroot` user of the GIE image; llm-d's image runs as the same uid. */
const EPP_UID = 65532;

/** How prefill and decode pods of a disaggregated pool are told apart: one label, two values. */
export interface PrefillDecodeProps {
  /** The label key, such as `llm-d.ai/role` or `modelplane.ai/phase`. */
  readonly key: string;

  /** The value on prefill pods, such as `prefill`. */
  readonly prefillValue: string;

  /** The value on decode pods, such as `decode`. */
  readonly decodeValue: string;

  /**
   * Non-cached prompt length (in characters, as llm-d counts it) below which a request skips prefill and is served by
   * the decode pod alone; 0 sends every request through a prefill pod.
   *
   * @default 0
   */
  readonly threshold?: number;
}

/** How the endpoint picker schedules requests onto the pool's pods. */
export class SchedulingMode {
  /**
   * One scheduling profile over every pod: queue, KV-cache-utilization and prefix-cache scorers and the max-score
   * picker (upstream GIE's default configuration).
   */
  public static unified(): SchedulingMode {
    return new SchedulingMode('Unified');
  }

  /**
   * Disaggregated prefill/decode: a decode profile and a prefill profile, each filtered by the pods' label, chosen by
   * llm-d's `pd-profile-handler`; the picked prefill pod reaches the decode pod in the `x-prefiller-host-port` header.
   */
  public static prefillDecode(props: PrefillDecodeProps): SchedulingMode {
    return new SchedulingMode('PrefillDecode', props);
  }

  private constructor(
    /** `Unified` or `PrefillDecode`. */
    public readonly kind: 'Unified' | 'PrefillDecode',
    /** The phase label, in PrefillDecode mode. */
    public readonly prefillDecode?: PrefillDecodeProps,
  ) {}
}

/** The Gateway an HTTPRoute attaches the pool to. */
export interface GatewayParentProps {
  /** Name of the Gateway. */
  readonly name: string;

  /**
   * Namespace of the Gateway.
   *
   * @default - the route's namespace
   */
  readonly namespace?: string;

  /**
   * Listener of the Gateway to attach to.
   *
   * @default - every listener that allows the route
   * @see https://gateway-api.sigs.k8s.io/reference/spec/#parentreference
   */
  readonly sectionName?: string;
}

/** Props of an {@link InferencePool}. */
export interface InferencePoolProps {
  /**
   * Name of the InferencePool; the endpoint picker's objects are named `<name>-epp`.
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

  /**
   * Labels of the inference engine pods the pool fronts (the InferencePool's `selector.matchLabels`).
   *
   * @see https://gateway-api-inference-extension.sigs.k8s.io/api-types/inferencepool/
   */
  readonly selector: Record<string, string>;

  /**
   * Port the engines serve on.
   *
   * @default 8000
   */
  readonly targetPort?: number;

  /**
   * How requests are scheduled onto the pods.
   *
   * @default SchedulingMode.unified()
   */
  readonly mode?: SchedulingMode;

  /**
   * A Gateway to route to the pool through: adds an HTTPRoute with one rule whose backend is the InferencePool.
   *
   * @default - no HTTPRoute
   */
  readonly gateway?: GatewayParentProps;

  /**
   * Path prefix the HTTPRoute matches.
   *
   * @default '/'
   */
  readonly pathPrefix?: string;

  /**
   * Endpoint picker image.
   *
   * @default - GIE_EPP_IMAGE in Unified mode, LLMD_EPP_IMAGE in PrefillDecode mode
   */
  readonly eppImage?: string;

  /**
   * Serve the endpoint picker's `/metrics` only to callers the API server authenticates and allows `get` on the
   * non-resource URL `/metrics` (GIE's `--metrics-endpoint-auth`, its default). The picker then reviews tokens and
   * access, so inferkit adds a ClusterRole `inferkit-epp-auth:<namespace>:<name>-epp` for `tokenreviews` and
   * `subjectaccessreviews` and binds it to the picker's ServiceAccount, as GIE's chart does. Grant your Prometheus
   * `get` on `/metrics`. `false` serves metrics to anyone who reaches the port.
   *
   * @default true
   * @see https://gateway-api-inference-extension.sigs.k8s.io/guides/metrics-and-observability/
   */
  readonly metricsAuth?: boolean;

  /**
   * Labels and annotations added to every object.
   *
   * @default - none
   */
  readonly metadata?: ObjectMetadataProps;
}

/**
 * Fronts inference engine pods with the Gateway API Inference Extension, as Modelplane does for a ModelDeployment: an
 * `inference.networking.k8s.io/v1` InferencePool over the pods, its endpoint picker (ServiceAccount, Role and
 * RoleBinding, with `metricsAuth` a ClusterRole and binding for token and access reviews, ConfigMap with the
 * EndpointPickerConfig, Deployment and gRPC Service), and optionally an HTTPRoute
 * from a Gateway. The endpoint picker objects follow GIE v1.1.0's `config/charts/inferencepool` chart.
 */
export class InferencePool extends Construct {
  /** Name of the InferencePool. */
  public readonly name: string;
  /** Namespace of the objects, if any. */
  public readonly namespace?: string;
  /** Name of the endpoint picker's objects (ServiceAccount, Role, ConfigMap, Deployment, Service). */
  public readonly eppName: string;
  /** Port the engines serve on. */
  public readonly targetPort: number;
  /** How requests are scheduled. */
  public readonly mode: SchedulingMode;
  /** Endpoint picker image. */
  public readonly eppImage: string;
  /** Whether `/metrics` asks callers for a token the API server allows. */
  public readonly metricsAuth: boolean;

  private readonly props: InferencePoolProps;

  constructor(scope: Construct, id: string, props: InferencePoolProps) {
    super(scope, id);
    this.props = props;
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    this.eppName = `${this.name}${EPP_SUFFIX}`;
    this.targetPort = props.targetPort ?? DEFAULT_TARGET_PORT;
    this.mode = props.mode ?? SchedulingMode.unified();
    this.eppImage = props.eppImage ?? (this.mode.kind === 'PrefillDecode' ? LLMD_EPP_IMAGE : GIE_EPP_IMAGE);
    this.metricsAuth = props.metricsAuth ?? true;

    const issues = new Issues(this.node.path);
    this.validate(issues);
    issues.throwIfAny();

    this.renderPool();
    this.renderEndpointPicker();
    if (props.gateway) this.renderRoute(props.gateway);
  }

  private validate(issues: Issues): void {
    const p = this.props;
    checkName(issues, 'name', this.name, NameRule.DNS1035_LABEL, MAX_POOL_NAME_LENGTH);
    // The endpoint picker's RoleBinding and its --pool-namespace name the namespace: it cannot be left to kubectl.
    if (issues.check(this.namespace !== undefined, 'namespace', this.namespace, 'is not set, and the chart has no namespace either',
      'Set namespace, or give the chart a namespace')) {
      checkName(issues, 'namespace', this.namespace!, NameRule.DNS1123_LABEL);
    }
    const selector = p.selector ?? {};
    if (issues.check(Object.keys(selector).length > 0, 'selector', selector, 'is empty, so the pool would select no engine pods',
      'Give the labels of the engine pods, such as { app: \'llama-70b\' }')) {
      issues.check(Object.keys(selector).length <= 64, 'selector', selector, `has ${Object.keys(selector).length} labels, more than the 64 an InferencePool allows`, 'Select the pods by fewer labels');
      for (const [key, value] of Object.entries(selector)) {
        checkLabelKey(issues, `selector['${key}']`, key);
        checkLabelValue(issues, `selector['${key}']`, value);
      }
    }
    issues.check(Number.isInteger(this.targetPort) && this.targetPort >= 1 && this.targetPort <= 65535, 'targetPort', this.targetPort,
      'is not a port number (an integer from 1 to 65535)', 'Use the port the engines serve on, such as 8000');
    issues.check(typeof this.eppImage === 'string' && this.eppImage.trim().length > 0 && !/\s/.test(this.eppImage), 'eppImage', this.eppImage,
      'is not an image reference', `Use a pinned image such as '${GIE_EPP_IMAGE}', or leave eppImage unset`);

    const pd = this.mode.prefillDecode;
    if (pd) {
      checkLabelKey(issues, 'mode.key', pd.key);
      checkLabelValue(issues, 'mode.prefillValue', pd.prefillValue);
      checkLabelValue(issues, 'mode.decodeValue', pd.decodeValue);
      issues.check(pd.prefillValue !== pd.decodeValue, 'mode.decodeValue', pd.decodeValue,
        `equals mode.prefillValue, so prefill and decode pods cannot be told apart by '${pd.key}'`, 'Give prefill and decode pods different values, such as \'prefill\' and \'decode\'');
      const threshold = pd.threshold ?? 0;
      issues.check(Number.isInteger(threshold) && threshold >= 0, 'mode.threshold', threshold, 'is not a non-negative integer',
        'Use 0 to send every request through a prefill pod, or a prompt length');
      if (pd.key in selector) {
        issues.add('mode.key', pd.key, `is also in selector with value '${selector[pd.key]}', so the pool would hold only one phase`,
          'Select the engine pods by labels that prefill and decode pods share, and keep the phase label out of selector');
      }
    }

    const gw = p.gateway;
    if (gw) {
      // Gateway API: Gateway and listener (section) names are DNS subdomains; namespaces are labels.
      checkName(issues, 'gateway.name', gw.name, NameRule.DNS1123_SUBDOMAIN);
      if (gw.namespace !== undefined) checkName(issues, 'gateway.namespace', gw.namespace, NameRule.DNS1123_LABEL);
      if (gw.sectionName !== undefined) checkName(issues, 'gateway.sectionName', gw.sectionName, NameRule.DNS1123_SUBDOMAIN);
    }
    const prefix = p.pathPrefix;
    if (prefix !== undefined) {
      issues.check(prefix.startsWith('/') && !/[\s?#]/.test(prefix) && prefix.length <= 1024, 'pathPrefix', prefix,
        'is not a path prefix (it must start with \'/\' and have no spaces, \'?\' or \'#\')', 'Use a path such as \'/\' or \'/v1\'');
      issues.check(gw !== undefined, 'pathPrefix', prefix, 'is set without gateway, so no HTTPRoute uses it', 'Set gateway, or remove pathPrefix');
    }
  }

  private metadata(name: string, labels: Record<string, string> = {}): k8s.ObjectMeta {
    return objectMeta(name, this.namespace, this.props.metadata, labels);
  }

  private renderPool(): void {
    new InferencePoolObject(this, 'pool', {
      metadata: this.metadata(this.name),
      spec: {
        selector: { matchLabels: { ...this.props.selector } },
        targetPorts: [{ number: this.targetPort }],
        endpointPickerRef: { name: this.eppName, port: { number: EppPorts.GRPC } },
      },
    });
  }

  private renderEndpointPicker(): void {
    const name = this.eppName;
    const podLabels = { [InferencePoolLabels.EPP]: name };
    new k8s.KubeServiceAccount(this, 'epp-sa', { metadata: this.metadata(name) });
    // What the EPP watches, as in GIE v1.1.0's chart (templates/rbac.yaml).
    new k8s.KubeRole(this, 'epp-role', {
      metadata: this.metadata(name),
      rules: [
        { apiGroups: ['inference.networking.x-k8s.io'], resources: ['inferenceobjectives'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: ['inference.networking.k8s.io'], resources: ['inferencepools'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'watch', 'list'] },
      ],
    });
    new k8s.KubeRoleBinding(this, 'epp-rolebinding', {
      metadata: this.metadata(name),
      subjects: [{ kind: 'ServiceAccount', name, namespace: this.namespace! }],
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    });
    if (this.metricsAuth) {
      // The chart's ClusterRole: the picker reviews each scraper's token and its access to /metrics. Cluster-scoped,
      // so its name carries the namespace (':' cannot be in a namespace or a pool name, so no two pools share one).
      const auth = `inferkit-epp-auth:${this.namespace}:${name}`;
      new k8s.KubeClusterRole(this, 'epp-auth-role', {
        metadata: objectMeta(auth, undefined, this.props.metadata),
        rules: [
          { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
          { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
        ],
      });
      new k8s.KubeClusterRoleBinding(this, 'epp-auth-rolebinding', {
        metadata: objectMeta(auth, undefined, this.props.metadata),
        subjects: [{ kind: 'ServiceAccount', name, namespace: this.namespace! }],
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: auth },
      });
    }
    new k8s.KubeConfigMap(this, 'epp-config', {
      metadata: this.metadata(name),
      data: { [EPP_CONFIG_FILE]: stringify(endpointPickerConfig(this.mode)) },
    });

    const grpcHealth = { port: EppPorts.HEALTH, service: 'inference-extension' };
    new k8s.KubeDeployment(this, 'epp', {
      metadata: this.metadata(name, podLabels),
      spec: {
        replicas: 1,
        // One active picker: its prefix-cache state lives in memory, and the old pod must stop before the new one
        // serves (upstream's chart does the same).
        strategy: { type: 'Recreate' },
        selector: { matchLabels: podLabels },
        template: {
          metadata: { labels: { ...this.props.metadata?.labels, ...podLabels } },
          spec: {
            serviceAccountName: name,
            terminationGracePeriodSeconds: 130,
            securityContext: { runAsNonRoot: true, runAsUser: EPP_UID, runAsGroup: EPP_UID, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [{
              name: 'epp',
              image: this.eppImage,
              imagePullPolicy: 'IfNotPresent',
              args: [
                '--pool-name', this.name,
                '--pool-namespace', this.namespace!,
                '--config-file', `/config/${EPP_CONFIG_FILE}`,
                '--grpc-port', String(EppPorts.GRPC),
                '--grpc-health-port', String(EppPorts.HEALTH),
                '--metrics-port', String(EppPorts.METRICS),
                '--zap-encoder', 'json',
                `--metrics-endpoint-auth=${this.metricsAuth}`,
                // GIE emits traces unless told not to (v1.1.0, and v1.2.0 under llm-d v0.4.0); its chart turns them off.
                '--tracing=false',
              ],
              env: [{ name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
              ports: [
                { name: 'grpc', containerPort: EppPorts.GRPC },
                { name: 'grpc-health', containerPort: EppPorts.HEALTH },
                { name: 'metrics', containerPort: EppPorts.METRICS },
              ],
              livenessProbe: { grpc: grpcHealth, initialDelaySeconds: 5, periodSeconds: 10 },
              readinessProbe: { grpc: grpcHealth, periodSeconds: 2 },
              resources: addedContainerResources(),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'config', mountPath: '/config', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }],
            }],
            volumes: [{ name: 'config', configMap: { name } }, { name: 'tmp', emptyDir: {} }],
          },
        },
      },
    });
    new k8s.KubeService(this, 'epp-service', {
      metadata: this.metadata(name),
      spec: {
        type: 'ClusterIP',
        selector: podLabels,
        ports: [
          { name: 'grpc-ext-proc', protocol: 'TCP', port: EppPorts.GRPC, targetPort: k8s.IntOrString.fromNumber(EppPorts.GRPC) },
          { name: 'http-metrics', protocol: 'TCP', port: EppPorts.METRICS, targetPort: k8s.IntOrString.fromNumber(EppPorts.METRICS) },
        ],
      },
    });
  }

  private renderRoute(gateway: GatewayParentProps): void {
    new HttpRoute(this, 'route', {
      metadata: this.metadata(this.name),
      spec: {
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: gateway.name, namespace: gateway.namespace, sectionName: gateway.sectionName }],
        rules: [{
          matches: [{ path: { type: HttpRouteSpecRulesMatchesPathType.PATH_PREFIX, value: this.props.pathPrefix ?? '/' } }],
          backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: this.name }],
        }],
      },
    });
  }
}

/**
 * The EndpointPickerConfig of a mode.
 *
 * Unified is GIE v1.1.0's default (`config/charts/inferencepool/templates/epp-config.yaml`) with the picker its loader
 * adds (`pkg/epp/config/loader/defaults.go`) written out. PrefillDecode is llm-d's P/D configuration with its generic
 * `by-label` filter in place of `prefill-filter`/`decode-filter`, which only read `llm-d.ai/role`.
 */
export function endpointPickerConfig(mode: SchedulingMode): Record<string, unknown> {
  const header = { apiVersion: 'inference.networking.x-k8s.io/v1alpha1', kind: 'EndpointPickerConfig' };
  const pd = mode.prefillDecode;
  if (!pd) {
    return {
      ...header,
      plugins: [
        { type: 'queue-scorer' },
        { type: 'kv-cache-utilization-scorer' },
        { type: 'prefix-cache-scorer' },
        { type: 'max-score-picker' },
      ],
      schedulingProfiles: [{
        name: 'default',
        plugins: [
          { pluginRef: 'queue-scorer' },
          { pluginRef: 'kv-cache-utilization-scorer' },
          { pluginRef: 'prefix-cache-scorer' },
          { pluginRef: 'max-score-picker' },
        ],
      }],
    };
  }
  const filter = (name: string, value: string) => ({ type: 'by-label', name, parameters: { label: pd.key, validValues: [value], allowsNoLabel: false } });
  const scoring = [{ pluginRef: 'queue-scorer' }, { pluginRef: 'prefix-cache-scorer' }, { pluginRef: 'max-score-picker' }];
  return {
    ...header,
    plugins: [
      { type: 'prefill-header-handler' },
      filter('prefill-filter', pd.prefillValue),
      filter('decode-filter', pd.decodeValue),
      { type: 'queue-scorer' },
      // The PD handler reads this plugin's state under its type name to measure the decode pod's cache hit. Both
      // keep their default block size (GIE's prefix.DefaultBlockSize), so they hash prompts alike.
      { type: 'prefix-cache-scorer' },
      { type: 'max-score-picker' },
      { type: 'pd-profile-handler', parameters: { threshold: pd.threshold ?? 0, prefillProfile: 'prefill', decodeProfile: 'decode' } },
    ],
    schedulingProfiles: [
      { name: 'prefill', plugins: [{ pluginRef: 'prefill-filter' }, ...scoring] },
      { name: 'decode', plugins: [{ pluginRef: 'decode-filter' }, ...scoring] },
    ],
  };
}
