import { ApiObject, Chart, Duration, Lazy, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { ScaledObject } from '../imports/keda.sh';
import {
  checkEngineCompatibility, checkFits, checkGeneratedNames, checkLabelValue, checkName, engineImage, engineInvocation, EngineSpec, enginePaths,
  estimateVram, findGpu, findModel, FLEXINFER_IMAGE_BACKENDS, GPU_RESOURCE_NAMES, gpuNodeSelector, GpuSpec, GpuVendor, GpuVendorChoice, Issues,
  loadFlexInferModel, Manifest, MAX_SUBDOMAIN_LENGTH, ModelPassing, MODELS_MOUNT_PATH, ModelSource, NameRule, parseModelSource, resolveEngine,
  resolveVendor, SourceKind, WeightDtype,
} from '../src';
import { renderNetworkPolicy } from './_disruption';
import { addedContainerResources, hfDownloadContainer } from './_hf-download';
import { ManifestSource, manifestSource, objectMeta, ObjectMetadataProps } from './_metadata';
import { renderPodTemplate, resolvePodDefaults } from './_pod-template';
import { readPodTemplate } from './_pod-template-json';
import { PodDefaults } from './pod-defaults';
import { recordWarnings } from './warnings';
import { INT32_MAX } from '../src/limits';

/** How a model's files are kept between restarts (FlexInfer `spec.cache.strategy`). */
export enum CacheStrategy {
  /** A memory-backed emptyDir: fastest, lost on restart, counts against the pod's memory. */
  MEMORY = 'Memory',
  /** A ReadWriteMany PersistentVolumeClaim shared by every replica, filled once by a prefetch Job. */
  SHARED_PVC = 'SharedPVC',
  /** A disk emptyDir: downloaded again by each pod. */
  NONE = 'None',
}

/** GPUs of a model (FlexInfer `spec.gpu`). */
export interface ModelGpuProps {
  /**
   * Vendor. `nvidia` and `amd` never fall back to the other; `auto` takes the product's vendor, or NVIDIA.
   *
   * @default 'auto'
   */
  readonly vendor?: GpuVendorChoice;

  /**
   * GPUs per replica; not allowed with vendor `cpu`.
   *
   * @default 1
   */
  readonly count?: number;

  /**
   * GPU product from the catalogue (`H100-80GB`, `L4`, `MI300X`...) or its feature-discovery label value.
   *
   * @default - any product of the vendor
   */
  readonly product?: string;

  /**
   * Shared group: models of one group compete for the same GPU nodes, and the higher `priority` preempts
   * the lower through PriorityClasses. An approximation, recorded as a warning: FlexInfer time-shares one GPU
   * and swaps models by demand; the scheduler can only preempt pods when the nodes are full.
   *
   * @default - not shared
   */
  readonly shared?: string;

  /**
   * Priority within the shared group: higher wins.
   *
   * @default 0
   */
  readonly priority?: number;

  /**
   * Supplemental groups of the pods on AMD GPUs: the groups that own `/dev/kfd` and `/dev/dri` on the nodes, which
   * the non-root engine must belong to in order to open them. Ignored on NVIDIA, whose device plugin needs none.
   *
   * @default [109, 992] (FlexInfer's: the video and render groups of common distributions)
   */
  readonly amdDeviceGroups?: number[];

  /**
   * GPU memory one replica needs, in MiB, recorded on the pods for schedulers that bin-pack by it.
   *
   * @default - estimated from the model's architecture when it is a known model; none otherwise
   */
  readonly vramEstimateMB?: number;
}

/** Model file cache (FlexInfer `spec.cache`). */
export interface ModelFileCacheProps {
  readonly strategy: CacheStrategy;

  /**
   * Existing claim to use with SharedPVC.
   *
   * @default - a claim `<model>-cache` is created
   */
  readonly pvcName?: string;

  /**
   * Storage class of a created claim.
   *
   * @default - the cluster's default storage class
   */
  readonly storageClass?: string;

  /**
   * Size of a created claim, or the limit of a Memory cache.
   *
   * @default Size.gibibytes(100) for a created claim; no limit for Memory
   */
  readonly size?: Size;
}

/** Scale-to-zero through KEDA and its HTTP add-on (FlexInfer `spec.serverless`). */
export interface ServerlessProps {
  /**
   * Scale to zero when idle.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Idle time before scaling to zero.
   *
   * @default Duration.minutes(5)
   */
  readonly idleTimeout?: Duration;

  /**
   * How long a request waits for a replica to start (the HTTP add-on's condition wait).
   *
   * @default Duration.minutes(2)
   */
  readonly coldStartTimeout?: Duration;

  /**
   * Replicas kept running when idle: 0 scales to zero, 1 keeps the model warm (FlexInfer `minReplicas`).
   *
   * @default 0
   */
  readonly minReplicas?: number;

  /**
   * Most replicas under load.
   *
   * @default 1
   */
  readonly maxReplicas?: number;

  /**
   * Namespace of the KEDA HTTP add-on: its interceptor proxy Service `keda-add-ons-http-interceptor-proxy` (port
   * 8080), which the model's Service points at, and its external scaler.
   *
   * @default 'keda'
   * @see https://keda.sh/http-add-on/0.14/user-guide/configure-ingress/
   */
  readonly addOnNamespace?: string;

  /**
   * The cluster's DNS domain: the model's Service is a DNS alias (ExternalName) of the interceptor's fully
   * qualified name, which search paths do not complete.
   *
   * @default 'cluster.local'
   * @see https://kubernetes.io/docs/concepts/services-networking/service/#externalname
   */
  readonly clusterDomain?: string;
}

/** LiteLLM discovery (FlexInfer `spec.litellm`). */
export interface LiteLlmProps {
  /**
   * Name clients ask LiteLLM for.
   *
   * @default - the model's name
   */
  readonly modelName?: string;

  /**
   * Other names routed to this model; the model's `serviceLabels` are routed to it too, as FlexInfer does.
   *
   * @default - none
   */
  readonly aliases?: string[];

  /**
   * Name under which IDE/Copilot clients reach the model (FlexInfer `copilotAlias`), as the
   * `litellm.flexinfer.ai/copilot-model` annotation.
   *
   * @default - none
   */
  readonly copilotAlias?: string;

  /**
   * Also render a LiteLLM proxy `config.yaml` in a ConfigMap `<model>-litellm`.
   *
   * @default false
   */
  readonly proxyConfig?: boolean;
}

/** What a model can do, for LiteLLM routing (FlexInfer `spec.capabilities`). */
export interface ModelCapabilitiesProps {
  /**
   * OpenAI-compatible tool calling.
   *
   * @default - true for vllm and ollama, and for llamacpp with `config.jinja: true`
   */
  readonly toolCalling?: boolean;

  /**
   * Image input.
   *
   * @default - true for llamacpp with `config.mmproj`
   */
  readonly vision?: boolean;

  /**
   * Image generation.
   *
   * @default - true for diffusers, comfyui and vllm-omni
   */
  readonly imageGeneration?: boolean;
}

/** A key of a Secret. */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

/** How the VRAM estimate is computed. */
export interface ModelSizingProps {
  /**
   * Known architecture (`Llama-3-8B`, a Hugging Face id...).
   *
   * @default - the hf:// repository, if it is a known model
   */
  readonly architecture?: string;

  /**
   * Weight precision or quantisation.
   *
   * @default 'bf16'
   */
  readonly dtype?: WeightDtype;

  /**
   * Context tokens the KV cache holds per sequence.
   *
   * @default 8192
   */
  readonly contextTokens?: number;
}

/** Props of a {@link Model}: FlexInfer's `ai.flexinfer/v1alpha2` Model, compiled to plain Kubernetes objects. */
export interface ModelProps {
  /**
   * Name of the model; its Deployment and Service carry it. A DNS-1035 label.
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

  /** Engine (FlexInfer backend): vllm, sglang, ollama, mlc-llm, llamacpp, diffusers, comfyui, vllm-omni, TFServing, Triton. */
  readonly backend: string;

  /** Where the weights come from: a {@link ModelSource} or its URI (`hf://`, `ollama://`, `file://`, `pvc://`). */
  readonly source: ModelSource | string;

  /**
   * GPUs. Without it the model runs CPU-only.
   *
   * @default - CPU only
   */
  readonly gpu?: ModelGpuProps;

  /**
   * File cache.
   *
   * @default - an emptyDir at /models, filled by an init container
   */
  readonly cache?: ModelFileCacheProps;

  /**
   * Scale-to-zero through the KEDA HTTP add-on: the model's Service then points at the add-on's interceptor, which
   * holds a request while the model starts. Without it the model always runs `replicas` pods: it is never at zero
   * by surprise. (FlexInfer's CRD defaults to scale-to-zero; `Model.fromManifest` follows it.)
   *
   * @default - always running
   */
  readonly serverless?: ServerlessProps;

  /**
   * Engine settings, passed through as the engine's flags, plus the download keys `hfAllowPatterns`,
   * `hfIgnorePatterns`, `hfRevision` (and for llamacpp `ggufFile`, `mmproj`).
   *
   * @default {}
   */
  readonly config?: Record<string, unknown>;

  /**
   * Secret key holding a Hugging Face token, for gated repositories. Never a literal token.
   *
   * @default - anonymous downloads
   */
  readonly hfTokenSecret?: SecretKeyRef;

  /**
   * Engine image.
   *
   * @default - the engine's pinned image for the vendor
   */
  readonly image?: string;

  /**
   * Replicas when not serverless.
   *
   * @default 1
   */
  readonly replicas?: number;

  /**
   * Extra resources of the engine container (GPUs are set from `gpu`).
   *
   * @default - no CPU or memory requests or limits
   */
  readonly resources?: k8s.ResourceRequirements;

  /**
   * Node labels the pods require.
   *
   * @default - the GPU feature-discovery labels of the vendor and product
   */
  readonly nodeSelector?: Record<string, string>;

  /**
   * Tolerations of the pods.
   *
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/
   */
  readonly tolerations?: k8s.Toleration[];

  /**
   * What the model can do, in the LiteLLM `litellm.flexinfer.ai/capabilities` annotation.
   *
   * @default - inferred from the backend and config, as FlexInfer does
   */
  readonly capabilities?: ModelCapabilitiesProps;

  /**
   * LiteLLM discovery annotations on the Service.
   *
   * @default - none
   */
  readonly litellm?: LiteLlmProps;

  /**
   * Semantic labels of the model (`textgen`, `code`...), for routing.
   *
   * @default - none
   */
  readonly serviceLabels?: string[];

  /**
   * How the VRAM estimate is computed.
   *
   * @default - from the hf:// repository, bf16, 8192 tokens
   */
  readonly sizing?: ModelSizingProps;

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

  /**
   * @internal serverless is the seed CRD's default, not asked for: a workload owner (ModelInfer) may take the
   * replicas over, with a warning
   */
  readonly _impliedServerless?: boolean;
}

/** What a workload owner decides for a Model's Deployment. @internal */
export interface ModelWorkload {
  /** Construct path of the owner, for messages. */
  readonly owner: string;
  /** Replicas; undefined when an autoscaler owns them. */
  readonly replicas?: number;
  /** The final pod template, from the Model's. */
  readonly template: (base: k8s.PodTemplateSpec) => k8s.PodTemplateSpec;
}

/** Labels and annotations of Model objects. */
export const ModelLabels = {
  MODEL: 'model.inferkit.dev/name',
  SHARED_GROUP: 'gpu.inferkit.dev/shared-group',
  VRAM_ESTIMATE: 'gpu.inferkit.dev/vram-estimate-mb',
  SERVICE_LABELS: 'model.inferkit.dev/service-labels',
} as const;

const SHARED_PRIORITY_BASE = 1000;

/** The groups FlexInfer's controller adds to AMD GPU pods, so that they can open the GPU device nodes. */
const AMD_DEVICE_GROUPS = [109, 992];

/** The KEDA HTTP add-on's interceptor proxy Service and port: where a serverless model's Service points. */
export const HTTP_ADD_ON_INTERCEPTOR = { service: 'keda-add-ons-http-interceptor-proxy', port: 8080 } as const;

/** The LiteLLM annotation holding the address LiteLLM sends requests to. */
const LITELLM_API_BASE = 'litellm.flexinfer.ai/api-base';

/** A serverless model's pods are served by Service `<model>-backend`, the interceptor's target. */
const BACKEND_SUFFIX = '-backend';
const DEFAULT_PVC_SIZE = Size.gibibytes(100);

function patterns(value: unknown): string[] | null {
  if (value === undefined) return null;
  return (Array.isArray(value) ? value.map(String) : String(value).split(',')).map(s => s.trim()).filter(Boolean);
}

/**
 * A served model, FlexInfer's Model without its controller: a Deployment running the engine, a Service
 * `<model>`, the model files on a cache volume at /models (filled by a prefetch Job or init container that
 * downloads only what is needed), optional scale-to-zero through KEDA, priority classes for shared GPUs and
 * LiteLLM discovery.
 */
export class Model extends Construct {
  /**
   * Loads a FlexInfer `ai.flexinfer/v1alpha2` Model manifest. Unknown fields are errors.
   */
  public static fromManifest(scope: Construct, id: string, manifest: Manifest, options: { podDefaults?: PodDefaults } = {}): Model {
    const m = loadFlexInferModel(manifest);
    const issues = new Issues(`Model/${m.name}`);
    // Resources are read through a pod template, so that quantities are typed and unknown fields caught.
    const resources = m.resources === undefined ? undefined
      : readPodTemplate(issues, at => at.replace(/^\.spec\.containers\[0\]\.resources/, 'spec.resources'),
        { spec: { containers: [{ name: 'engine', resources: m.resources }] } })?.spec?.containers[0].resources;
    issues.throwIfAny();
    const model = new Model(scope, id, {
      name: m.name,
      namespace: m.namespace,
      backend: m.backend,
      source: m.source,
      image: m.image,
      gpu: m.gpu,
      cache: m.cache && {
        strategy: m.cache.strategy as CacheStrategy,
        pvcName: m.cache.pvcName,
        storageClass: m.cache.storageClass,
        size: m.cache.sizeMiB === undefined ? undefined : Size.mebibytes(m.cache.sizeMiB),
      },
      serverless: m.serverless && {
        idleTimeout: Duration.seconds(m.serverless.idleTimeoutSeconds),
        coldStartTimeout: Duration.seconds(m.serverless.coldStartTimeoutSeconds),
        minReplicas: m.serverless.minReplicas,
        // FlexInfer runs one replica after traffic (more only when minReplicas keeps more).
        maxReplicas: Math.max(1, m.serverless.minReplicas),
      },
      config: m.config,
      resources,
      nodeSelector: m.nodeSelector,
      tolerations: m.tolerations,
      litellm: m.litellm && { modelName: m.litellm.servedModelName, aliases: m.litellm.aliases, copilotAlias: m.litellm.copilotAlias },
      capabilities: m.capabilities,
      serviceLabels: m.serviceLabels,
      podDefaults: options.podDefaults,
      metadata: { labels: m.labels, annotations: m.annotations },
      _source: manifestSource('Model', m.name),
      _impliedServerless: m.serverless?.implied,
    });
    const loaded = new Issues(`Model/${m.name}`);
    m.warnings.forEach(w => loaded.warn(w.field, w.value, w.cause, w.fix));
    recordWarnings(model, loaded);
    return model;
  }

  /** Name of the model (Deployment and Service). */
  public readonly name: string;
  /** Namespace of the objects, if any. */
  public readonly namespace?: string;
  /**
   * The engine that serves it: the engine registry's entry, which the public API does not expose.
   *
   * @internal
   */
  public readonly engine: EngineSpec;
  /** The vendor whose image runs it. */
  public readonly vendor: 'nvidia' | 'amd' | 'cpu';
  /** The serving port. */
  public readonly port: number;
  /** GPU memory one replica needs, in MiB, if known. */
  public readonly vramEstimateMB?: number;
  /** GPUs of each replica: the extended resource and the count; undefined for a CPU model. */
  public readonly gpus?: { readonly resourceName: string; readonly count: number };
  /** Node labels the pods require, if any. */
  public readonly nodeSelector?: Record<string, string>;

  private readonly props: ModelProps;
  private service!: k8s.KubeService;
  private serverless: boolean;
  private workload?: ModelWorkload;

  constructor(scope: Construct, id: string, props: ModelProps) {
    super(scope, id);
    this.props = props;
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    const issues = new Issues(props._source?.path ?? this.node.path, f => (props._source?.fieldName ?? (x => x))(f.replace(/^engine$/, 'backend')));
    checkName(issues, 'name', this.name, NameRule.DNS1035_LABEL);

    const source = typeof props.source === 'string' ? parseModelSource(issues, 'source', props.source) : props.source;
    const engine = resolveEngine(issues, 'backend', props.backend);
    const gpuProps = props.gpu;
    const product = gpuProps?.product === undefined ? undefined : findGpu(gpuProps.product);
    if (gpuProps?.product !== undefined) {
      issues.check(product !== undefined, 'gpu.product', gpuProps.product, 'is not a GPU of the catalogue', 'Use a catalogue name such as H100-80GB, L4 or MI300X');
    }
    const config = props.config ?? {};
    for (const [key, value] of Object.entries(config)) {
      issues.check(!(typeof value === 'string' && (/token/i.test(key) || /^hf_[A-Za-z0-9]{8,}/.test(value))), `config.${key}`, '(redacted)',
        'is a literal Hugging Face token, which would be stored in the manifests', 'Put the token in a Secret and reference it with hfTokenSecret');
    }
    issues.throwIfAny();

    const gpu = { vendor: gpuProps?.vendor ?? (gpuProps ? 'auto' : 'cpu'), count: gpuProps ? gpuProps.count ?? (gpuProps.vendor === 'cpu' ? undefined : 1) : undefined, product } as const;
    checkEngineCompatibility(issues, '', engine!, gpu, { config, modelName: this.name, image: props.image, imageField: (props._source?.fieldName ?? (x => x))('image') });
    this.engine = engine!;
    this.vendor = gpu.vendor === 'cpu' ? 'cpu' : resolveVendor(gpu);
    this.port = engine!.port.port;
    this.vramEstimateMB = gpuProps?.vramEstimateMB ?? this.estimate(issues, source!, gpu.count ?? 1, product);
    this.gpus = gpu.count !== undefined && this.vendor !== 'cpu'
      ? { resourceName: GPU_RESOURCE_NAMES[this.vendor === 'amd' ? GpuVendor.AMD : GpuVendor.NVIDIA], count: gpu.count } : undefined;
    this.nodeSelector = props.nodeSelector ?? (product ? gpuNodeSelector(product) : undefined);
    this.serverless = props.serverless !== undefined && (props.serverless.enabled ?? true);
    if (this.serverless) checkName(issues, 'name', `${this.name}${BACKEND_SUFFIX}`, NameRule.DNS1035_LABEL);
    if (gpuProps?.shared !== undefined) {
      issues.warn('gpu.shared', gpuProps.shared, 'FlexInfer time-shares one GPU among the models of a group, loading the one in demand and swapping by ' +
        'priority; inferkit approximates the group with PriorityClasses, so each model holds GPUs of its own and a higher priority preempts a lower ' +
        'one only when the nodes are full', 'Size the GPU nodes for every model of the group at once, or remove gpu.shared');
      // The group names a PriorityClass and labels the pods.
      const priorityClass = `inferkit-${gpuProps.shared}-p${gpuProps.priority ?? 0}`;
      checkGeneratedNames(issues, 'gpu.shared', gpuProps.shared,
        [{ kind: 'PriorityClass', name: priorityClass, rule: NameRule.DNS1123_SUBDOMAIN, maxLength: MAX_SUBDOMAIN_LENGTH }]);
      checkLabelValue(issues, 'gpu.shared', gpuProps.shared);
    }
    issues.throwIfAny();

    this.render(issues, source!, product);
    issues.throwIfAny();
    recordWarnings(this, issues);
  }

  private estimate(issues: Issues, source: ModelSource, count: number, product?: GpuSpec): number | undefined {
    const s = this.props.sizing;
    const architecture = s?.architecture ?? (source.kind === SourceKind.HUGGING_FACE ? source.location : undefined);
    const shape = architecture === undefined ? undefined : findModel(architecture);
    if (s?.architecture !== undefined) {
      issues.check(shape !== undefined, 'sizing.architecture', s.architecture, 'is not a known model architecture', 'Use a known model such as Llama-3-8B, or give gpu.vramEstimateMB');
    }
    if (!shape || this.vendor === 'cpu') return undefined;
    const breakdown = estimateVram({ model: shape, dtype: s?.dtype, contextTokens: s?.contextTokens, tensorParallel: count });
    if (product) checkFits(issues, 'gpu', breakdown, product, count);
    return Math.ceil(breakdown.perGpu.mib);
  }

  private metadata(name: string, labels: Record<string, string> = {}): k8s.ObjectMeta {
    return objectMeta(name, this.namespace, this.props.metadata, { [ModelLabels.MODEL]: this.name, ...labels });
  }

  private render(issues: Issues, source: ModelSource, product: GpuSpec | undefined): void {
    const p = this.props;
    const engine = this.engine;
    const config = p.config ?? {};
    const selector = { [ModelLabels.MODEL]: this.name };

    // The model volume at /models and the path or name the engine is given.
    const cache = p.cache;
    const claim = source.kind === SourceKind.PVC ? source.location
      : cache?.strategy === CacheStrategy.SHARED_PVC ? cache.pvcName ?? `${this.name}-cache` : undefined;
    if (source.kind === SourceKind.PVC && cache !== undefined) {
      issues.add('cache', cache.strategy, 'is ignored for a pvc:// source, which is mounted at /models itself', 'Remove cache');
    }
    const volume: k8s.Volume = claim !== undefined
      ? { name: 'models', persistentVolumeClaim: { claimName: claim } }
      : { name: 'models', emptyDir: cache?.strategy === CacheStrategy.MEMORY ? { medium: 'Memory', sizeLimit: cache.size ? k8s.Quantity.fromString(`${cache.size.toMebibytes()}Mi`) : undefined } : {} };
    const modelPath = source.kind === SourceKind.HUGGING_FACE ? `${MODELS_MOUNT_PATH}/${source.location}`
      : source.kind === SourceKind.PVC ? `${MODELS_MOUNT_PATH}${source.subPath ? `/${source.subPath}` : ''}`
        : source.location;
    const model = engine.modelPassing === ModelPassing.NAME ? source.location : modelPath;
    const invocation = engineInvocation(issues, '', engine, { modelName: this.name, model, sourceKind: source.kind, vendor: this.vendor, config });

    if (claim !== undefined && source.kind !== SourceKind.PVC && p.cache?.pvcName === undefined) {
      new k8s.KubePersistentVolumeClaim(this, 'cache', {
        metadata: this.metadata(claim),
        spec: {
          accessModes: ['ReadWriteMany'],
          storageClassName: p.cache?.storageClass,
          resources: { requests: { storage: k8s.Quantity.fromString(`${(p.cache?.size ?? DEFAULT_PVC_SIZE).toGibibytes()}Gi`) } },
        },
      });
    }

    // Filling the volume: a Job for a shared claim (once for all replicas), an init container otherwise.
    const fetch = this.fetchContainer(source, model, modelPath);
    if (fetch && claim !== undefined && source.kind !== SourceKind.PVC) {
      new k8s.KubeJob(this, 'prefetch', {
        metadata: this.metadata(`${this.name}-prefetch`),
        spec: {
          backoffLimit: 4,
          template: renderPodTemplate({ metadata: { labels: { [ModelLabels.MODEL]: this.name } }, spec: { restartPolicy: 'OnFailure', containers: [fetch], volumes: [volume] } },
            { labels: {}, annotations: {}, env: [], topologySpreadConstraints: [] }, { ...resolvePodDefaults(p.podDefaults), startupProbeSeconds: false, sharedMemory: false }, issues, 'prefetch'),
        },
      });
    }

    const gpuLimits = this.gpus ? { [this.gpus.resourceName]: k8s.Quantity.fromNumber(this.gpus.count) } : {};
    const paths = enginePaths(engine, this.name);
    const port = k8s.IntOrString.fromString(engine.port.name);
    const container: k8s.Container = {
      name: 'engine',
      image: engineImage(engine, this.vendor, p.image)!,
      command: invocation.command ? [...invocation.command] : undefined,
      args: [...invocation.args],
      env: Object.entries(invocation.env).map(([name, value]) => ({ name, value })),
      ports: [engine.port, ...(engine.extraPorts ?? [])].map(x => ({ name: x.name, containerPort: x.port })),
      readinessProbe: { httpGet: { path: paths.readiness, port }, periodSeconds: 10 },
      livenessProbe: { httpGet: { path: paths.health, port }, periodSeconds: 30, failureThreshold: 5 },
      resources: this.resources(gpuLimits),
      volumeMounts: [{ name: 'models', mountPath: MODELS_MOUNT_PATH }],
    };

    const group = p.gpu?.shared;
    const priorityClassName = group !== undefined || p.gpu?.priority !== undefined ? this.priorityClass(group, p.gpu?.priority ?? 0) : undefined;
    const annotations: Record<string, string> = this.vramEstimateMB !== undefined ? { [ModelLabels.VRAM_ESTIMATE]: String(this.vramEstimateMB) } : {};
    const nodeSelector = this.nodeSelector;
    const deviceGroups = this.vendor === 'amd' && this.gpus ? [...(p.gpu?.amdDeviceGroups ?? AMD_DEVICE_GROUPS)] : [];
    const affinity: k8s.Affinity | undefined = p.nodeSelector === undefined && !product && this.vendor !== 'cpu'
      ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: this.vendor === 'amd' ? 'amd.com/gpu.product-name' : 'nvidia.com/gpu.product', operator: 'Exists' }] }] } } }
      : undefined;
    const template = renderPodTemplate({
      metadata: {},
      spec: {
        containers: [container],
        initContainers: fetch && claim === undefined ? [fetch] : undefined,
        volumes: [volume],
        nodeSelector,
        affinity,
        tolerations: p.tolerations && p.tolerations.length > 0 ? [...p.tolerations] : undefined,
        securityContext: deviceGroups.length > 0 ? { supplementalGroups: deviceGroups } : undefined,
        priorityClassName,
      },
    }, { labels: { ...selector, ...(group ? { [ModelLabels.SHARED_GROUP]: group } : {}) }, annotations, env: [], topologySpreadConstraints: [] },
    resolvePodDefaults(p.podDefaults), issues, 'pod');

    // Rendered at synth: a ModelInfer may still take over the workload (replicas, placement, resources).
    new k8s.KubeDeployment(this, 'deployment', {
      metadata: this.metadata(this.name),
      spec: Lazy.any({
        produce: (): k8s.DeploymentSpec => this.workload
          ? { replicas: this.workload.replicas, selector: { matchLabels: selector }, template: this.workload.template(template) }
          : { replicas: this.serverless ? undefined : p.replicas ?? 1, selector: { matchLabels: selector }, template },
      }) as unknown as k8s.DeploymentSpec,
    });

    const ports = [engine.port, ...(engine.extraPorts ?? [])]
      .map(x => ({ name: x.name, port: x.port, targetPort: k8s.IntOrString.fromString(x.name) }));
    if (resolvePodDefaults(p.podDefaults).networkPolicy) {
      renderNetworkPolicy(this, 'network-policy', this.metadata(this.name), { pods: selector, servingPorts: ports.map(x => k8s.IntOrString.fromNumber(x.port)) });
    }
    const svcMeta = this.metadata(this.name);
    const svcAnnotations = { ...svcMeta.annotations, ...this.serviceAnnotations() };
    // Serverless, `<model>` is a DNS alias of the add-on's interceptor, which wakes the model and forwards to
    // `<model>-backend`; a ModelInfer that takes the replicas over turns it back into the pods' Service.
    this.service = new k8s.KubeService(this, 'service', {
      metadata: Object.keys(svcAnnotations).length > 0 ? { ...svcMeta, annotations: svcAnnotations } : svcMeta,
      spec: Lazy.any({
        produce: (): k8s.ServiceSpec => this.serverless
          ? { type: 'ExternalName', externalName: this.interceptorHost, ports: [{ name: 'http', port: HTTP_ADD_ON_INTERCEPTOR.port }] }
          : { selector, ports },
      }) as unknown as k8s.ServiceSpec,
    });
    if (this.serverless) {
      new k8s.KubeService(this, 'backend-service', { metadata: this.metadata(`${this.name}${BACKEND_SUFFIX}`), spec: { selector, ports } });
    }
    const litellm = p.litellm;
    if (litellm?.proxyConfig) {
      new k8s.KubeConfigMap(this, 'litellm', {
        metadata: this.metadata(`${this.name}-litellm`),
        data: Lazy.any({
          produce: () => ({
            'config.yaml': 'model_list:\n' + [litellm.modelName ?? this.name, ...this.liteLlmAliases()]
              .map(n => `  - model_name: ${n}\n    litellm_params:\n      model: openai/${this.name}\n      api_base: ${this.endpoint}/v1\n      api_key: none\n`).join(''),
          }),
        }) as unknown as Record<string, string>,
      });
    }
    if (p.serverless && this.serverless) this.renderServerless(issues, p.serverless);
  }

  /** Service annotations: the service labels, and LiteLLM discovery (FlexInfer's `litellm.flexinfer.ai/*` keys). */
  private serviceAnnotations(): Record<string, string> {
    const p = this.props;
    const litellm = p.litellm;
    const aliases = this.liteLlmAliases();
    return {
      ...(p.serviceLabels && p.serviceLabels.length > 0 ? { [ModelLabels.SERVICE_LABELS]: p.serviceLabels.join(',') } : {}),
      ...(litellm ? {
        [LITELLM_API_BASE]: `${this.endpoint}/v1`,
        ...(aliases.length > 0 ? { 'litellm.flexinfer.ai/aliases': aliases.join(',') } : {}),
        'litellm.flexinfer.ai/capabilities': JSON.stringify(this.capabilities()),
        ...(litellm.copilotAlias ? { 'litellm.flexinfer.ai/copilot-model': litellm.copilotAlias } : {}),
        'litellm.flexinfer.ai/enabled': 'true',
        'litellm.flexinfer.ai/served-model': litellm.modelName ?? this.name,
      } : {}),
    };
  }

  /** FlexInfer's LiteLLM aliases: the aliases and service labels, sorted, without the served name. */
  private liteLlmAliases(): string[] {
    const served = this.props.litellm?.modelName ?? this.name;
    return [...new Set([...(this.props.serviceLabels ?? []), ...(this.props.litellm?.aliases ?? [])])].filter(a => a !== served).sort();
  }

  /** The capabilities given, the rest inferred from the backend and config as FlexInfer does. */
  private capabilities(): { toolCalling: boolean; vision: boolean; imageGeneration: boolean } {
    const c = this.props.capabilities ?? {};
    const config = this.props.config ?? {};
    const name = this.engine.name;
    return {
      toolCalling: c.toolCalling ?? (name === 'vllm' || name === 'ollama' || (name === 'llamacpp' && config.jinja === true)),
      vision: c.vision ?? (name === 'llamacpp' && config.mmproj !== undefined),
      imageGeneration: c.imageGeneration ?? FLEXINFER_IMAGE_BACKENDS.includes(name),
    };
  }

  /** The interceptor proxy's fully qualified name, which the serverless Service aliases. */
  private get interceptorHost(): string {
    const s = this.props.serverless;
    return `${HTTP_ADD_ON_INTERCEPTOR.service}.${s?.addOnNamespace ?? 'keda'}.svc.${s?.clusterDomain ?? 'cluster.local'}`;
  }

  /**
   * Hands this model's Deployment to a workload owner (a ModelInfer in its simple form), which sets the
   * replica count and adjusts the pod template at synth. One owner per model; a serverless model has one already.
   *
   * @internal
   */
  public _bindWorkload(workload: ModelWorkload, issues: Issues): void {
    issues.check(this.workload === undefined, 'modelRef', this.name, `is already run by ${this.workload?.owner}`, 'Reference each Model from one ModelInfer');
    if (this.serverless && this.props._impliedServerless && this.workload === undefined) this.dropImpliedServerless(workload.owner);
    issues.check(!this.serverless, 'modelRef', this.name, 'is serverless, so KEDA already owns its replica count', 'Remove serverless from the Model, or use the Model alone');
    if (this.workload === undefined && !this.serverless) this.workload = workload;
  }

  /** Scale-to-zero that only the seed CRD's default asked for gives way to a workload owner, with a warning. */
  private dropImpliedServerless(owner: string): void {
    this.serverless = false;
    ['backend-service', 'http-scaled-object', 'scaled-object'].forEach(id => this.node.tryRemoveChild(id));
    if (this.props.litellm) this.service.metadata.addAnnotation(LITELLM_API_BASE, `${this.endpoint}/v1`);
    const issues = new Issues(this.props._source?.path ?? this.node.path, this.props._source?.fieldName);
    issues.warn('serverless', undefined, `is omitted, which FlexInfer's CRD makes scale-to-zero, but ${owner} sets the replicas, so the model runs ` +
      'without scale-to-zero', 'Set spec.serverless.enabled: false on the Model');
    recordWarnings(this, issues);
  }

  /** The user's resources with the GPU limits added; undefined when there are none. */
  private resources(gpuLimits: Record<string, k8s.Quantity>): k8s.ResourceRequirements | undefined {
    const limits = { ...this.props.resources?.limits, ...gpuLimits };
    const r = { ...this.props.resources, limits: Object.keys(limits).length > 0 ? limits : undefined };
    return r.limits || r.requests || r.claims ? r : undefined;
  }

  /**
   * `http://<model>.<namespace>.svc:<port>`, the in-cluster address of the Service (`http://<model>:<port>` without a
   * namespace). Serverless, the port is the add-on interceptor's (8080), which the Service leads to.
   */
  public get endpoint(): string {
    return `http://${this.name}${this.namespace ? `.${this.namespace}.svc` : ''}:${this.serverless ? HTTP_ADD_ON_INTERCEPTOR.port : this.port}`;
  }

  private fetchContainer(source: ModelSource, model: string, modelPath: string): k8s.Container | undefined {
    const config = this.props.config ?? {};
    if (source.kind === SourceKind.HUGGING_FACE) {
      // llama.cpp serves one GGUF file (and its projector): download just those.
      const projector = config.mmproj === undefined ? [] : [String(config.mmproj)];
      const gguf = config.ggufFile === undefined ? undefined : [String(config.ggufFile), ...projector];
      return hfDownloadContainer('prefetch', {
        repo: source.location,
        revision: config.hfRevision === undefined ? undefined : String(config.hfRevision),
        allow: gguf ?? patterns(config.hfAllowPatterns),
        ignore: gguf ? null : patterns(config.hfIgnorePatterns),
        modelDir: modelPath,
        token: this.props.hfTokenSecret,
        volumeMounts: [{ name: 'models', mountPath: MODELS_MOUNT_PATH }],
        image: resolvePodDefaults(this.props.podDefaults).downloaderImage,
      });
    }
    if (source.kind === SourceKind.OLLAMA) {
      return {
        name: 'prefetch',
        image: engineImage(this.engine, this.vendor, this.props.image)!,
        command: ['sh', '-c', `ollama serve >/dev/null 2>&1 & until ollama list >/dev/null 2>&1; do sleep 1; done; ollama pull ${model}`],
        env: [{ name: 'OLLAMA_MODELS', value: MODELS_MOUNT_PATH }, { name: 'HOME', value: '/tmp' }],
        volumeMounts: [{ name: 'models', mountPath: MODELS_MOUNT_PATH }],
        resources: addedContainerResources(),
      };
    }
    return undefined;
  }

  /** A PriorityClass per (group, priority), shared by every model of the chart that asks for it. */
  private priorityClass(group: string | undefined, priority: number): string {
    const name = `inferkit-${group ?? 'model'}-p${priority}`;
    const chart = Chart.of(this);
    if (!chart.node.tryFindChild(name)) {
      new k8s.KubePriorityClass(chart, name, {
        metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'inferkit' } },
        value: SHARED_PRIORITY_BASE + priority,
        preemptionPolicy: 'PreemptLowerPriority',
        description: `inferkit: models of GPU group ${group ?? '(none)'} with priority ${priority}; higher preempts lower`,
      });
    }
    return name;
  }

  private renderServerless(issues: Issues, s: ServerlessProps): void {
    const max = s.maxReplicas ?? 1;
    const min = s.minReplicas ?? 0;
    issues.check(Number.isInteger(max) && max >= 1, 'serverless.maxReplicas', max, 'is not a number of replicas', 'Use 1 or more');
    issues.check(Number.isInteger(min) && min >= 0 && min <= max, 'serverless.minReplicas', min, `is not a number of replicas from 0 to maxReplicas (${max})`,
      'Use 0 to scale to zero, or raise maxReplicas');
    const idle = (s.idleTimeout ?? Duration.minutes(5)).toSeconds();
    const coldStart = (s.coldStartTimeout ?? Duration.minutes(2)).toSeconds();
    // KEDA's cooldownPeriod and the replica counts are int32.
    issues.check(idle <= INT32_MAX, 'serverless.idleTimeout', `${idle}s`, `is more than ${INT32_MAX} seconds, the int32 of KEDA's cooldownPeriod`, 'Give a shorter idle timeout');
    issues.check(max <= INT32_MAX, 'serverless.maxReplicas', max, `is more than ${INT32_MAX}, the largest int32 Kubernetes accepts`, `Use 1 to ${INT32_MAX}`);
    const addOn = s.addOnNamespace ?? 'keda';
    // Every name a client may give the Service `<model>` (the interceptor routes by the Host header, port stripped).
    const hosts = this.namespace
      ? [this.name, `${this.name}.${this.namespace}`, `${this.name}.${this.namespace}.svc`, `${this.name}.${this.namespace}.svc.${s.clusterDomain ?? 'cluster.local'}`]
      : [this.name];
    // The HTTP add-on holds requests while the model starts; its ScaledObject is ours, so that the idle
    // count (0) and the cooldown are explicit in the manifests.
    new ApiObject(this, 'http-scaled-object', {
      apiVersion: 'http.keda.sh/v1alpha1',
      kind: 'HTTPScaledObject',
      metadata: { ...this.metadata(this.name), annotations: { ...this.metadata(this.name).annotations, 'httpscaledobject.keda.sh/skip-scaledobject-creation': 'true' } },
      spec: {
        hosts,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name, service: `${this.name}${BACKEND_SUFFIX}`, port: this.port },
        replicas: { min, max },
        scaledownPeriod: idle,
        timeouts: { conditionWait: `${coldStart}s` },
      },
    });
    new ScaledObject(this, 'scaled-object', {
      metadata: this.metadata(this.name),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: this.name },
        // KEDA's idle count must be below the minimum: a warm model (min > 0) has none.
        ...(min === 0 ? { idleReplicaCount: 0, minReplicaCount: 1 } : { minReplicaCount: min }),
        maxReplicaCount: max,
        cooldownPeriod: idle,
        triggers: [{ type: 'external-push', metadata: { httpScaledObject: this.name, scalerAddress: `keda-add-ons-http-external-scaler.${addOn}:9090` } }],
      },
    });
  }
}
