import { Issues, show } from './errors';
import { GpuSpec, isMaxwell } from './gpus';
import { SourceKind } from './model-source';

/** What an engine image is built for. */
export type EngineVendor = 'nvidia' | 'amd' | 'cpu';

/** How an engine is told which model to serve. */
export enum ModelPassing {
  /** A path under `/models`, where the model volume is mounted. */
  PATH = 'path',
  /** A registry name (Ollama), fetched by the engine itself. */
  NAME = 'name',
  /** Not at all: the engine loads models on demand (ComfyUI workflows); the volume is still mounted. */
  NONE = 'none',
}

/** Where model volumes are mounted in an engine container. */
export const MODELS_MOUNT_PATH = '/models';

/**
 * Config keys that control the model download (FlexInfer's `snapshot_download` options), read by the prefetch
 * step and never passed to an engine.
 */
export const SOURCE_CONFIG_KEYS: readonly string[] = ['hfAllowPatterns', 'hfIgnorePatterns', 'hfRevision'];

/** A named container port. */
export interface EnginePort {
  /** Port name, as in the container and Service. */
  readonly name: string;
  /** Container port number. */
  readonly port: number;
}

/** What an engine's invocation is built from. */
export interface EngineArgsInput {
  /** The name the model is served as (OpenAI `model`, TF Serving `model_name`). */
  readonly modelName: string;
  /** A path under `/models` or a registry name, as the engine's `modelPassing` says. */
  readonly model: string;
  /** The kind of the model's source URI. */
  readonly sourceKind: SourceKind;
  /** The vendor the image is chosen for. */
  readonly vendor: EngineVendor;
  /** Engine settings (`spec.config`), without the download keys and checked against the engine's known keys. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** Records a problem with one config key; bound to the config field by the caller. */
export type ConfigReporter = (key: string, value: unknown, cause: string, fix: string) => void;

/** The container command, arguments and environment that start an engine. */
export interface EngineInvocation {
  /** Replaces the image's entrypoint; unset keeps it. */
  readonly command?: readonly string[];
  /** Container arguments. */
  readonly args: readonly string[];
  /** Environment variables, by name. */
  readonly env: Readonly<Record<string, string>>;
}

/** How an engine's server-side batching is configured. */
export interface EngineBatching {
  /** Flags added to the invocation. */
  readonly args: readonly string[];
  /** Files to mount into the container (ConfigMap), by absolute path. */
  readonly files: Readonly<Record<string, string>>;
  /** Lines to merge into the model's own configuration (Triton `config.pbtxt`), which the engine reads batching from. */
  readonly modelConfig?: string;
}

/** Tuning of server-side batching beyond the batch size. */
export interface BatchingOptions {
  /**
   * Longest wait for a batch to fill, in microseconds.
   * @default 1000 (TF Serving), 100 (Triton)
   */
  readonly timeoutMicros?: number;
  /**
   * Threads processing batches (TF Serving `num_batch_threads`).
   * @default 4
   */
  readonly threads?: number;
  /**
   * Batches queued before requests are refused (TF Serving `max_enqueued_batches`).
   * @default 100
   */
  readonly maxEnqueuedBatches?: number;
}

/** An inference engine: its images, ports, probes, and how a model and settings become its command line. */
export interface EngineSpec {
  /** Canonical name, as in FlexInfer `spec.backend` or KubeDL `spec.framework`. */
  readonly name: string;
  /** Other names it is found by (case is ignored). */
  readonly aliases?: readonly string[];
  /** Pinned image per vendor; only the vendors the engine publishes images for. */
  readonly images: Readonly<Partial<Record<EngineVendor, string>>>;
  /**
   * gfx targets the AMD image is built for.
   * @default - every target
   */
  readonly amdGfxTargets?: readonly string[];
  /**
   * Lowest NVIDIA compute capability the engine runs on (`major.minor`).
   * @default - any
   */
  readonly minComputeCapability?: string;
  /**
   * Engine-specific rules for a GPU product, reporting config keys that do not suit it.
   * @default - none
   */
  readonly checkGpu?: (gpu: GpuSpec, input: Pick<EngineArgsInput, 'modelName' | 'config'>, report: ConfigReporter) => void;
  /** The serving port. */
  readonly port: EnginePort;
  /** Other ports (gRPC, metrics). */
  readonly extraPorts?: readonly EnginePort[];
  /** HTTP liveness path on the serving port; a function of the served model name where the path holds it. */
  readonly healthPath: string | ((modelName: string) => string);
  /** HTTP readiness path on the serving port. */
  readonly readinessPath: string | ((modelName: string) => string);
  /**
   * Prometheus metrics, if the engine exposes them.
   * @default - no metrics
   */
  readonly metrics?: { readonly path: string; readonly port: number };
  /** Whether the model is passed as a path under `/models`, a registry name, or not at all. */
  readonly modelPassing: ModelPassing;
  /** Model sources the engine can serve from. */
  readonly sources: readonly SourceKind[];
  /**
   * Config keys the engine knows; any other key is an error.
   * @default - any key (free-form flags)
   */
  readonly configKeys?: readonly string[];
  /** Config keys inferkit sets itself (ports, model); giving them is an error. */
  readonly managedKeys?: readonly string[];
  /** Builds the command line; reports bad config values through `report`. */
  readonly invocation: (input: EngineArgsInput, report: ConfigReporter) => EngineInvocation;
  /**
   * Turns a batch size into the engine's own batching configuration.
   * @default - the engine batches on its own (continuous batching); a batch size is an error
   */
  readonly batching?: (batchSize: number, options: BatchingOptions) => EngineBatching;
}

/** How camelCase config keys become flags. */
export interface FlagStyle {
  /** `maxModelLen` becomes `--max-model-len` (kebab) or `--max_model_len` (snake). */
  readonly case: 'kebab' | 'snake';
  /**
   * `--flag=value`, with booleans as `=true` / `=false`; otherwise `--flag value`, true as `--flag` and false left out.
   * @default false
   */
  readonly equals?: boolean;
}

const kebab = (key: string) => key.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`);
const snake = (key: string) => key.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`);
const isScalar = (v: unknown): v is string | number => typeof v === 'string' || typeof v === 'number';
const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Maps config entries to flags, in key order. Lists become `--flag a b` and objects JSON text (vLLM's dict
 * options); neither exists in `equals` style. To turn off a vLLM option that is on by default, use its `no` form:
 * `noEnablePrefixCaching: true`.
 */
export function configFlags(config: Readonly<Record<string, unknown>>, report: ConfigReporter, style: FlagStyle = { case: 'kebab' }): string[] {
  const out: string[] = [];
  for (const key of Object.keys(config).sort()) {
    const value = config[key];
    const flag = `--${style.case === 'kebab' ? kebab(key) : snake(key)}`;
    if (typeof value === 'boolean') {
      if (style.equals) out.push(`${flag}=${value}`); else if (value) out.push(flag);
    } else if (isScalar(value)) {
      out.push(...(style.equals ? [`${flag}=${value}`] : [flag, String(value)]));
    } else if (!style.equals && Array.isArray(value) && value.every(isScalar)) {
      out.push(flag, ...value.map(String));
    } else if (!style.equals && isObject(value)) {
      out.push(flag, JSON.stringify(value));
    } else if (value !== undefined) {
      report(key, value, style.equals ? 'is not a string, number or boolean' : 'is not a string, number, boolean, list or object',
        `Give ${flag} a single value`);
    }
  }
  return out;
}

/** Maps config entries to environment variables: `numParallel` becomes `PREFIX_NUM_PARALLEL`. */
export function configEnv(config: Readonly<Record<string, unknown>>, report: ConfigReporter, prefix = ''): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of Object.keys(config).sort()) {
    const value = config[key];
    if (isScalar(value) || typeof value === 'boolean') env[`${prefix}${snake(key).toUpperCase()}`] = String(value);
    else if (value !== undefined) report(key, value, 'is not a string, number or boolean', 'Give a single value');
  }
  return env;
}

const HOST = '0.0.0.0';
/** Sources that end up as files under /models. */
const FILES = [SourceKind.HUGGING_FACE, SourceKind.FILE, SourceKind.PVC];

const vllm: EngineSpec = {
  name: 'vllm',
  // AMD's ROCm vLLM images lag upstream; this is a published tag, not the same vLLM version. They are built for
  // Instinct GPUs only: FlexInfer too runs other images on gfx110x and gfx906.
  images: { nvidia: 'vllm/vllm-openai:v0.11.0', amd: 'rocm/vllm:rocm6.4.1_vllm_0.9.0.1_20250605' },
  amdGfxTargets: ['gfx90a', 'gfx942'],
  minComputeCapability: '7.0',
  port: { name: 'http', port: 8000 },
  healthPath: '/health',
  readinessPath: '/health',
  metrics: { path: '/metrics', port: 8000 },
  modelPassing: ModelPassing.PATH,
  sources: FILES,
  managedKeys: ['model', 'servedModelName', 'host', 'port'],
  invocation: (i, report) => ({
    command: ['vllm', 'serve'],
    args: [i.model, '--served-model-name', i.modelName, '--host', HOST, '--port', '8000', ...configFlags(i.config, report)],
    env: {},
  }),
};

const sglang: EngineSpec = {
  name: 'sglang',
  images: { nvidia: 'lmsysorg/sglang:v0.5.5', amd: 'lmsysorg/sglang:v0.5.5.post3-rocm700-mi30x' },
  amdGfxTargets: ['gfx942'],
  port: { name: 'http', port: 30000 },
  healthPath: '/health',
  readinessPath: '/health',
  metrics: { path: '/metrics', port: 30000 },
  modelPassing: ModelPassing.PATH,
  sources: FILES,
  managedKeys: ['modelPath', 'servedModelName', 'host', 'port', 'enableMetrics'],
  invocation: (i, report) => ({
    command: ['python3', '-m', 'sglang.launch_server'],
    args: ['--model-path', i.model, '--served-model-name', i.modelName, '--host', HOST, '--port', '30000', '--enable-metrics',
      ...configFlags(i.config, report)],
    env: {},
  }),
};

const ollama: EngineSpec = {
  name: 'ollama',
  images: { nvidia: 'ollama/ollama:0.12.6', amd: 'ollama/ollama:0.12.6-rocm', cpu: 'ollama/ollama:0.12.6' },
  port: { name: 'http', port: 11434 },
  healthPath: '/',
  readinessPath: '/api/version',
  modelPassing: ModelPassing.NAME,
  sources: [SourceKind.OLLAMA],
  // Each becomes its OLLAMA_* variable: numParallel is OLLAMA_NUM_PARALLEL.
  configKeys: ['contextLength', 'flashAttention', 'keepAlive', 'kvCacheType', 'maxLoadedModels', 'numParallel'],
  // Pulled models live on the model volume, so a restart does not pull again.
  invocation: (i, report) => ({
    command: ['ollama'],
    args: ['serve'],
    env: { OLLAMA_HOST: `${HOST}:11434`, OLLAMA_MODELS: MODELS_MOUNT_PATH, ...configEnv(i.config, report, 'OLLAMA_') },
  }),
};

/** MLC JIT policies (`MLC_JIT_POLICY`). */
export const MLC_JIT_POLICIES: readonly string[] = ['ON', 'OFF', 'REDO', 'READONLY'];

/** Where FlexInfer expects a Maxwell model library compiled ahead of time: `/models/<modelName>/maxwell-lib.so`. */
export function mlcMaxwellLibPath(modelName: string): string {
  return `${MODELS_MOUNT_PATH}/${modelName}/maxwell-lib.so`;
}

const MLC_MODES = ['local', 'interactive', 'server'];

/** MLC engine settings passed in `--overrides`, as `snake_case=value` pairs. */
const MLC_OVERRIDES = ['contextWindowSize', 'gpuMemoryUtilization', 'maxNumSequence', 'maxTotalSeqLength', 'prefillChunkSize', 'tensorParallelShards'];

const mlcLlm: EngineSpec = {
  name: 'mlc-llm',
  aliases: ['mlc', 'mlc_llm'],
  // MLC publishes wheels, not serving images: give an image built with `mlc_llm`.
  images: {},
  port: { name: 'http', port: 8000 },
  healthPath: '/v1/models',
  readinessPath: '/v1/models',
  modelPassing: ModelPassing.PATH,
  sources: FILES,
  configKeys: ['mode', 'device', 'modelLibPath', 'jitPolicy', ...MLC_OVERRIDES],
  // The JIT cannot compile for Maxwell (no FP16), so a library compiled ahead of time must be loaded read-only.
  checkGpu: (gpu, i, report) => {
    if (!isMaxwell(gpu) || i.config.jitPolicy === 'READONLY') return;
    report('jitPolicy', i.config.jitPolicy, `must be 'READONLY' for mlc-llm on Maxwell GPU ${gpu.name}, which its JIT cannot compile for`,
      `Compile the model library for sm_${gpu.computeCapability!.replace('.', '')} (FP32 quantisation), put it at ${mlcMaxwellLibPath(i.modelName)} ` +
      'or set config.modelLibPath, and set config.jitPolicy to READONLY');
  },
  invocation: (i, report) => {
    const c = i.config;
    const args = [i.model, '--host', HOST, '--port', '8000'];
    if (c.mode !== undefined && !MLC_MODES.includes(c.mode as string)) report('mode', c.mode, 'is not an MLC serving mode', 'Use local, interactive or server');
    else if (c.mode !== undefined) args.push('--mode', String(c.mode));
    if (c.device !== undefined) args.push('--device', String(c.device));
    const jit = c.jitPolicy;
    if (jit !== undefined && !MLC_JIT_POLICIES.includes(jit as string)) report('jitPolicy', jit, 'is not an MLC JIT policy', 'Use ON, OFF, REDO or READONLY');
    // A read-only JIT cannot compile, so it needs a library: FlexInfer's conventional path unless one is given.
    const lib = c.modelLibPath ?? (jit === 'READONLY' ? mlcMaxwellLibPath(i.modelName) : undefined);
    if (lib !== undefined) args.push('--model-lib', String(lib));
    const overrides: string[] = [];
    for (const key of MLC_OVERRIDES.filter(k => c[k] !== undefined)) {
      if (isScalar(c[key])) overrides.push(`${snake(key)}=${c[key]}`); else report(key, c[key], 'is not a string or number', 'Give a single value');
    }
    if (overrides.length > 0) args.push('--overrides', overrides.join(';'));
    const env: Record<string, string> = jit === undefined ? {} : { MLC_JIT_POLICY: String(jit) };
    return { command: ['mlc_llm', 'serve'], args, env };
  },
};

const LLAMACPP_TAG = 'b9014';

/**
 * FlexInfer's llamacpp config keys that are not llama-server's flag names, and the flag each sets: `contextSize` is
 * `--ctx-size`, `nGPULayers` is `--n-gpu-layers`, `flashAttention: true` is `--flash-attn on`. `metrics` is
 * always on. Giving both a FlexInfer key and the flag's own is an error.
 */
export const LLAMACPP_FLEXINFER_KEYS: Readonly<Record<string, string>> = { contextSize: 'ctxSize', nGPULayers: 'nGpuLayers', flashAttention: 'flashAttn' };

function llamacppFlags(config: Readonly<Record<string, unknown>>, report: ConfigReporter): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const flag = LLAMACPP_FLEXINFER_KEYS[key];
    if (key === 'metrics' && value === true) continue;
    if (flag === undefined) {
      out[key] = value;
    } else if (config[flag] !== undefined) {
      report(key, value, `sets the same flag as ${flag}`, `Give one of ${key} and ${flag}`);
    } else {
      out[flag] = key === 'flashAttention' && typeof value === 'boolean' ? (value ? 'on' : 'off') : value;
    }
  }
  return out;
}

const llamacpp: EngineSpec = {
  name: 'llamacpp',
  aliases: ['llama.cpp', 'llama-cpp', 'llama_cpp'],
  images: {
    nvidia: `ghcr.io/ggml-org/llama.cpp:server-cuda-${LLAMACPP_TAG}`,
    amd: `ghcr.io/ggml-org/llama.cpp:server-rocm-${LLAMACPP_TAG}`,
    cpu: `ghcr.io/ggml-org/llama.cpp:server-${LLAMACPP_TAG}`,
  },
  port: { name: 'http', port: 8080 },
  healthPath: '/health',
  readinessPath: '/health',
  metrics: { path: '/metrics', port: 8080 },
  modelPassing: ModelPassing.PATH,
  sources: FILES,
  managedKeys: ['model', 'alias', 'host', 'port'],
  invocation: (i, report) => {
    const { ggufFile, mmproj, ...given } = i.config;
    const flags = llamacppFlags(given, report);
    // A Hugging Face repository holds many quants: which file to serve has to be named.
    if (i.sourceKind === SourceKind.HUGGING_FACE && ggufFile === undefined) {
      report('ggufFile', undefined, 'is required by llamacpp with an hf:// source', 'Name the GGUF file of the repository to serve, such as model-Q4_K_M.gguf');
    }
    const file = ggufFile === undefined ? i.model : `${i.model}/${String(ggufFile)}`;
    const gpuLayers = i.vendor === 'cpu' || flags.nGpuLayers !== undefined ? [] : ['--n-gpu-layers', '999'];
    return {
      args: ['--model', file, '--alias', i.modelName, '--host', HOST, '--port', '8080', '--metrics', ...gpuLayers,
        ...(mmproj === undefined ? [] : ['--mmproj', `${i.model}/${String(mmproj)}`]),
        ...configFlags(flags, report)],
      env: {},
    };
  },
};

const diffusers: EngineSpec = {
  name: 'diffusers',
  // Diffusers is a library: give a server image that reads MODEL_ID and PORT and answers GET /health.
  images: {},
  // FlexInfer rejects diffusers on Maxwell (5.x).
  minComputeCapability: '6.0',
  port: { name: 'http', port: 8000 },
  healthPath: '/health',
  readinessPath: '/health',
  modelPassing: ModelPassing.PATH,
  sources: FILES,
  managedKeys: ['modelId', 'port'],
  invocation: (i, report) => ({ args: [], env: { MODEL_ID: i.model, PORT: '8000', ...configEnv(i.config, report) } }),
};

const comfyui: EngineSpec = {
  name: 'comfyui',
  aliases: ['comfy', 'comfy-ui', 'comfy_ui'],
  // ComfyUI publishes no official image: give one whose working directory is the ComfyUI checkout.
  images: {},
  port: { name: 'http', port: 8188 },
  healthPath: '/system_stats',
  readinessPath: '/system_stats',
  modelPassing: ModelPassing.NONE,
  sources: FILES,
  managedKeys: ['listen', 'port'],
  invocation: (i, report) => ({ command: ['python', 'main.py'], args: ['--listen', HOST, '--port', '8188', ...configFlags(i.config, report)], env: {} }),
};

const vllmOmni: EngineSpec = {
  name: 'vllm-omni',
  aliases: ['vllm-diffusion', 'vllm_omni'],
  // The ROCm tag follows the vllm-omni release pipeline's naming; not checked for this version.
  images: { nvidia: 'vllm/vllm-omni:v0.14.0', amd: 'vllm/vllm-omni-rocm:v0.14.0' },
  minComputeCapability: '7.0',
  port: { name: 'http', port: 8000 },
  healthPath: '/health',
  readinessPath: '/health',
  metrics: { path: '/metrics', port: 8000 },
  modelPassing: ModelPassing.PATH,
  sources: FILES,
  managedKeys: ['model', 'servedModelName', 'host', 'port', 'omni'],
  // The image has no entrypoint.
  invocation: (i, report) => ({
    command: ['vllm', 'serve'],
    args: [i.model, '--omni', '--served-model-name', i.modelName, '--host', HOST, '--port', '8000', ...configFlags(i.config, report)],
    env: {},
  }),
};

/** Where the TF Serving batching parameters file is mounted. */
export const TF_SERVING_BATCHING_FILE = '/etc/inferkit/batching_parameters.txt';

const tfServing: EngineSpec = {
  name: 'TFServing',
  aliases: ['tensorflow-serving', 'tfserving'],
  images: { nvidia: 'tensorflow/serving:2.18.0-gpu', cpu: 'tensorflow/serving:2.18.0' },
  port: { name: 'http', port: 8501 },
  extraPorts: [{ name: 'grpc', port: 8500 }],
  healthPath: modelName => `/v1/models/${modelName}`,
  readinessPath: modelName => `/v1/models/${modelName}`,
  modelPassing: ModelPassing.PATH,
  sources: FILES,
  configKeys: ['enableModelWarmup', 'fileSystemPollWaitSeconds', 'perProcessGpuMemoryFraction', 'restApiNumThreads', 'restApiTimeoutInMs',
    'tensorflowInterOpParallelism', 'tensorflowIntraOpParallelism'],
  // The model base path holds numbered version directories (`<path>/1/saved_model.pb`).
  invocation: (i, report) => ({
    command: ['/usr/bin/tensorflow_model_server'],
    args: ['--port=8500', '--rest_api_port=8501', `--model_name=${i.modelName}`, `--model_base_path=${i.model}`,
      ...configFlags(i.config, report, { case: 'snake', equals: true })],
    env: {},
  }),
  batching: (batchSize, o) => ({
    args: ['--enable_batching=true', `--batching_parameters_file=${TF_SERVING_BATCHING_FILE}`],
    files: {
      [TF_SERVING_BATCHING_FILE]: [
        `max_batch_size { value: ${batchSize} }`,
        `batch_timeout_micros { value: ${o.timeoutMicros ?? 1000} }`,
        `num_batch_threads { value: ${o.threads ?? 4} }`,
        `max_enqueued_batches { value: ${o.maxEnqueuedBatches ?? 100} }`,
      ].join('\n') + '\n',
    },
  }),
};

const triton: EngineSpec = {
  name: 'Triton',
  aliases: ['triton-inference-server', 'tritonserver'],
  // The same image runs CPU-only models.
  images: { nvidia: 'nvcr.io/nvidia/tritonserver:25.06-py3', cpu: 'nvcr.io/nvidia/tritonserver:25.06-py3' },
  port: { name: 'http', port: 8000 },
  extraPorts: [{ name: 'grpc', port: 8001 }, { name: 'metrics', port: 8002 }],
  healthPath: '/v2/health/live',
  readinessPath: '/v2/health/ready',
  metrics: { path: '/metrics', port: 8002 },
  modelPassing: ModelPassing.PATH,
  sources: FILES,
  configKeys: ['bufferManagerThreadCount', 'exitOnError', 'logVerbose', 'pinnedMemoryPoolByteSize', 'repositoryPollSecs', 'strictReadiness'],
  // The path is a model repository holding a `<modelName>/` directory with its config.pbtxt; only that model is loaded.
  invocation: (i, report) => ({
    command: ['tritonserver'],
    args: [`--model-repository=${i.model}`, '--model-control-mode=explicit', `--load-model=${i.modelName}`,
      ...configFlags(i.config, report, { case: 'kebab', equals: true })],
    env: {},
  }),
  batching: (batchSize, o) => ({
    args: [],
    files: {},
    modelConfig: `max_batch_size: ${batchSize}\ndynamic_batching {\n  max_queue_delay_microseconds: ${o.timeoutMicros ?? 100}\n}\n`,
  }),
};

/**
 * A set of engines found by name or alias, ignoring case.
 *
 * @example new EngineRegistry(ENGINES.all()).register({ name: 'my-engine', ... })
 */
export class EngineRegistry {
  private readonly specs: EngineSpec[] = [];
  private readonly byKey = new Map<string, EngineSpec>();

  constructor(specs: readonly EngineSpec[] = []) {
    specs.forEach(s => this.register(s));
  }

  /** Adds an engine; throws if its name or an alias is taken. */
  public register(spec: EngineSpec): this {
    const keys = [spec.name, ...(spec.aliases ?? [])].map(k => k.toLowerCase());
    for (const key of keys) {
      const taken = this.byKey.get(key);
      if (taken) {
        throw new Error(`Unable to register engine ${show(spec.name)}: ${show(key)} already names engine ${show(taken.name)}. Choose another name or alias.`);
      }
    }
    keys.forEach(k => this.byKey.set(k, spec));
    this.specs.push(spec);
    return this;
  }

  /** The engine with this name or alias, ignoring case. */
  public get(nameOrAlias: string): EngineSpec | undefined {
    return this.byKey.get(nameOrAlias.toLowerCase());
  }

  /** Canonical names, in registration order. */
  public names(): string[] {
    return this.specs.map(s => s.name);
  }

  /** Every engine, in registration order. */
  public all(): EngineSpec[] {
    return [...this.specs];
  }
}

/** The built-in engines: those of FlexInfer's backend registry and KubeDL's frameworks. */
export const ENGINES = new EngineRegistry([vllm, sglang, ollama, mlcLlm, llamacpp, diffusers, comfyui, vllmOmni, tfServing, triton]);

const at = (field: string, name: string) => (field ? `${field}.${name}` : name);

/** Finds an engine, recording an issue naming the known engines when there is none. */
export function resolveEngine(issues: Issues, field: string, name: string, registry: EngineRegistry = ENGINES): EngineSpec | undefined {
  const engine = registry.get(name);
  issues.check(engine !== undefined, field, name, 'is not a known engine', `Use one of ${registry.names().join(', ')}, or register it`);
  return engine;
}

/** The engine's image for `vendor`, unless `image` overrides it. */
export function engineImage(engine: EngineSpec, vendor: EngineVendor, image?: string): string | undefined {
  return image ?? engine.images[vendor];
}

/** The probe and metrics paths of an engine serving `modelName`. */
export function enginePaths(engine: EngineSpec, modelName: string): { health: string; readiness: string; metrics?: string } {
  const path = (p: string | ((m: string) => string)) => (typeof p === 'string' ? p : p(modelName));
  return { health: path(engine.healthPath), readiness: path(engine.readinessPath), metrics: engine.metrics?.path };
}

/**
 * Builds an engine's invocation, recording an issue for a source it cannot serve, a config key it does not know
 * or that inferkit sets, and any bad value. Download keys (`SOURCE_CONFIG_KEYS`) are left out. `field` names the
 * spec holding `source` and `config`.
 */
export function engineInvocation(issues: Issues, field: string, engine: EngineSpec, input: EngineArgsInput): EngineInvocation {
  issues.check(engine.sources.includes(input.sourceKind), at(field, 'source'), input.sourceKind, `is not a source engine ${engine.name} can serve`,
    `Serve the model from ${engine.sources.map(s => `${s}://`).join(', ')}, or use another engine`);
  const config: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input.config)) {
    if (SOURCE_CONFIG_KEYS.includes(key)) continue;
    if (engine.managedKeys?.includes(key)) {
      issues.add(at(field, `config.${key}`), value, `is set by inferkit for engine ${engine.name}`, 'Remove it');
    } else if (engine.configKeys && !engine.configKeys.includes(key)) {
      issues.add(at(field, `config.${key}`), value, `is not a setting of engine ${engine.name}`, `Use one of ${engine.configKeys.join(', ')}`);
    } else {
      config[key] = value;
    }
  }
  return engine.invocation({ ...input, config }, (key, value, cause, fix) => issues.add(at(field, `config.${key}`), value, cause, fix));
}

/**
 * Turns a batch size (KubeDL `batching.batchSize`) into the engine's batching configuration, recording an issue
 * when the size is not a positive integer or the engine has no server-side batching to configure.
 */
export function engineBatching(
  issues: Issues, field: string, engine: EngineSpec, batchSize: number, options: BatchingOptions = {},
): EngineBatching | undefined {
  if (!issues.check(Number.isInteger(batchSize) && batchSize >= 1, field, batchSize, 'is not a positive whole batch size', 'Use 1 or more, such as 32')) return undefined;
  if (!engine.batching) {
    issues.add(field, batchSize, `cannot be configured for engine ${engine.name}, which batches continuously on its own`,
      'Remove the batch size, or use an engine with server-side batching such as TFServing or Triton');
    return undefined;
  }
  return engine.batching(batchSize, options);
}
