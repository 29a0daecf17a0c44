import * as path from 'path';
import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { HttpRoute } from '../imports/gateway.networking.k8s.io';
import { checkName, engineBatching, EngineSpec, Issues, loadInferenceManifest, Manifest, NameRule, resolveEngine } from '../src';
import { checkAutoscaler, INITIAL_REPLICAS, renderAutoscaler } from './_autoscaler';
import { ManifestSource, manifestSource, objectMeta, ObjectMetadataProps } from './_metadata';
import { renderPodTemplate, resolvePodDefaults } from './_pod-template';
import { readPodTemplate } from './_pod-template-json';
import { PodDefaults } from './pod-defaults';

/** Labels of an InferenceService's pods and services (KubeDL's keys). Selector labels are public API. */
export const InferenceLabels = {
  INFERENCE: 'serving.kubedl.io/inference',
  PREDICTOR: 'serving.kubedl.io/predictor',
  MODEL_VERSION: 'serving.kubedl.io/model-version',
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

/** One predictor: a model version served by its own Deployment and Service. */
export interface PredictorProps {
  /** Predictor name: a DNS label. */
  readonly name: string;

  /**
   * The model version this predictor serves (a label on its pods and Service).
   *
   * @default - no version label
   */
  readonly modelVersion?: string;

  /**
   * Where the model sits inside the container, passed as `KUBEDL_MODEL_PATH` to every container.
   *
   * @default - not set
   */
  readonly modelPath?: string;

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
   * Gateways the traffic-splitting HTTPRoute attaches to.
   *
   * @default - none: the route is rendered unattached
   * @see https://gateway-api.sigs.k8s.io/api-types/httproute/
   */
  readonly gateways?: Array<{ readonly name: string; readonly namespace?: string }>;

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


/**
 * KubeDL's Inference without its controller: per predictor a Deployment and a Service, one entry Service
 * over all predictors, a Gateway API HTTPRoute whose weights are the predictors' traffic shares (which must
 * add up to exactly 100), an autoscaler per predictor that asks for one, and batching rendered as the
 * framework's own configuration.
 */
export class InferenceService extends Construct {
  /**
   * Loads a KubeDL `serving.kubedl.io/v1alpha1` Inference manifest. Unknown fields, anywhere including the
   * pod templates, are errors.
   */
  public static fromManifest(scope: Construct, id: string, manifest: Manifest, options: { podDefaults?: PodDefaults } = {}): InferenceService {
    const loaded = loadInferenceManifest(manifest);
    const issues = new Issues(`Inference/${loaded.name}`);
    const predictors = loaded.predictors.map((p, i) => ({ ...p, template: readPodTemplate(issues, `spec.predictors[${i}].template`, p.template) ?? {} }));
    issues.throwIfAny();
    return new InferenceService(scope, id, {
      name: loaded.name,
      namespace: loaded.namespace,
      framework: loaded.framework,
      predictors,
      podDefaults: options.podDefaults,
      metadata: { labels: loaded.labels, annotations: loaded.annotations },
      _source: manifestSource('Inference', loaded.name),
    });
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
    const backendRefs: Array<{ name: string; port: number; weight: number }> = [];
    let entryPorts: k8s.ServicePort[] = [];
    predictors.forEach((p, i) => {
      const f = `predictors[${i}]`;
      const name = `${this.name}-${p.name}`;
      const selector = { [InferenceLabels.INFERENCE]: this.name, [InferenceLabels.PREDICTOR]: p.name };
      const labels = { ...selector, ...(p.modelVersion ? { [InferenceLabels.MODEL_VERSION]: p.modelVersion } : {}) };
      const env = p.modelPath ? [{ name: MODEL_PATH_ENV, value: p.modelPath }] : [];
      const batched = p.batching ? this.batching(issues, `${f}.batching`, engine!, name, p.batching, p.template) : p.template;
      const template = renderPodTemplate(batched, { labels, annotations: {}, env, topologySpreadConstraints: [] }, defaults, issues, `${f}.template`);
      const ports = (template.spec?.containers ?? []).flatMap(c => c.ports ?? []);
      issues.check(ports.length > 0, `${f}.template.spec.containers`, undefined, 'declare no containerPort, so no Service can reach the predictor', 'Declare the serving port of the container');
      const servicePorts: k8s.ServicePort[] = ports.map(pt => ({
        name: pt.name ?? `port-${pt.containerPort}`, port: pt.containerPort, targetPort: k8s.IntOrString.fromNumber(pt.containerPort), protocol: pt.protocol,
      }));
      if (i === 0) entryPorts = servicePorts;

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
      if (servicePorts.length > 0) backendRefs.push({ name, port: servicePorts[0].port, weight: shares[i] ?? 0 });
    });
    issues.throwIfAny();

    new k8s.KubeService(this, 'entry', {
      metadata: this.metadata(this.name, { [InferenceLabels.INFERENCE]: this.name }),
      spec: { selector: { [InferenceLabels.INFERENCE]: this.name }, ports: entryPorts },
    });
    new HttpRoute(this, 'route', {
      metadata: this.metadata(this.name, { [InferenceLabels.INFERENCE]: this.name }),
      spec: {
        parentRefs: props.gateways?.map(g => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: g.name, namespace: g.namespace })),
        rules: [{ backendRefs: backendRefs.map(b => ({ kind: 'Service', name: b.name, port: b.port, weight: b.weight })) }],
      },
    });
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
