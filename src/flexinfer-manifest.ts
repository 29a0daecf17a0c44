import { ENGINES, ModelPassing } from './engines';
import { Issues, SpecIssue } from './errors';
import { INT32_MAX } from './limits';
import { Manifest, ManifestMetadata, readManifest } from './manifests';

/** The FlexInfer kind the Model loader reads. */
export const FLEXINFER_MODEL_KIND = { apiVersion: 'ai.flexinfer/v1alpha2', kind: 'Model' } as const;

/** The toleration FlexInfer's controller puts on every GPU pod; `spec.tolerations` are appended to it. */
export const FLEXINFER_GPU_TOLERATION = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' } as const;

/** The node label FlexInfer's CRD ties to `spec.gpu.vendor`. */
export const FLEXINFER_GPU_VENDOR_LABEL = 'node.flexstack.io/gpu-vendor';

/** Backends FlexInfer treats as image generation: idle 10 minutes by default, `imageGeneration` capability. */
export const FLEXINFER_IMAGE_BACKENDS: readonly string[] = ['diffusers', 'comfyui', 'vllm-omni'];

/** A toleration of a loaded Model (`spec.tolerations[]`), as Kubernetes writes it. */
export interface LoadedToleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

/**
 * A FlexInfer Model read from a manifest, with the CRD's defaults applied: durations in seconds, sizes in MiB.
 * What the CRD asks but inferkit runs differently is in `warnings`.
 */
export interface LoadedFlexInferModel extends ManifestMetadata {
  readonly backend: string;
  readonly source: string;
  /** `spec.image`. */
  readonly image?: string;
  /** Undefined for a CPU-only model (`spec.gpu` omitted). `priority` is set only in a shared group (CRD default 100). */
  readonly gpu?: { vendor: 'auto' | 'nvidia' | 'amd' | 'cpu'; count?: number; shared?: string; priority?: number; vramEstimateMB?: number };
  /** Scale-to-zero, on unless `spec.serverless.enabled` is false (the CRD's default); undefined when off. */
  readonly serverless?: { idleTimeoutSeconds: number; coldStartTimeoutSeconds: number; minReplicas: number; implied: boolean };
  /** The resolved cache; undefined when the model has no cache volume of FlexInfer's (Ollama, a pvc:// source). */
  readonly cache?: { strategy: 'Memory' | 'SharedPVC' | 'None'; pvcName?: string; storageClass?: string; sizeMiB?: number };
  /** `spec.config`, with `spec.kvCache`'s vLLM flags (`blockSize`, `swapSpace`) added. */
  readonly config?: Record<string, unknown>;
  readonly resources?: Manifest;
  readonly nodeSelector?: Record<string, string>;
  /** FlexInfer's GPU toleration (GPU models) followed by `spec.tolerations`. */
  readonly tolerations?: LoadedToleration[];
  /** Undefined when `spec.litellm` is omitted or disabled. */
  readonly litellm?: { servedModelName?: string; aliases?: string[]; copilotAlias?: string };
  readonly capabilities?: { toolCalling?: boolean; vision?: boolean; imageGeneration?: boolean };
  readonly serviceLabels?: string[];
  /** Where inferkit runs the Model, but not exactly as FlexInfer's controller would. */
  readonly warnings: readonly SpecIssue[];
}

const DURATION = /^(\d+h)?(\d+m)?(\d+s)?$/;
const SIZE = /^(\d+)(Mi|Gi|Ti)$/;
const GPU_RESOURCES = ['nvidia.com/gpu', 'amd.com/gpu', 'gpu.intel.com/i915'];

/** Seconds of a Go duration such as `5m`, `1h30m` or `90s`, or undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  return (parseInt(m[1] ?? '0', 10) * 3600) + (parseInt(m[2] ?? '0', 10) * 60) + parseInt(m[3] ?? '0', 10);
}

/**
 * Reads a FlexInfer `ai.flexinfer/v1alpha2` Model against its published CRD, applying the CRD's defaults (scale-to-zero
 * on, the cache strategy from `gpu.shared`, a 50Gi `longhorn` claim, priority 100 in a shared group) and its
 * controller's (the GPU toleration; for vendor auto, the vendor whose nodes the nodeSelector matches). Unknown fields
 * are errors; so are fields inferkit cannot honour at all (`spec.quantize`, a built-in image on a GPU architecture it
 * is not built for). Fields it honours only approximately are warnings.
 *
 * @throws SpecError listing every problem found
 */
export function loadFlexInferModel(doc: Manifest): LoadedFlexInferModel {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['backend', 'cache', 'capabilities', 'config', 'gpu', 'image', 'kvCache', 'litellm', 'nodeSelector', 'quantize',
    'resources', 'serverless', 'serviceLabels', 'source', 'tolerations']);
  const backend = r.str(s.backend, 'spec.backend');
  const source = r.str(s.source, 'spec.source');
  issues.check(backend !== undefined, 'spec.backend', undefined, 'is missing', 'Name the backend, such as vllm or ollama');
  issues.check(source !== undefined, 'spec.source', undefined, 'is missing', 'Give the model source, such as hf://org/model');
  const engine = backend === undefined ? undefined : ENGINES.get(backend);
  const imageBackend = engine !== undefined && FLEXINFER_IMAGE_BACKENDS.includes(engine.name);
  const pvcSource = source?.toLowerCase().startsWith('pvc://') ?? false;

  const duration = (v: unknown, field: string): number | undefined => {
    const text = r.str(v, field);
    if (text === undefined) return undefined;
    const seconds = durationSeconds(text);
    if (!issues.check(seconds !== undefined, field, text, 'is not a duration', 'Write it like 5m, 90s or 1h30m')) return undefined;
    return issues.check(seconds! <= INT32_MAX, field, text, `is ${seconds} seconds, more than ${INT32_MAX}, the int32 Kubernetes fields of seconds hold`,
      'Write a shorter duration') ? seconds : undefined;
  };
  const bool = (v: unknown, field: string): boolean | undefined => {
    if (v === undefined) return undefined;
    issues.check(typeof v === 'boolean', field, v, 'is not true or false', 'Write true or false');
    return typeof v === 'boolean' ? v : undefined;
  };
  const ranged = (v: unknown, field: string, min: number, max: number): number | undefined => {
    const n = r.int(v, field);
    if (n !== undefined) issues.check(n >= min && n <= max, field, n, `is outside ${min} to ${max}`, `Use a whole number from ${min} to ${max}`);
    return n;
  };
  const oneOf = <T extends string>(v: unknown, field: string, values: readonly T[]): T | undefined => {
    const text = r.str(v, field);
    if (text !== undefined) issues.check(values.includes(text as T), field, text, 'is not an allowed value', `Use ${values.join(', ')}`);
    return text as T | undefined;
  };

  const nodeSelector = s.nodeSelector === undefined ? undefined : r.stringMap(s.nodeSelector, 'spec.nodeSelector');

  // spec.gpu: omitted is CPU-only; vendor defaults to auto, count to 1 (the construct's defaults too).
  let gpu: LoadedFlexInferModel['gpu'];
  if (s.gpu !== undefined) {
    const g = r.obj(s.gpu, 'spec.gpu', ['count', 'priority', 'shared', 'swapCooldown', 'vendor', 'vramEstimateMB']);
    let vendor = oneOf(g.vendor, 'spec.gpu.vendor', ['auto', 'nvidia', 'amd', 'cpu'] as const) ?? 'auto';
    const count = ranged(g.count, 'spec.gpu.count', 1, 8);
    const shared = r.str(g.shared, 'spec.gpu.shared') || undefined;
    const priority = ranged(g.priority, 'spec.gpu.priority', 0, 1000);
    const vramEstimateMB = r.int(g.vramEstimateMB, 'spec.gpu.vramEstimateMB');
    const swapCooldown = duration(g.swapCooldown, 'spec.gpu.swapCooldown');
    if (vendor === 'cpu') {
      issues.check(vramEstimateMB === undefined, 'spec.gpu.vramEstimateMB', vramEstimateMB, 'is set with vendor cpu', 'Remove vramEstimateMB, or choose vendor nvidia, amd or auto');
      issues.check(shared === undefined, 'spec.gpu.shared', shared, 'is set with vendor cpu', 'Remove shared, or choose vendor nvidia, amd or auto');
    }
    const labelled = nodeSelector?.[FLEXINFER_GPU_VENDOR_LABEL];
    if (vendor !== 'auto' && labelled !== undefined) {
      issues.check(labelled === vendor, `spec.nodeSelector.${FLEXINFER_GPU_VENDOR_LABEL}`, labelled, `does not match spec.gpu.vendor ${vendor}`,
        `Select ${FLEXINFER_GPU_VENDOR_LABEL}: ${vendor}, or change spec.gpu.vendor`);
    }
    const selected = selectedVendor(nodeSelector);
    if (vendor === 'auto' && (labelled === 'nvidia' || labelled === 'amd')) {
      vendor = labelled;
    } else if (vendor === 'auto' && selected !== undefined) {
      // Only nodes of that vendor match the selector, so FlexInfer's run-time choice is known at synth.
      vendor = selected;
    } else if (vendor === 'auto') {
      issues.warn('spec.gpu.vendor', 'auto', 'FlexInfer picks the vendor of the GPU nodes it finds at run time; inferkit decides at synth and, ' +
        'without a product, runs the NVIDIA image on NVIDIA nodes', 'Set spec.gpu.vendor to nvidia or amd');
    }
    if (swapCooldown !== undefined) {
      issues.warn('spec.gpu.swapCooldown', g.swapCooldown, 'inferkit runs no controller that swaps the models of a shared group, so there is no cooldown ' +
        'between swaps: a higher-priority pod preempts a lower one as soon as the scheduler needs the node', 'Remove spec.gpu.swapCooldown');
    }
    const arch = gpuArchitecture(nodeSelector);
    const targets = engine?.amdGfxTargets;
    if (vendor === 'amd' && arch?.value.startsWith('gfx') && s.image === undefined && engine?.images.amd !== undefined && targets !== undefined) {
      issues.check(targets.includes(arch.value), `spec.nodeSelector.${arch.key}`, arch.value, `selects ${arch.value} GPUs, but inferkit's ${engine.name} image ` +
        `for AMD, ${engine.images.amd}, is built for ${targets.join(', ')} only (FlexInfer runs an image of its own build there)`,
      `Set spec.image to a ${engine.name} image built for ${arch.value}`);
    }
    // Priority ranks the models of a shared group; alone, a model has the GPU to itself and FlexInfer ignores it.
    gpu = { vendor, count, shared, priority: shared === undefined ? undefined : priority ?? 100, vramEstimateMB };
  }

  // spec.serverless: omitted or without `enabled` is scale-to-zero, FlexInfer's homelab default.
  const sv = r.obj(s.serverless, 'spec.serverless', ['coldStartTimeout', 'enabled', 'idleTimeout', 'minReplicas']);
  const serverlessOn = bool(sv.enabled, 'spec.serverless.enabled') ?? true;
  const idle = duration(sv.idleTimeout, 'spec.serverless.idleTimeout');
  const coldStart = duration(sv.coldStartTimeout, 'spec.serverless.coldStartTimeout');
  const minReplicas = ranged(sv.minReplicas, 'spec.serverless.minReplicas', 0, 10);
  const serverless = serverlessOn
    ? {
      idleTimeoutSeconds: idle ?? (imageBackend ? 600 : 300),
      coldStartTimeoutSeconds: coldStart ?? 60,
      minReplicas: minReplicas ?? 0,
      implied: s.serverless === undefined,
    }
    : undefined;

  const cache = readCache(s.cache,
    { r, issues, oneOf, bool, ranged, shared: gpu?.shared, vendor: gpu?.vendor, pvcSource, modelVolume: engine?.modelPassing !== ModelPassing.NAME });

  const capabilities = s.capabilities === undefined ? undefined : (() => {
    const c = r.obj(s.capabilities, 'spec.capabilities', ['imageGeneration', 'toolCalling', 'vision']);
    return {
      imageGeneration: bool(c.imageGeneration, 'spec.capabilities.imageGeneration'),
      toolCalling: bool(c.toolCalling, 'spec.capabilities.toolCalling'),
      vision: bool(c.vision, 'spec.capabilities.vision'),
    };
  })();

  const config = s.config === undefined ? undefined : { ...r.obj(s.config, 'spec.config', Object.keys((s.config ?? {}) as object)) };
  const kvFlags = readKvCache(s.kvCache, { r, issues, oneOf, engineName: engine?.name });
  for (const key of Object.keys(kvFlags)) {
    issues.check(config?.[key] === undefined, `spec.config.${key}`, config?.[key], 'is also set by spec.kvCache', 'Set it in one place');
  }
  const mergedConfig = Object.keys(kvFlags).length > 0 ? { ...config, ...kvFlags } : config;

  let litellm: LoadedFlexInferModel['litellm'];
  if (s.litellm !== undefined) {
    const l = r.obj(s.litellm, 'spec.litellm', ['aliases', 'copilotAlias', 'enabled', 'servedModelName']);
    const on = bool(l.enabled, 'spec.litellm.enabled') ?? true;
    const read = {
      servedModelName: r.str(l.servedModelName, 'spec.litellm.servedModelName'),
      aliases: l.aliases === undefined ? undefined : r.arr(l.aliases, 'spec.litellm.aliases').map(String),
      copilotAlias: r.str(l.copilotAlias, 'spec.litellm.copilotAlias'),
    };
    litellm = on ? read : undefined;
  }

  if (s.quantize !== undefined) {
    const q = r.obj(s.quantize, 'spec.quantize', ['bits', 'calibration', 'denseModuleCosineThreshold', 'denseModulePolicy', 'descAct', 'dynamicExclusion',
      'format', 'ggufType', 'gpuMemoryFraction', 'groupSize', 'maxMemoryGB', 'nodeSelector', 'sym', 'timeoutSeconds', 'useGPU']);
    issues.add('spec.quantize.format', q.format, 'needs FlexInfer\'s quantization Job, which downloads, quantizes and re-publishes the weights at run time; ' +
      'inferkit compiles the Model without a controller and cannot run it',
    'Quantize the weights beforehand and point spec.source at the quantized repository, then remove spec.quantize');
  }

  const resources = s.resources as Manifest | undefined;
  for (const part of ['limits', 'requests'] as const) {
    const entries = (resources?.[part] ?? {}) as Record<string, unknown>;
    for (const key of GPU_RESOURCES.filter(k => k in entries)) {
      issues.add(`spec.resources.${part}.${key}`, entries[key], 'sets GPUs outside spec.gpu, which FlexInfer\'s CRD refuses', 'Remove it and use spec.gpu.vendor and spec.gpu.count');
    }
  }

  const tolerations = [
    ...(gpu !== undefined && gpu.vendor !== 'cpu' ? [FLEXINFER_GPU_TOLERATION] : []),
    ...r.arr(s.tolerations, 'spec.tolerations').map((t, i) => readToleration(r, t, `spec.tolerations[${i}]`)),
  ];
  const serviceLabels = s.serviceLabels === undefined ? undefined : r.arr(s.serviceLabels, 'spec.serviceLabels').map(String);
  if (serviceLabels !== undefined) issues.check(serviceLabels.length <= 10, 'spec.serviceLabels', serviceLabels.length, 'has more than 10 labels', 'Keep at most 10');
  issues.throwIfAny();
  return {
    ...meta,
    backend: backend!,
    source: source!,
    image: r.str(s.image, 'spec.image'),
    gpu,
    serverless,
    cache,
    config: mergedConfig,
    resources,
    nodeSelector,
    tolerations: tolerations.length > 0 ? tolerations : undefined,
    litellm,
    capabilities,
    serviceLabels,
    warnings: issues.warnings,
  };
}

interface CacheContext {
  readonly r: ReturnType<typeof readManifest>['r'];
  readonly issues: Issues;
  readonly oneOf: <T extends string>(v: unknown, field: string, values: readonly T[]) => T | undefined;
  readonly bool: (v: unknown, field: string) => boolean | undefined;
  readonly ranged: (v: unknown, field: string, min: number, max: number) => number | undefined;
  readonly shared?: string;
  readonly vendor?: string;
  readonly pvcSource: boolean;
  /** Whether FlexInfer gives the backend a model volume at all (Ollama keeps its own store). */
  readonly modelVolume: boolean;
}

/** `spec.cache`, resolved: the strategy from `gpu.shared` when not given, the claim's 50Gi and `longhorn` defaults. */
function readCache(value: unknown, x: CacheContext): LoadedFlexInferModel['cache'] {
  const { r, issues } = x;
  const c = r.obj(value, 'spec.cache', ['compilationCache', 'flashLoader', 'hostPath', 'pvcName', 'size', 'storageClass', 'strategy']);
  const given = c.strategy === '' ? undefined : x.oneOf(c.strategy, 'spec.cache.strategy', ['Memory', 'SharedPVC', 'Local', 'None'] as const);
  const strategy = given ?? (x.shared !== undefined ? 'Memory' : 'SharedPVC');
  // The 50Gi default sizes created claims only; a Memory cache has no limit unless one is given.
  const size = r.str(c.size, 'spec.cache.size') ?? (strategy === 'SharedPVC' ? '50Gi' : undefined);
  const sm = size === undefined ? undefined : SIZE.exec(size);
  if (size !== undefined) issues.check(sm !== null, 'spec.cache.size', size, 'is not a size in Mi, Gi or Ti', 'Write it like 100Gi');
  const hostPath = r.str(c.hostPath, 'spec.cache.hostPath');

  if (c.compilationCache !== undefined || (x.shared !== undefined && x.vendor === 'amd')) {
    const cc = r.obj(c.compilationCache, 'spec.cache.compilationCache', ['enabled', 'hostPath', 'sizeLimit']);
    r.str(cc.hostPath, 'spec.cache.compilationCache.hostPath');
    r.str(cc.sizeLimit, 'spec.cache.compilationCache.sizeLimit');
    const on = x.bool(cc.enabled, 'spec.cache.compilationCache.enabled') ?? (x.shared !== undefined && x.vendor === 'amd');
    if (on) {
      issues.warn('spec.cache.compilationCache.enabled', true, 'FlexInfer keeps ROCm kernel compilation caches in a node hostPath; PodSecurity restricted ' +
        'forbids hostPath volumes, so each new pod compiles its kernels again', 'Set spec.cache.compilationCache.enabled: false');
    }
  }
  // FlexInfer's controller turns the flash-loader on by itself only for a shared model on a Local cache without a flashLoader
  // block, and runs it only from a persistent volume (SharedPVC, Local, a pvc:// source), whatever the block says.
  const autoFlash = c.flashLoader === undefined && strategy === 'Local' && x.shared !== undefined;
  const persistent = x.pvcSource || strategy === 'SharedPVC' || strategy === 'Local';
  if (c.flashLoader !== undefined || autoFlash) {
    const f = r.obj(c.flashLoader, 'spec.cache.flashLoader', ['bufferSizeKB', 'concurrency', 'enabled', 'image', 'tmpfsSizeLimit', 'verifyIntegrity']);
    x.ranged(f.bufferSizeKB, 'spec.cache.flashLoader.bufferSizeKB', 32, 16384);
    x.ranged(f.concurrency, 'spec.cache.flashLoader.concurrency', 1, 32);
    r.str(f.image, 'spec.cache.flashLoader.image');
    r.str(f.tmpfsSizeLimit, 'spec.cache.flashLoader.tmpfsSizeLimit');
    x.bool(f.verifyIntegrity, 'spec.cache.flashLoader.verifyIntegrity');
    const on = (x.bool(f.enabled, 'spec.cache.flashLoader.enabled') ?? autoFlash) && persistent;
    if (on && !x.pvcSource && x.modelVolume) {
      issues.warn('spec.cache.flashLoader.enabled', true, 'FlexInfer copies the model files into a tmpfs before the backend starts; inferkit runs no flash-loader, ' +
        'so the backend reads them from the cache volume', 'Use spec.cache.strategy Memory to serve from RAM, or set spec.cache.flashLoader.enabled: false');
    }
  }
  if (x.pvcSource) {
    if (given === 'Memory') {
      issues.add('spec.cache.strategy', given, 'is not allowed with a pvc:// source by FlexInfer\'s CRD', 'Use SharedPVC, Local or None, or remove spec.cache.strategy');
    } else if (given !== undefined) {
      issues.warn('spec.cache.strategy', given, 'inferkit mounts the pvc:// claim at /models itself instead of staging it on another volume', 'Remove spec.cache.strategy');
    }
    return undefined;
  }
  if (!x.modelVolume && value === undefined) return undefined;
  if (strategy === 'Local') {
    issues.warn('spec.cache.strategy', 'Local', `FlexInfer keeps the files in the node directory ${hostPath ?? '/var/lib/flexinfer/models'}/<namespace>/<name> ` +
      'across restarts; PodSecurity restricted forbids hostPath volumes, so inferkit uses a node-local emptyDir and a new pod downloads again',
    'Use SharedPVC, with a node-local StorageClass in spec.cache.storageClass if the disk matters');
  } else if (hostPath !== undefined) {
    issues.warn('spec.cache.hostPath', hostPath, `is only used by the Local strategy, not ${strategy}`, 'Remove spec.cache.hostPath');
  }
  return {
    strategy: strategy === 'Local' ? 'None' : strategy,
    pvcName: r.str(c.pvcName, 'spec.cache.pvcName'),
    storageClass: r.str(c.storageClass, 'spec.cache.storageClass') ?? 'longhorn',
    sizeMiB: sm ? parseInt(sm[1], 10) * { Mi: 1, Gi: 1024, Ti: 1024 * 1024 }[sm[2] as 'Mi' | 'Gi' | 'Ti'] : undefined,
  };
}

/** `spec.kvCache`: its vLLM flags; the controller's pressure policies are warned about. */
function readKvCache(
  value: unknown,
  x: { r: ReturnType<typeof readManifest>['r']; issues: Issues; oneOf: CacheContext['oneOf']; engineName?: string },
): Record<string, unknown> {
  if (value === undefined) return {};
  const { r, issues } = x;
  const k = r.obj(value, 'spec.kvCache', ['highWatermark', 'lowWatermark', 'maxBlockSize', 'pressurePolicy', 'reconfigureCooldown', 'reconfigureStrategy', 'swapSpace']);
  const policy = x.oneOf(k.pressurePolicy, 'spec.kvCache.pressurePolicy', ['Observe', 'Reconfigure', 'Evict'] as const) ?? 'Observe';
  x.oneOf(k.reconfigureStrategy, 'spec.kvCache.reconfigureStrategy', ['ReduceSeqs', 'ReduceMaxLen', 'Both'] as const);
  r.intOrString(k.highWatermark, 'spec.kvCache.highWatermark');
  r.intOrString(k.lowWatermark, 'spec.kvCache.lowWatermark');
  r.str(k.reconfigureCooldown, 'spec.kvCache.reconfigureCooldown');
  const blockSize = r.int(k.maxBlockSize, 'spec.kvCache.maxBlockSize');
  const swapSpace = r.intOrString(k.swapSpace, 'spec.kvCache.swapSpace');
  // FlexInfer tunes vLLM only, and ignores the block elsewhere: so does inferkit.
  if (x.engineName !== 'vllm') return {};
  if (policy !== 'Observe') {
    issues.warn('spec.kvCache.pressurePolicy', policy, `FlexInfer's controller ${policy === 'Evict' ? 'scales the model down' : 'restarts vLLM with smaller limits'} ` +
      'when KV-cache usage crosses the watermarks; inferkit runs no controller, so nothing reacts to the pressure',
    'Size maxModelLen and maxNumSeqs in spec.config for the load, and set spec.kvCache.pressurePolicy: Observe');
  }
  return { ...(blockSize === undefined ? {} : { blockSize }), ...(swapSpace === undefined ? {} : { swapSpace }) };
}

/** Node labels that name a GPU architecture (gfx1100, sm_89), in the order FlexInfer reads them. */
const GPU_ARCH_LABELS = ['flexinfer.ai/gpu.arch', 'amd.com/gpu.arch', 'gpu.amd.com/gpu-architecture', 'nvidia.com/gpu.arch'];

/** The GPU architecture a nodeSelector asks for, and the label it is read from. */
function gpuArchitecture(selector?: Record<string, string>): { key: string; value: string } | undefined {
  const key = GPU_ARCH_LABELS.find(k => (selector?.[k] ?? '').trim() !== '');
  return key === undefined ? undefined : { key, value: selector![key].trim().toLowerCase() };
}

/**
 * The one GPU vendor whose nodes a nodeSelector can match, by FlexInfer's node-agent vendor label, a gfx or sm_
 * architecture, or an `amd.com/`, `gpu.amd.com/` or `nvidia.com/` label; undefined when it names none or both.
 */
function selectedVendor(selector?: Record<string, string>): 'nvidia' | 'amd' | undefined {
  const found = new Set<'nvidia' | 'amd'>();
  const agent = selector?.['flexinfer.ai/gpu.vendor']?.trim().toLowerCase();
  if (agent === 'nvidia' || agent === 'amd') found.add(agent);
  const arch = gpuArchitecture(selector)?.value;
  if (arch?.startsWith('gfx')) found.add('amd');
  if (arch?.startsWith('sm_')) found.add('nvidia');
  for (const key of Object.keys(selector ?? {})) {
    if (key.startsWith('amd.com/') || key.startsWith('gpu.amd.com/')) found.add('amd');
    if (key.startsWith('nvidia.com/')) found.add('nvidia');
  }
  return found.size === 1 ? [...found][0] : undefined;
}

function readToleration(r: ReturnType<typeof readManifest>['r'], value: unknown, field: string): LoadedToleration {
  const t = r.obj(value, field, ['effect', 'key', 'operator', 'tolerationSeconds', 'value']);
  const out: Record<string, unknown> = {
    key: r.str(t.key, `${field}.key`),
    operator: r.str(t.operator, `${field}.operator`),
    value: r.str(t.value, `${field}.value`),
    effect: r.str(t.effect, `${field}.effect`),
    tolerationSeconds: r.int(t.tolerationSeconds, `${field}.tolerationSeconds`),
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as LoadedToleration;
}
