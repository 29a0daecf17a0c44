import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { checkName, GPU_RESOURCE_NAMES, GpuVendor, Issues, Manifest, NameRule } from '../src';
import { hfDownloadContainer } from './_hf-download';
import { ManifestSource, ObjectMetadataProps } from './_metadata';
import { resolvePodDefaults } from './_pod-template';
import { readPodTemplate } from './_pod-template-json';
import { AutoscalingPolicy, AutoscalingRulesProps, policyField, rulesOf, ScaleTarget } from './autoscaling-policy';
import { GatewayParentProps } from './inference-pool';
import { CacheStrategy, Model, ModelGpuProps, ModelWorkload } from './model';
import { matchProps, ModelMatchProps, ModelRoute, ModelRouteRuleProps, ModelServer } from './model-route';
import { PodDefaults } from './pod-defaults';
import { recordWarnings } from './warnings';
import { loadKthenaModel, LoadedKthenaBackend, MODEL_BOOSTER_KIND } from '../src/kthena-registry-manifest';

/** The engines of a Kthena backend (its `type`). */
export enum KthenaEngine {
  /** vLLM, `vllm serve`. */
  VLLM = 'vLLM',
  /** SGLang, `python3 -m sglang.launch_server`. */
  SGLANG = 'SGLang',
}

/** When a LoRA adapter is loaded into the engine. */
export enum LoraLoading {
  /** At start-up, from the engine's flags (vLLM `--lora-modules`, SGLang `--lora-paths`). */
  STARTUP = 'Startup',
  /**
   * At run time: the adapter's files are fetched, and the engine accepts loading requests (vLLM's
   * `VLLM_ALLOW_RUNTIME_LORA_UPDATING`, `POST /v1/load_lora_adapter` with the adapter's path `/lora/<name>`).
   *
   * @see https://docs.vllm.ai/en/stable/features/lora.html#dynamically-serving-lora-adapters
   */
  RUNTIME = 'Runtime',
}

/** A LoRA adapter served beside the base model (Kthena `loraAdapters[]`). */
export interface LoraAdapterProps {
  /** The name clients ask for (the request's `model`). */
  readonly name: string;

  /** Where its files come from: `hf://org/repo` (fetched by an init container) or `pvc://claim/path` (mounted). */
  readonly artifactUrl: string;

  /**
   * When the engine loads it.
   *
   * @default LoraLoading.STARTUP
   */
  readonly loading?: LoraLoading;
}

/** A backend of a {@link KthenaModel}: one engine Deployment `<model>-<backend>` with its Service. */
export interface KthenaBackendProps {
  /** Name of the backend, a DNS-1123 label; the Deployment is `<model>-<backend>`. */
  readonly name: string;

  /** The engine. */
  readonly engine: KthenaEngine;

  /** Where the weights come from: `hf://org/repo` or `pvc://claim/path`. */
  readonly modelUri: string;

  /**
   * Where the downloaded weights are kept: `pvc://claim` (filled once by a prefetch Job). `hostpath://` is refused by
   * PodSecurity `restricted`: it is a warning, and the weights go to an emptyDir.
   *
   * @default - an emptyDir per pod, filled by an init container
   */
  readonly cacheUri?: string;

  /**
   * Engine image.
   *
   * @default - the engine's pinned image
   */
  readonly image?: string;

  /**
   * Engine settings, passed as flags (`max-model-len: 4096` becomes `--max-model-len 4096`).
   *
   * @default {}
   */
  readonly config?: Record<string, unknown>;

  /**
   * Resources of the engine; GPU limits (`nvidia.com/gpu`, `amd.com/gpu`) select the GPUs.
   *
   * @default - CPU only, no requests or limits
   */
  readonly resources?: k8s.ResourceRequirements;

  /**
   * Tolerations of the pods.
   *
   * @default - none
   */
  readonly tolerations?: k8s.Toleration[];

  /**
   * Affinity of the pods.
   *
   * @default - GPU pods require a node with a GPU product label
   */
  readonly affinity?: k8s.Affinity;

  /**
   * Environment of the engine and the download containers.
   *
   * @default - none
   */
  readonly env?: k8s.EnvVar[];

  /**
   * Environment sources of the engine and the download containers.
   *
   * @default - none
   */
  readonly envFrom?: k8s.EnvFromSource[];

  /**
   * Fewest replicas; without an autoscaling policy, the replicas that run.
   *
   * @default 1
   */
  readonly minReplicas?: number;

  /**
   * Most replicas an autoscaling policy may run.
   *
   * @default - minReplicas
   */
  readonly maxReplicas?: number;

  /**
   * LoRA adapters the engine serves beside the base model.
   *
   * @default - none
   */
  readonly loraAdapters?: LoraAdapterProps[];

  /**
   * Share of the model's traffic, 0 to 100, when the model has a gateway.
   *
   * @default 100
   */
  readonly routeWeight?: number;

  /**
   * Autoscaling policy of this backend: an HPA of its Deployment between minReplicas and maxReplicas.
   *
   * @default - the model's, if any
   */
  readonly autoscalingPolicy?: AutoscalingRulesProps;

  /**
   * Runtime class of the pods.
   *
   * @default - the cluster's default
   */
  readonly runtimeClassName?: string;

  /**
   * Scheduler of the pods.
   *
   * @default - the default scheduler
   */
  readonly schedulerName?: string;
}

/** Props of a {@link KthenaModel}. */
export interface KthenaModelProps {
  /**
   * Name of the model resource: the ModelRoute's HTTPRoute carries it, and each backend's objects are `<name>-<backend>`.
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
   * The model name clients ask for (Kthena `spec.name`): every backend serves the base model under it.
   *
   * @default - the name
   */
  readonly modelName?: string;

  /** The backends. */
  readonly backends: KthenaBackendProps[];

  /**
   * Autoscaling policy of every backend without its own.
   *
   * @default - none: each backend runs minReplicas
   */
  readonly autoscalingPolicy?: AutoscalingRulesProps;

  /**
   * Conditions on the requests the model's route takes.
   *
   * @default - every request for the model or one of its adapters
   */
  readonly modelMatch?: ModelMatchProps;

  /**
   * Gateways the model is routed through, as Kthena's controller does with a ModelServer per backend and a ModelRoute:
   * an InferencePool per backend and an HTTPRoute `<name>` splitting the model's traffic by routeWeight.
   *
   * @default - no routing: each backend's Service `<name>-<backend>` serves on its own
   */
  readonly gateways?: GatewayParentProps[];

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

/** Where LoRA adapters are mounted in the engine container: `/lora/<name>`. */
export const LORA_MOUNT_PATH = '/lora';
/** Engine flags inferkit sets itself from the model and its adapters. */
const OWN_FLAGS = ['served-model-name', 'enable-lora', 'lora-modules', 'lora-paths'];
const SCHEMES = /^(hf|pvc):\/\/.+/;

const kebab = (key: string) => key.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`).replace(/_/g, '-');

/** One backend as rendered: its Model and what the pods add to the Model's. */
interface RenderedBackend {
  readonly props: KthenaBackendProps;
  readonly model: Model;
  readonly autoscaled: boolean;
  /** The autoscaler made elsewhere that owns its replicas, if any. */
  scaledBy?: string;
}

/**
 * A Kthena registry Model (ModelInfer era) or ModelBooster (today) without Kthena's controllers: per backend, the engine
 * Deployment and Service `<model>-<backend>` (a FlexInfer-style {@link Model}, with its weights fetched once into the
 * cache or by an init container), its LoRA adapters fetched beside it and loaded with the engine's flags, an HPA
 * for its autoscaling policy, and, given a gateway, a {@link ModelServer} per backend and a {@link ModelRoute} that
 * splits the model's traffic by route weight and sends each adapter's requests to the backends that serve it.
 */
export class KthenaModel extends Construct {
  /**
   * Loads a Kthena `registry.matrixinfer.ai/v1alpha1` Model or `workload.serving.volcano.sh/v1alpha1` ModelBooster.
   * Unknown fields are errors; what inferkit runs differently from Kthena is a warning.
   */
  public static fromManifest(
    scope: Construct, id: string, manifest: Manifest, options: { gateways?: GatewayParentProps[]; podDefaults?: PodDefaults } = {},
  ): KthenaModel {
    const m = loadKthenaModel(manifest);
    const booster = m.kind === MODEL_BOOSTER_KIND.kind;
    const kindName = `${m.kind}/${m.name}`;
    const issues = new Issues(kindName);
    const at = (i: number) => (booster ? 'spec.backend' : `spec.backends[${i}]`);
    const backends = m.backends.map((b, i) => {
      const pod = readPodTemplate(issues, x => x.replace(/^\.spec\.containers\[0\]\.(resources)/, `${at(i)}.workers[0].$1`)
        .replace(/^\.spec\.containers\[0\]\./, `${at(i)}.`).replace(/^\.spec\.(tolerations|affinity)/, `${at(i)}.workers[0].$1`).replace(/^\.spec\./, `${at(i)}.`), {
        spec: {
          containers: [{ name: 'engine', resources: b.resources, env: b.env, envFrom: b.envFrom }],
          tolerations: b.tolerations,
          affinity: b.affinity,
          runtimeClassName: b.runtimeClassName,
          schedulerName: b.schedulerName,
        },
      })?.spec;
      return backendProps(b, pod);
    });
    for (const [i, b] of m.backends.entries()) {
      if (b.scalingCost !== undefined && m.backends.length > 1) {
        issues.warn(`${at(i)}.scalingCost`, b.scalingCost, 'weighs backends in Kthena\'s cost optimizer, and each backend here scales on its own HPA within its range',
          'Size each backend\'s minReplicas and maxReplicas for its share, or remove scalingCost');
      }
      if (b.scaleToZeroGracePeriodSeconds !== undefined) {
        issues.warn(`${at(i)}.scaleToZeroGracePeriod`, `${b.scaleToZeroGracePeriodSeconds}s`, 'is not honoured: an HPA keeps at least one replica',
          'Remove it, or scale to zero with KEDA');
      }
    }
    if (m.costExpansionRatePercent !== undefined) {
      issues.warn('spec.costExpansionRatePercent', m.costExpansionRatePercent, 'tunes Kthena\'s cost optimizer across backends, and each backend here scales on its own HPA',
        'Remove it');
    }
    if (m.owner !== undefined) {
      issues.warn('spec.owner', m.owner, 'is a registry annotation of Kthena with no effect on the served objects; it is kept as the annotation model.inferkit.dev/owner',
        'Remove it, or keep it as documentation');
    }
    issues.throwIfAny();
    const model = new KthenaModel(scope, id, {
      name: m.name,
      namespace: m.namespace,
      modelName: m.modelName,
      backends,
      autoscalingPolicy: m.autoscalingPolicy && rulesOf(m.autoscalingPolicy),
      modelMatch: matchProps(m.modelMatch),
      gateways: options.gateways,
      podDefaults: options.podDefaults,
      metadata: { labels: m.labels, annotations: { ...m.annotations, ...(m.owner !== undefined ? { 'model.inferkit.dev/owner': m.owner } : {}) } },
      _source: {
        path: kindName,
        fieldName: f => `spec.${f.replace(/^backends\[0\]/, booster ? 'backend' : 'backends[0]').replace(/modelUri/, 'modelURI').replace(/cacheUri/, 'cacheURI').replace(/artifactUrl/, 'artifactURL')
          .replace(/\.(config|image|resources)(\.|$)/, '.workers[0].$1$2').replace(/^gateways/, 'gateway').replace(/^namespace$/, 'metadata.namespace')}`.replace(/^spec\.metadata/, 'metadata'),
      },
    });
    recordWarnings(model, issues);
    return model;
  }

  /** Name of the model resource. */
  public readonly name: string;
  /** Namespace of the objects, if any. */
  public readonly namespace?: string;
  /** The model name clients ask for. */
  public readonly modelName: string;

  private readonly backends: RenderedBackend[] = [];
  private readonly serversList: ModelServer[] = [];
  private owner?: ModelWorkload;

  constructor(scope: Construct, id: string, props: KthenaModelProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    this.modelName = props.modelName ?? this.name;
    const issues = new Issues(props._source?.path ?? this.node.path, props._source?.fieldName);
    checkName(issues, 'name', this.name, NameRule.DNS1123_LABEL);
    checkName(issues, 'modelName', this.modelName, NameRule.DNS1123_LABEL);
    issues.check(props.backends.length > 0, 'backends', undefined, 'is empty', 'Give at least one backend');
    const names = props.backends.map(b => b.name);
    names.forEach((n, i) => issues.check(names.indexOf(n) === i, `backends[${i}].name`, n, 'is given twice', 'Give each backend its own name'));
    issues.throwIfAny();
    props.backends.forEach((b, i) => this.backends.push(this.renderBackend(issues, `backends[${i}]`, b, props)));
    issues.throwIfAny();
    if (props.gateways && props.gateways.length > 0) {
      issues.check(this.namespace !== undefined, 'namespace', undefined, 'is not set, and the endpoint pickers of the route\'s ModelServers are bound to their namespace',
        'Set the namespace (metadata.namespace), or give the chart one');
      issues.throwIfAny();
      this.renderRoute(props);
    } else if (props.backends.length > 1 || props.modelMatch) {
      issues.warn('gateways', undefined, 'are not given, so no route splits the model\'s traffic by routeWeight or applies modelMatch: each backend\'s Service serves on its own',
        'Give the Gateway to route through (inferkit synth --gateway NAMESPACE/NAME)');
    }
    recordWarnings(this, issues);
  }

  /** The ModelServers of the backends (given a gateway), which ModelRoutes may target. */
  public get servers(): ModelServer[] {
    return [...this.serversList];
  }

  /** The Deployment (and Service) of each backend, by backend name. */
  public get deployments(): Record<string, string> {
    return Object.fromEntries(this.backends.map(b => [b.props.name, b.model.name]));
  }

  /**
   * The one backend's Model, which a simple-form ModelInfer runs; records an issue when the model has several backends.
   *
   * @internal
   */
  public _servingModel(issues: Issues): Model | undefined {
    issues.check(this.backends.length === 1, 'modelRef', this.name, `has ${this.backends.length} backends (${this.backends.map(b => b.props.name).join(', ')}), and a simple-form ModelInfer runs one`,
      'Reference a Model with one backend, or let the Model run its backends itself');
    return this.backends.length === 1 ? this.backends[0].model : undefined;
  }

  /**
   * Hands the one backend's Deployment to a workload owner (a simple-form ModelInfer), which sets its replicas and
   * adjusts its pods; the adapters and environment of the backend stay.
   *
   * @internal
   */
  public _bindWorkload(workload: ModelWorkload, issues: Issues): void {
    const backend = this.backends.length === 1 ? this.backends[0] : undefined;
    issues.check(this.owner === undefined, 'modelRef', this.name, `is already run by ${this.owner?.owner}`, 'Reference each Model from one ModelInfer');
    issues.check(!backend?.autoscaled, 'modelRef', this.name, 'is scaled by its own autoscaling policy, so the ModelInfer cannot set its replicas',
      'Remove the Model\'s autoscalingPolicy, or use the Model alone');
    issues.check(!backend?.scaledBy, 'modelRef', this.name, `is scaled by ${backend?.scaledBy}, so the ModelInfer cannot set its replicas`,
      'Scale the ModelInfer with the policy instead (ScaleTarget.modelInfer)');
    if (backend && this.owner === undefined && !backend.autoscaled && !backend.scaledBy) this.owner = workload;
  }

  /**
   * Leaves a backend's replicas to an autoscaler made elsewhere (`by`, a Kthena AutoscalingPolicy whose target is the
   * backend); returns its Deployment, or why it cannot be scaled (cause and fix).
   *
   * @internal
   */
  public _scaledExternally(backendName: string, by: string): { deployment: string } | { cause: string; fix: string } {
    const backend = this.backends.find(b => b.props.name === backendName);
    if (!backend) return { cause: `is not a backend of ${this.name}`, fix: `Name one of ${this.backends.map(b => b.props.name).join(', ')}` };
    if (backend.autoscaled) return { cause: 'is scaled by its Model\'s own autoscalingPolicy', fix: 'Remove one of the two policies' };
    if (backend.scaledBy || this.owner) return { cause: `is scaled by ${backend.scaledBy ?? this.owner!.owner} already`, fix: 'Scale it from one place' };
    backend.scaledBy = by;
    return { deployment: backend.model.name };
  }

  private renderBackend(issues: Issues, field: string, b: KthenaBackendProps, props: KthenaModelProps): RenderedBackend {
    const deployment = `${this.name}-${b.name}`;
    checkName(issues, `${field}.name`, b.name, NameRule.DNS1123_LABEL);
    issues.check(SCHEMES.test(b.modelUri), `${field}.modelUri`, b.modelUri, 'is not an hf:// or pvc:// URI, the sources inferkit fetches or mounts',
      'Copy the weights to the Hugging Face Hub or a PersistentVolumeClaim, and give hf://org/repo or pvc://claim/path');
    const min = b.minReplicas ?? 1;
    const max = b.maxReplicas ?? Math.max(1, min);
    issues.check(Number.isInteger(min) && min >= 0, `${field}.minReplicas`, min, 'is not a count of replicas', 'Use 0 or more');
    issues.check(Number.isInteger(max) && max >= Math.max(1, min), `${field}.maxReplicas`, max, 'is below 1 or minReplicas', 'Use at least minReplicas and 1');
    const policy = b.autoscalingPolicy ?? props.autoscalingPolicy;
    if (!policy && max > min) {
      issues.warn(`${field}.maxReplicas`, max, `has no autoscaling policy to use it, so the backend runs minReplicas (${min})`, 'Give an autoscalingPolicy, or set maxReplicas to minReplicas');
    }
    if (policy && props.autoscalingPolicy && !b.autoscalingPolicy && props.backends.length > 1) {
      issues.warn('autoscalingPolicy', undefined, 'scales the backends together in Kthena (by cost), and here each backend has its own HPA with this policy within its range',
        'Give each backend its own minReplicas and maxReplicas for its share');
    }
    const config = b.config ?? {};
    for (const key of Object.keys(config)) {
      issues.check(!OWN_FLAGS.includes(kebab(key)), `${field}.config.${key}`, config[key], 'is set by inferkit from the model name and the LoRA adapters', 'Remove it');
    }
    const adapters = b.loraAdapters ?? [];
    const adapterNames = adapters.map(a => a.name);
    adapters.forEach((a, i) => {
      const at = `${field}.loraAdapters[${i}]`;
      checkName(issues, `${at}.name`, a.name, NameRule.DNS1123_LABEL);
      issues.check(adapterNames.indexOf(a.name) === i && a.name !== this.modelName, `${at}.name`, a.name, 'is given twice, or is the model\'s name', 'Give each adapter its own name');
      issues.check(SCHEMES.test(a.artifactUrl), `${at}.artifactUrl`, a.artifactUrl, 'is not an hf:// or pvc:// URI, the sources inferkit fetches or mounts',
        'Copy the adapter to the Hugging Face Hub or a PersistentVolumeClaim');
      issues.check(!(a.loading === LoraLoading.RUNTIME && b.engine !== KthenaEngine.VLLM), `${at}.loading`, a.loading,
        `asks for run-time loading, which inferkit configures for vLLM only, not ${b.engine}`, 'Load the adapter at start-up');
    });
    let cache: { strategy: CacheStrategy; pvcName: string } | undefined;
    if (b.cacheUri !== undefined) {
      const pvc = /^pvc:\/\/([^/]+)(\/.*)?$/.exec(b.cacheUri);
      if (pvc) {
        cache = { strategy: CacheStrategy.SHARED_PVC, pvcName: pvc[1] };
        if (pvc[2] && pvc[2] !== '/') {
          issues.warn(`${field}.cacheUri`, b.cacheUri, `keeps the weights under ${pvc[2]} in Kthena; inferkit keeps them at the repository's path from the claim's root`,
            `Give pvc://${pvc[1]}`);
        }
      } else if (/^hostpath:\/\/.+/.test(b.cacheUri)) {
        issues.warn(`${field}.cacheUri`, b.cacheUri, 'is a hostPath volume, which PodSecurity restricted forbids, so each pod downloads the weights to an emptyDir',
          'Keep the cache in a PersistentVolumeClaim: pvc://<claim>');
      } else {
        issues.add(`${field}.cacheUri`, b.cacheUri, 'is not a pvc:// or hostpath:// URI', 'Give pvc://<claim>');
      }
    }
    // GPUs are the Model's: their limit selects the vendor and count.
    const given = { ...b.resources?.requests, ...b.resources?.limits };
    const gpuKey = Object.keys(given).find(k => k === GPU_RESOURCE_NAMES[GpuVendor.NVIDIA] || k === GPU_RESOURCE_NAMES[GpuVendor.AMD]);
    const gpu: ModelGpuProps | undefined = gpuKey === undefined ? undefined
      : { vendor: gpuKey === GPU_RESOURCE_NAMES[GpuVendor.AMD] ? 'amd' : 'nvidia', count: Number(given[gpuKey].value) };
    const without = (m?: Record<string, k8s.Quantity>) => {
      const rest = Object.entries(m ?? {}).filter(([k]) => k !== gpuKey);
      return rest.length > 0 ? Object.fromEntries(rest) : undefined;
    };
    const limits = without(b.resources?.limits);
    const requests = without(b.resources?.requests);
    const resources = limits || requests || b.resources?.claims ? { ...b.resources, limits: limits, requests } : undefined;
    const startup = adapters.filter(a => (a.loading ?? LoraLoading.STARTUP) === LoraLoading.STARTUP).map(a => `${a.name}=${LORA_MOUNT_PATH}/${a.name}`);
    const loraConfig = adapters.length === 0 ? {}
      : b.engine === KthenaEngine.VLLM ? { enableLora: true, ...(startup.length > 0 ? { loraModules: startup } : {}) }
        : { enableLora: true, loraPaths: startup };
    issues.throwIfAny();

    const model = new Model(this, b.name, {
      name: deployment,
      namespace: this.namespace,
      backend: b.engine === KthenaEngine.VLLM ? 'vllm' : 'sglang',
      source: b.modelUri,
      image: b.image,
      config: { ...config, ...loraConfig },
      gpu,
      resources,
      tolerations: b.tolerations,
      cache,
      podDefaults: props.podDefaults,
      metadata: props.metadata,
      _source: props._source && { path: props._source.path, fieldName: f => props._source!.fieldName(`${field}.${f.replace(/^source$/, 'modelUri').replace(/^backend$/, 'engine')}`) },
    });
    const rendered: RenderedBackend = { props: b, model, autoscaled: policy !== undefined };
    const self = this;
    model._bindWorkload({
      owner: this.node.path,
      get replicas() {
        return self.owner ? self.owner.replicas : rendered.autoscaled || rendered.scaledBy ? undefined : min;
      },
      template: base => {
        const own = this.podTemplate(base, b, adapters, props.podDefaults);
        return this.owner ? this.owner.template(own) : own;
      },
    }, issues);
    if (policy) {
      new AutoscalingPolicy(this, `${b.name}-autoscaling`, {
        ...policy,
        name: deployment,
        namespace: this.namespace,
        target: ScaleTarget.deployment(deployment),
        minReplicas: min,
        maxReplicas: max,
        metadata: props.metadata,
        _source: props._source && {
          path: props._source.path,
          fieldName: f => props._source!.fieldName(f === 'minReplicas' || f === 'maxReplicas' ? `${field}.${f}`
            : `${b.autoscalingPolicy ? `${field}.` : ''}autoscalingPolicy.${policyField(f)}`),
        },
      });
    }
    return rendered;
  }

  /** The backend's pod: the Model's, with the served name, the adapters, the environment and the placement of the backend. */
  private podTemplate(
    base: k8s.PodTemplateSpec, b: KthenaBackendProps, adapters: readonly LoraAdapterProps[], podDefaults: PodDefaults | undefined,
  ): k8s.PodTemplateSpec {
    const spec = base.spec!;
    const [engine, ...rest] = spec.containers;
    // The adapters' downloads run as the Model's own download does.
    const security = engine.securityContext;
    const fetchPull = engine.imagePullPolicy;
    const volumes: k8s.Volume[] = [];
    const mounts: k8s.VolumeMount[] = [];
    const fetches: k8s.Container[] = [];
    const hf = adapters.filter(a => a.artifactUrl.startsWith('hf://'));
    if (hf.length > 0) {
      volumes.push({ name: 'lora', emptyDir: {} });
      mounts.push({ name: 'lora', mountPath: LORA_MOUNT_PATH });
      for (const a of hf) {
        fetches.push({
          ...hfDownloadContainer(`lora-${a.name}`, {
            repo: a.artifactUrl.slice('hf://'.length),
            modelDir: `${LORA_MOUNT_PATH}/${a.name}`,
            volumeMounts: [{ name: 'lora', mountPath: LORA_MOUNT_PATH }],
            image: resolvePodDefaults(podDefaults).downloaderImage,
          }),
          imagePullPolicy: fetchPull,
          securityContext: security,
        });
      }
    }
    for (const a of adapters.filter(x => x.artifactUrl.startsWith('pvc://'))) {
      const [claim, ...path] = a.artifactUrl.slice('pvc://'.length).split('/');
      volumes.push({ name: `lora-${a.name}`, persistentVolumeClaim: { claimName: claim, readOnly: true } });
      mounts.push({ name: `lora-${a.name}`, mountPath: `${LORA_MOUNT_PATH}/${a.name}`, subPath: path.join('/') || undefined, readOnly: true });
    }
    const runtime = adapters.some(a => a.loading === LoraLoading.RUNTIME) ? [{ name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', value: 'True' }] : [];
    const withEnv = (c: k8s.Container): k8s.Container => (b.env || b.envFrom ? {
      ...c,
      env: b.env ? [...(c.env ?? []).filter(e => !b.env!.some(x => x.name === e.name)), ...b.env] : c.env,
      envFrom: b.envFrom ? [...(c.envFrom ?? []), ...b.envFrom] : c.envFrom,
    } : c);
    const args = [...(engine.args ?? [])];
    const served = args.indexOf('--served-model-name');
    if (served >= 0) args[served + 1] = this.modelName;
    const engineContainer = withEnv({
      ...engine,
      args,
      env: runtime.length > 0 ? [...(engine.env ?? []), ...runtime] : engine.env,
      volumeMounts: [...(engine.volumeMounts ?? []), ...mounts],
    });
    return {
      metadata: base.metadata,
      spec: {
        ...spec,
        containers: [engineContainer, ...rest],
        initContainers: spec.initContainers || fetches.length > 0 ? [...(spec.initContainers ?? []), ...fetches].map(withEnv) : undefined,
        volumes: [...(spec.volumes ?? []), ...volumes],
        affinity: b.affinity ? { ...spec.affinity, ...b.affinity } : spec.affinity,
        runtimeClassName: b.runtimeClassName ?? spec.runtimeClassName,
        schedulerName: b.schedulerName ?? spec.schedulerName,
      },
    };
  }

  /** A ModelServer per backend and the model's route: each name (the model, each adapter) to the backends that serve it. */
  private renderRoute(props: KthenaModelProps): void {
    const servers = this.backends.map(b => {
      const server = new ModelServer(this, `${b.props.name}-server`, {
        name: b.model.name,
        namespace: this.namespace,
        selector: { 'model.inferkit.dev/name': b.model.name },
        port: b.model.port,
        metadata: props.metadata,
      });
      this.serversList.push(server);
      return server;
    });
    const names = [this.modelName, ...new Set(this.backends.flatMap(b => (b.props.loraAdapters ?? []).map(a => a.name)))];
    const chosen = props.modelMatch?.model;
    const rules: ModelRouteRuleProps[] = names.filter(n => chosen === undefined || n === chosen).map(n => ({
      match: { ...props.modelMatch, model: n },
      targets: this.backends.flatMap((b, i) => (n === this.modelName || (b.props.loraAdapters ?? []).some(a => a.name === n)
        ? [{ server: servers[i], weight: b.props.routeWeight ?? 100 }] : [])),
    }));
    new ModelRoute(this, 'route', {
      name: this.name,
      namespace: this.namespace,
      modelName: this.modelName,
      loraAdapters: names.slice(1),
      rules,
      gateways: props.gateways!,
      metadata: props.metadata,
      _source: props._source && { path: props._source.path, fieldName: f => props._source!.fieldName(f.replace(/^rules\[\d+\]\.match/, 'modelMatch')) },
    });
  }
}

/** The construct's props of a loaded backend, with its pod fields read through a pod template. */
function backendProps(b: LoadedKthenaBackend, pod: k8s.PodSpec | undefined): KthenaBackendProps {
  const engine = pod?.containers[0];
  return {
    name: b.name,
    engine: b.type === 'vllm' ? KthenaEngine.VLLM : KthenaEngine.SGLANG,
    modelUri: b.modelUri,
    cacheUri: b.cacheUri,
    image: b.image,
    config: b.config,
    resources: engine?.resources,
    tolerations: pod?.tolerations,
    affinity: pod?.affinity,
    env: engine?.env,
    envFrom: engine?.envFrom,
    minReplicas: b.minReplicas,
    maxReplicas: b.maxReplicas,
    loraAdapters: b.loraAdapters.map(a => ({ name: a.name, artifactUrl: a.artifactUrl })),
    routeWeight: b.routeWeight,
    autoscalingPolicy: b.autoscalingPolicy && rulesOf(b.autoscalingPolicy),
    runtimeClassName: pod?.runtimeClassName,
    schedulerName: pod?.schedulerName,
  };
}
