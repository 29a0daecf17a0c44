import * as path from 'path';
import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { HttpRoute } from '../imports/gateway.networking.k8s.io';
import {
  checkName, engineBatching, EngineSpec, Issues, LoadedModelVersion, loadInferenceManifest, Manifest, MODEL_VERSION_KIND, NameRule, resolveEngine,
} from '../src';
import { checkAutoscaler, INITIAL_REPLICAS, renderAutoscaler } from './_autoscaler';
import { ManifestSource, manifestSource, objectMeta, ObjectMetadataProps } from './_metadata';
import { renderPodTemplate, resolvePodDefaults } from './_pod-template';
import { readPodTemplate } from './_pod-template-json';
import { PodDefaults } from './pod-defaults';
import { recordWarnings } from './warnings';
import { checkInteger, checkWorkloads } from '../src/limits';

/** Labels of an InferenceService's pods and services. Selector labels are public API. */
export const InferenceLabels = {
  /** The InferenceService (selector). */
  INFERENCE: 'serving.kubedl.io/inference',
  /** The predictor (selector). */
  PREDICTOR: 'serving.kubedl.io/predictor',
  /** The model version a predictor serves. */
  MODEL_VERSION: 'serving.kubedl.io/model-version',
  /** KubeDL's controller's own label of the Inference (`controllers/serving/labels.go`), for tools that select by it. */
  KUBEDL_INFERENCE: 'kubedl.io/inference-name',
  /** KubeDL's controller's own label of the predictor. */
  KUBEDL_PREDICTOR: 'kubedl.io/predictor-name',
  /** KubeDL's controller's own label of the model version. */
  KUBEDL_MODEL_VERSION: 'kubedl.io/model-version',
} as const;

/** Autoscaling of one predictor by an `autoscaling/v2` HorizontalPodAutoscaler. */
export interface PredictorAutoScaleProps {
  /**
   * Fewest replicas.
   *
   * @default 1
   */
  readonly minReplicas?: number;

  /** Most replicas. */
  readonly maxReplicas: number;

  /**
   * Average CPU utilisation the autoscaler aims for.
   *
   * @default 80
   */
  readonly targetCPUUtilizationPercentage?: number;
}

/** Request batching, rendered as the framework's own configuration. */
export interface BatchingProps {
  /** Largest batch. */
  readonly batchSize: number;

  /**
   * Longest wait to fill a batch.
   *
   * @default - the framework's default
   */
  readonly timeoutSeconds?: number;
}

/** The image KubeDL's model builder made of a model version (a ModelVersion's `status.image`). */
export interface ModelImageProps {
  /** The image, `<imageRepo>:<imageTag>`; its `/kubedl-model` directory holds the model's files. */
  readonly image: string;

  /**
   * The model's name (a ModelVersion's `spec.modelName`), passed to TF Serving as `MODEL_NAME`.
   *
   * @default - no `MODEL_NAME`
   */
  readonly modelName?: string;
}

/** One predictor: a model version served by its own Deployment and Service. */
export interface PredictorProps {
  /** Predictor name: a DNS label. */
  readonly name: string;

  /**
   * The model version this predictor serves: a label on its pods and Service, and, with `modelImage`, where the model
   * is loaded (`/kubedl-model/<modelVersion>`, unless `modelPath` says otherwise).
   *
   * @default - no version label
   */
  readonly modelVersion?: string;

  /**
   * Where the model sits inside every container, passed to each as `KUBEDL_MODEL_PATH` (and, for TF Serving, its
   * parent directory as `MODEL_BASE_PATH`). With `modelImage`, the loaded model is mounted there.
   *
   * @default - `/kubedl-model/<modelVersion>` with `modelImage`; otherwise no model path
   */
  readonly modelPath?: string;

  /**
   * The image of the model version, whose `/kubedl-model` files are the model: loaded as KubeDL loads a ModelVersion,
   * by an init container `kubedl-model-loader` that copies them into an emptyDir mounted at the model path of every
   * container.
   *
   * @default - no model loader: the template brings its model
   */
  readonly modelImage?: ModelImageProps;

  /**
   * Replicas. With `autoScale` the autoscaler owns the count, so the Deployment leaves it unset and this
   * value, which must lie within the autoscaler's range, is only recorded as the starting size
   * (annotation `autoscaling.inferkit.dev/initial-replicas`).
   *
   * @default 1
   */
  readonly replicas?: number;

  /**
   * Share of the InferenceService's traffic, in percent. Required on every predictor when there are
   * several; the shares must add up to exactly 100.
   *
   * @default 100 for a single predictor
   */
  readonly trafficPercentage?: number;

  /**
   * Horizontal autoscaling; when set, the autoscaler owns `replicas`.
   *
   * @default - a fixed number of replicas
   */
  readonly autoScale?: PredictorAutoScaleProps;

  /**
   * Request batching in the framework.
   *
   * @default - no batching
   */
  readonly batching?: BatchingProps;

  /** Pod template of the predictor's pods. */
  readonly template: k8s.PodTemplateSpec;
}

/** A Gateway API Gateway an HTTPRoute attaches to. */
export interface GatewayRef {
  /** The Gateway's name. */
  readonly name: string;

  /**
   * The Gateway's namespace.
   *
   * @default - the route's namespace
   */
  readonly namespace?: string;
}

/** Options of {@link InferenceService.fromManifest}. */
export interface InferenceManifestOptions {
  /**
   * GPU-first pod defaults.
   *
   * @default - all on
   */
  readonly podDefaults?: PodDefaults;

  /**
   * KubeDL ModelVersions the predictors' `modelVersion` may name (looked up in the Inference's namespace): their images
   * are loaded into the pods as KubeDL loads them.
   *
   * @default - none: a predictor's model version is only a label, with a warning
   */
  readonly modelVersions?: readonly LoadedModelVersion[];

  /**
   * Gateways the traffic-splitting HTTPRoute attaches to (`inferkit synth --gateway`).
   *
   * @default - none
   */
  readonly gateways?: GatewayRef[];
}

/** Props of an {@link InferenceService}: KubeDL's Inference, compiled to plain Kubernetes objects. */
export interface InferenceServiceProps {
  /**
   * Name of the service; object names start with it. A DNS-1035 label.
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

  /** The serving framework: TFServing, Triton or an engine such as vllm. */
  readonly framework: string;

  /** The predictors, at least one. */
  readonly predictors: PredictorProps[];

  /**
   * Gateways the traffic-splitting HTTPRoute attaches to: the split holds for traffic through them. With several
   * predictors and a gateway there is no entry Service, which would split by pod count instead.
   *
   * @default - none: with several predictors the route attaches to the entry Service, which selects no pods, for a
   * service mesh that implements Gateway API for Services to split (a warning says so); a single predictor gets an
   * entry Service over its pods and no route
   * @see https://gateway-api.sigs.k8s.io/api-types/httproute/
   * @see https://gateway-api.sigs.k8s.io/mesh/
   */
  readonly gateways?: GatewayRef[];

  /**
   * GPU-first pod defaults.
   *
   * @default - all on
   */
  readonly podDefaults?: PodDefaults;

  /**
   * Labels and annotations added to every object.
   *
   * @default - none
   */
  readonly metadata?: ObjectMetadataProps;

  /** @internal where the props came from (a manifest), for messages */
  readonly _source?: ManifestSource;
}

const PERCENT = 100;
/** KubeDL's variable for the model's path in the container. */
const MODEL_PATH_ENV = 'KUBEDL_MODEL_PATH';
/** Where a KubeDL model image holds the model's files, and under which a model version is loaded by default. */
const MODEL_DIR = '/kubedl-model';
/** KubeDL's model loader: the init container's and the shared volume's name, and where the loader mounts the volume. */
const MODEL_LOADER = 'kubedl-model-loader';
const MODEL_LOADER_MOUNT = '/mnt/kubedl-model/';
/** The ports of KubeDL's predictor and entry Services: HTTP 8080 and gRPC 9000. */
const SERVICE_PORTS = { http: 8080, grpc: 9000 } as const;
/**
 * Per framework, the flags that set the serving ports, and the ports it serves when they are absent (KubeDL's
 * defaults where the framework serves none: TF Serving's REST API is off unless `--rest_api_port` is given).
 */
const FRAMEWORK_PORT_FLAGS: Readonly<Record<string, { http: string; grpc: string; defaults: { http: number; grpc: number } }>> = {
  TFServing: { http: 'rest_api_port', grpc: 'port', defaults: SERVICE_PORTS },
  Triton: { http: 'http-port', grpc: 'grpc-port', defaults: { http: 8000, grpc: 8001 } },
};

/** Where a predictor's pods serve: the container ports its Service's `http` and `grpc` ports forward to. */
interface PredictorPorts {
  readonly http: number;
  readonly grpc: number;
}

/**
 * KubeDL's Inference without its controller: per predictor a Deployment and a Service (ports `http` 8080 and `grpc`
 * 9000, forwarding to where the pods serve), an HTTPRoute whose weights are the predictors' traffic shares (which must
 * add up to exactly 100), an autoscaler per predictor that asks for one, batching rendered as the framework's own
 * configuration, and a predictor's model image loaded into its pods as KubeDL loads a ModelVersion.
 *
 * The weights are the only split: with several predictors no Service selects the pods of more than one, so nothing
 * bypasses the route. The route splits traffic through the given gateways; without one, it attaches to the entry
 * Service `<name>` (which selects no pods) for a service mesh that implements Gateway API for Services, and a warning
 * says so. A single predictor has an entry Service over its pods, and a route only through gateways.
 */
export class InferenceService extends Construct {
  /**
   * Loads a KubeDL `serving.kubedl.io/v1alpha1` Inference manifest. Unknown fields, anywhere including the
   * pod templates, are errors. A predictor's `modelVersion` is looked up among `options.modelVersions`; one that is
   * not there, or has no image yet, gets no model loader, with a warning.
   */
  public static fromManifest(scope: Construct, id: string, manifest: Manifest, options: InferenceManifestOptions = {}): InferenceService {
    const loaded = loadInferenceManifest(manifest);
    const issues = new Issues(`Inference/${loaded.name}`);
    for (const w of loaded.warnings) issues.warn(w.field, w.value, w.cause, w.fix);
    const predictors = loaded.predictors.map((p, i): PredictorProps => {
      const f = `spec.predictors[${i}]`;
      const version = p.modelVersion === undefined ? undefined
        : options.modelVersions?.find(v => v.name === p.modelVersion && (v.namespace ?? '') === (loaded.namespace ?? ''));
      if (p.modelVersion !== undefined && version?.image === undefined) {
        const where = p.modelPath ?? `${MODEL_DIR}/${p.modelVersion}`;
        issues.warn(`${f}.modelVersion`, p.modelVersion,
          `${version ? 'names a ModelVersion without spec.imageTag, so inferkit cannot know its image' : 'names no ModelVersion among the input documents'}; `
          + `the pods get no model, where KubeDL would copy its image's ${MODEL_DIR} files into ${where} of every container (init container ${MODEL_LOADER}, `
          + `env ${MODEL_PATH_ENV})`,
          `Add the ${MODEL_VERSION_KIND.apiVersion} ModelVersion ${p.modelVersion}${loaded.namespace ? ` (namespace ${loaded.namespace})` : ''} `
          + 'to the input, with spec.imageRepo and spec.imageTag naming its built image');
      }
      return {
        ...p,
        modelImage: version?.image === undefined ? undefined : { image: version.image, modelName: version.modelName },
        template: readPodTemplate(issues, `${f}.template`, p.template) ?? {},
      };
    });
    issues.throwIfAny();
    const service = new InferenceService(scope, id, {
      name: loaded.name,
      namespace: loaded.namespace,
      framework: loaded.framework,
      predictors,
      gateways: options.gateways,
      podDefaults: options.podDefaults,
      metadata: { labels: loaded.labels, annotations: loaded.annotations },
      _source: manifestSource('Inference', loaded.name),
    });
    recordWarnings(service, issues);
    return service;
  }

  /** Name of the service. */
  public readonly name: string;
  /** Namespace of the objects, if any. */
  public readonly namespace?: string;
  private readonly props: InferenceServiceProps;

  constructor(scope: Construct, id: string, props: InferenceServiceProps) {
    super(scope, id);
    this.props = props;
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    const issues = new Issues(props._source?.path ?? this.node.path, props._source?.fieldName);
    checkName(issues, 'name', this.name, NameRule.DNS1035_LABEL);
    const predictors = props.predictors ?? [];
    issues.check(predictors.length > 0, 'predictors', undefined, 'is empty', 'Add at least one predictor');
    checkWorkloads(issues, 'predictors', undefined, `${predictors.length} predictors`, predictors.length, 'Deployments');

    // Traffic: every share given when there are several, each 0..100, adding up to exactly 100.
    const shares = predictors.map(p => p.trafficPercentage ?? (predictors.length === 1 ? PERCENT : undefined));
    predictors.forEach((p, i) => {
      const f = `predictors[${i}]`;
      checkName(issues, `${f}.name`, p.name, NameRule.DNS1035_LABEL, 63 - this.name.length - 1);
      issues.check(predictors.findIndex(q => q.name === p.name) === i, `${f}.name`, p.name, 'is used by another predictor', 'Give every predictor a unique name');
      issues.check(shares[i] !== undefined, `${f}.trafficPercentage`, undefined, `is missing; with ${predictors.length} predictors each needs a share`,
        'Give every predictor a trafficPercentage, adding up to 100');
      if (p.trafficPercentage !== undefined) {
        issues.check(Number.isInteger(p.trafficPercentage) && p.trafficPercentage >= 0 && p.trafficPercentage <= PERCENT, `${f}.trafficPercentage`,
          p.trafficPercentage, 'is not a whole percentage', 'Use 0 to 100');
      }
      issues.check(!p.modelImage || p.modelVersion !== undefined || p.modelPath !== undefined, `${f}.modelImage`, p.modelImage?.image,
        'has nowhere to be loaded: the model path comes from modelVersion or modelPath', `Give modelVersion (loaded at ${MODEL_DIR}/<modelVersion>) or modelPath`);
      if (p.replicas !== undefined) checkInteger(issues, `${f}.replicas`, p.replicas, 'replicas');
      if (p.autoScale) checkAutoscaler(issues, `${f}.autoScale`, p.autoScale, `${f}.replicas`, p.replicas);
    });
    if (shares.every(s => s !== undefined)) {
      const sum = shares.reduce((a, b) => a! + b!, 0)!;
      issues.check(sum === PERCENT, 'predictors[*].trafficPercentage', shares, `add up to ${sum}, not 100`, 'Make the traffic shares add up to exactly 100');
    }

    const engine = resolveEngine(issues, 'framework', props.framework);
    // Contradictory props stop here, before any object exists.
    issues.throwIfAny();

    const defaults = resolvePodDefaults(props.podDefaults);
    const several = predictors.length > 1;
    const gateways = props.gateways ?? [];
    const backendRefs: Array<{ name: string; weight: number }> = [];
    let single: { selector: Record<string, string>; ports: k8s.ServicePort[] } | undefined;
    predictors.forEach((p, i) => {
      const f = `predictors[${i}]`;
      const name = `${this.name}-${p.name}`;
      const selector = { [InferenceLabels.INFERENCE]: this.name, [InferenceLabels.PREDICTOR]: p.name };
      const labels = {
        ...selector,
        [InferenceLabels.KUBEDL_INFERENCE]: this.name,
        [InferenceLabels.KUBEDL_PREDICTOR]: p.name,
        ...(p.modelVersion ? { [InferenceLabels.MODEL_VERSION]: p.modelVersion, [InferenceLabels.KUBEDL_MODEL_VERSION]: p.modelVersion } : {}),
      };
      const batched = p.batching ? this.batching(issues, `${f}.batching`, engine!, name, p.batching, p.template) : p.template;
      const { template: served, ports } = servingPorts(batched, engine!);
      const loaded = withModel(issues, f, served, p, engine!.name);
      const template = renderPodTemplate(loaded, { labels, annotations: {}, env: [], topologySpreadConstraints: [] }, defaults, issues, `${f}.template`);
      const servicePorts: k8s.ServicePort[] = [
        { name: 'http', port: SERVICE_PORTS.http, targetPort: k8s.IntOrString.fromNumber(ports.http) },
        { name: 'grpc', port: SERVICE_PORTS.grpc, targetPort: k8s.IntOrString.fromNumber(ports.grpc) },
      ];
      if (!several) single = { selector, ports: servicePorts };

      const deploymentMeta = this.metadata(name, labels);
      new k8s.KubeDeployment(this, `${p.name}-deployment`, {
        metadata: p.autoScale && p.replicas !== undefined
          ? { ...deploymentMeta, annotations: { ...deploymentMeta.annotations, [INITIAL_REPLICAS]: String(p.replicas) } }
          : deploymentMeta,
        spec: {
          replicas: p.autoScale ? undefined : p.replicas ?? 1,
          selector: { matchLabels: selector },
          template,
        },
      });
      new k8s.KubeService(this, `${p.name}-service`, {
        metadata: this.metadata(name, labels),
        spec: { selector, ports: servicePorts },
      });
      if (p.autoScale) renderAutoscaler(this, `${p.name}-hpa`, this.metadata(name, labels), name, p.autoScale, issues, `predictors[${i}].autoScale`);
      backendRefs.push({ name, weight: shares[i] ?? 0 });
    });
    issues.throwIfAny();

    const entryLabels = { [InferenceLabels.INFERENCE]: this.name, [InferenceLabels.KUBEDL_INFERENCE]: this.name };
    // The entry Service never selects the pods of several predictors: it would split by pod count, not by weight.
    if (single) {
      new k8s.KubeService(this, 'entry', { metadata: this.metadata(this.name, entryLabels), spec: { selector: single.selector, ports: single.ports } });
    } else if (gateways.length === 0) {
      new k8s.KubeService(this, 'entry', { metadata: this.metadata(this.name, entryLabels), spec: { ports: [{ name: 'http', port: SERVICE_PORTS.http }] } });
      issues.warn('predictors[*].trafficPercentage', shares,
        `are split only where Gateway API routes the traffic: without a gateway, HTTPRoute ${this.name} attaches to Service ${this.name}, `
        + 'which a service mesh implementing Gateway API for Services (such as Istio or Linkerd) splits as declared; without such a mesh, '
        + `Service ${this.name} has no endpoints and Services ${backendRefs.map(b => b.name).join(', ')} are reached only directly, unweighted`,
        'Give a gateway (inferkit synth --gateway NAMESPACE/NAME, or the gateways prop) to split the traffic at its address');
    }
    const parentRefs = gateways.length > 0
      ? gateways.map(g => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: g.name, namespace: g.namespace }))
      : several ? [{ group: '', kind: 'Service', name: this.name, port: SERVICE_PORTS.http }] : [];
    if (parentRefs.length > 0) {
      new HttpRoute(this, 'route', {
        metadata: this.metadata(this.name, entryLabels),
        spec: {
          parentRefs,
          rules: [{ backendRefs: backendRefs.map(b => ({ kind: 'Service', name: b.name, port: SERVICE_PORTS.http, weight: b.weight })) }],
        },
      });
    }
    recordWarnings(this, issues);
  }

  /**
   * Renders batching as the framework's own configuration: its flags on the first container and its files in a
   * ConfigMap mounted where the flags point. A framework that reads batching from the model's own configuration
   * (Triton's config.pbtxt) cannot be configured from outside, so that is an error with the lines to add.
   */
  private batching(issues: Issues, field: string, engine: EngineSpec, name: string, b: BatchingProps, t: k8s.PodTemplateSpec): k8s.PodTemplateSpec {
    const timeoutMicros = b.timeoutSeconds === undefined ? undefined : b.timeoutSeconds * 1_000_000;
    const config = engineBatching(issues, field, engine, b.batchSize, { timeoutMicros });
    if (!config) return t;
    if (config.modelConfig) {
      issues.add(field, b, `cannot be applied by inferkit: ${engine.name} reads batching from the model's config.pbtxt`,
        `Add to the model's config.pbtxt:\n${config.modelConfig}and remove batching`);
      return t;
    }
    const files = Object.entries(config.files);
    const dirs = new Set(files.map(([file]) => path.posix.dirname(file)));
    if (files.length > 0) {
      new k8s.KubeConfigMap(this, `${name}-batching`, {
        metadata: this.metadata(`${name}-batching`, {}),
        data: Object.fromEntries(files.map(([file, text]) => [path.posix.basename(file), text])),
      });
    }
    const [first, ...rest] = t.spec?.containers ?? [];
    if (!first) return t;
    const volumes = [...dirs].map((_, i) => ({ name: `batching-${i}`, configMap: { name: `${name}-batching` } }));
    const mounts = [...dirs].map((dir, i) => ({ name: `batching-${i}`, mountPath: dir, readOnly: true }));
    return {
      ...t,
      spec: {
        ...t.spec,
        volumes: [...(t.spec?.volumes ?? []), ...volumes],
        containers: [{ ...first, args: [...(first.args ?? []), ...config.args], volumeMounts: [...(first.volumeMounts ?? []), ...mounts] }, ...rest],
      },
    };
  }

  private metadata(name: string, labels: Record<string, string>): k8s.ObjectMeta {
    return objectMeta(name, this.namespace, this.props.metadata, labels);
  }
}

/**
 * Where a predictor's pods serve HTTP and gRPC: a container port named `http` (or `grpc`), else the port the framework's
 * flag on the predictor container sets (the container named `predictor`, else the first, as KubeDL picks it), else
 * the framework's default. Like KubeDL's defaulting, the HTTP port is declared on the predictor container when no
 * container declares it (KubeDL's own port name, `predictor-http-port`, is longer than a port name may be).
 */
function servingPorts(t: k8s.PodTemplateSpec, engine: EngineSpec): { template: k8s.PodTemplateSpec; ports: PredictorPorts } {
  const containers = t.spec?.containers ?? [];
  const index = Math.max(0, containers.findIndex(c => c.name === 'predictor'));
  const main = containers[index];
  const declared = containers.flatMap(c => c.ports ?? []);
  const named = (name: string) => declared.find(pt => pt.name === name)?.containerPort;
  const flags = FRAMEWORK_PORT_FLAGS[engine.name];
  const args = [...(main?.command ?? []), ...(main?.args ?? [])];
  const http = named('http') ?? flagPort(args, flags?.http) ?? flags?.defaults.http ?? engine.port.port;
  const grpc = named('grpc') ?? flagPort(args, flags?.grpc) ?? flags?.defaults.grpc ?? engine.extraPorts?.find(pt => pt.name === 'grpc')?.port ?? SERVICE_PORTS.grpc;
  if (!main || declared.some(pt => pt.containerPort === http)) return { template: t, ports: { http, grpc } };
  const withPort = { ...main, ports: [...(main.ports ?? []), { name: 'http', containerPort: http }] };
  return { template: { ...t, spec: { ...t.spec, containers: containers.map((c, i) => (i === index ? withPort : c)) } }, ports: { http, grpc } };
}

/** The value of `--<flag>=N` or `--<flag> N` (one dash too, as TF Serving accepts) in a command line, if it is a port. */
function flagPort(args: readonly string[], flag?: string): number | undefined {
  if (flag === undefined) return undefined;
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z_-]+)(?:=(.*))?$/.exec(args[i]);
    if (!m || m[1] !== flag) continue;
    const value = Number(m[2] ?? args[i + 1]);
    if (Number.isInteger(value) && value > 0 && value < 65536) return value;
  }
  return undefined;
}

/**
 * Loads a predictor's model as KubeDL does: with a model image, an emptyDir `kubedl-model-loader` filled by an init
 * container of that name (copying the image's `/kubedl-model` files) and mounted at the model path of every container;
 * with a model path, env `KUBEDL_MODEL_PATH` on every container, and for TF Serving `MODEL_BASE_PATH` (the path's
 * parent) and `MODEL_NAME`. Names the template already uses are errors, never overwritten.
 */
function withModel(issues: Issues, field: string, t: k8s.PodTemplateSpec, p: PredictorProps, framework: string): k8s.PodTemplateSpec {
  const modelPath = p.modelPath ?? (p.modelImage && p.modelVersion !== undefined ? `${MODEL_DIR}/${p.modelVersion}` : undefined);
  if (modelPath === undefined) return t;
  const env: k8s.EnvVar[] = [{ name: MODEL_PATH_ENV, value: modelPath }];
  if (framework === 'TFServing') {
    env.push({ name: 'MODEL_BASE_PATH', value: path.posix.dirname(modelPath) });
    if (p.modelImage?.modelName !== undefined) env.push({ name: 'MODEL_NAME', value: p.modelImage.modelName });
  }
  const spec = t.spec ?? { containers: [] };
  const containers = spec.containers.map((c, i) => {
    const f = `${field}.template.spec.containers[${i}]`;
    for (const e of c.env ?? []) {
      issues.check(!env.some(x => x.name === e.name), `${f}.env`, e.name, `sets ${e.name}, which inferkit sets for the predictor's model`, `Remove ${e.name} from the template`);
    }
    const own = c.volumeMounts ?? [];
    if (p.modelImage) {
      issues.check(!own.some(m => m.mountPath === modelPath), `${f}.volumeMounts`, modelPath, 'is where the model is loaded', 'Mount the volume elsewhere, or give another modelPath');
    }
    const mounts = p.modelImage ? [...own, { name: MODEL_LOADER, mountPath: modelPath }] : c.volumeMounts;
    return { ...c, env: [...(c.env ?? []), ...env], volumeMounts: mounts };
  });
  if (!p.modelImage) return { ...t, spec: { ...spec, containers } };
  issues.check(!(spec.volumes ?? []).some(v => v.name === MODEL_LOADER), `${field}.template.spec.volumes`, MODEL_LOADER,
    'is the volume the model is loaded into', 'Rename the volume');
  const loader: k8s.Container = {
    name: MODEL_LOADER,
    image: p.modelImage.image,
    command: ['/bin/sh', '-c', `cp -r ${MODEL_DIR}/* ${MODEL_LOADER_MOUNT}`],
    volumeMounts: [{ name: MODEL_LOADER, mountPath: MODEL_LOADER_MOUNT }],
  };
  return {
    ...t,
    spec: {
      ...spec,
      containers,
      initContainers: [...(spec.initContainers ?? []), loader],
      volumes: [...(spec.volumes ?? []), { name: MODEL_LOADER, emptyDir: {} }],
    },
  };
}
