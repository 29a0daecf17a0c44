import {
  configFlags, EngineArgsInput, engineBatching, engineImage, engineInvocation, EngineInvocation, enginePaths, EngineRegistry, EngineSpec, ENGINES,
  formatIssue, Issues, ModelPassing, resolveEngine, SourceKind, TF_SERVING_BATCHING_FILE,
} from '../../src';

const engine = (name: string) => ENGINES.get(name)!;
const input = (extra: Partial<EngineArgsInput> = {}): EngineArgsInput =>
  ({ modelName: 'llama3-8b', model: '/models/llama3-8b', sourceKind: SourceKind.HUGGING_FACE, vendor: 'nvidia', config: {}, ...extra });

function invoke(name: string, extra: Partial<EngineArgsInput> = {}): { invocation: EngineInvocation; errors: string[] } {
  const issues = new Issues('Model/llama3-8b');
  const invocation = engineInvocation(issues, 'spec', engine(name), input(extra));
  return { invocation, errors: issues.all.map(formatIssue) };
}

function errorsOf(check: (issues: Issues) => unknown): string[] {
  const issues = new Issues('Model/llama3-8b');
  check(issues);
  return issues.all.map(formatIssue);
}

describe('the engine registry', () => {
  test('holds FlexInfer backends and KubeDL frameworks, in order', () => {
    expect(ENGINES.names()).toEqual(['vllm', 'sglang', 'ollama', 'mlc-llm', 'llamacpp', 'diffusers', 'comfyui', 'vllm-omni', 'TFServing', 'Triton']);
  });

  test.each([
    ['VLLM', 'vllm'], ['mlc', 'mlc-llm'], ['llama.cpp', 'llamacpp'], ['tensorflow-serving', 'TFServing'], ['TFSERVING', 'TFServing'],
    ['tfserving', 'TFServing'], ['triton', 'Triton'], ['comfy', 'comfyui'],
    // FlexInfer's backend registry aliases.
    ['llama-cpp', 'llamacpp'], ['llama_cpp', 'llamacpp'], ['mlc_llm', 'mlc-llm'], ['comfy-ui', 'comfyui'], ['comfy_ui', 'comfyui'],
    ['vllm-diffusion', 'vllm-omni'], ['vllm_omni', 'vllm-omni'],
  ])('finds %s as %s', (key, name) => {
    expect(ENGINES.get(key)?.name).toBe(name);
  });

  test.each<[string, Partial<Record<string, string>>, number, string, string, string | undefined, ModelPassing]>([
    ['vllm', { nvidia: 'vllm/vllm-openai:v0.11.0', amd: 'rocm/vllm:rocm6.4.1_vllm_0.9.0.1_20250605' }, 8000, '/health', '/health', '/metrics', ModelPassing.PATH],
    ['sglang', { nvidia: 'lmsysorg/sglang:v0.5.5', amd: 'lmsysorg/sglang:v0.5.5.post3-rocm700-mi30x' }, 30000, '/health', '/health', '/metrics', ModelPassing.PATH],
    ['ollama', { nvidia: 'ollama/ollama:0.12.6', amd: 'ollama/ollama:0.12.6-rocm', cpu: 'ollama/ollama:0.12.6' }, 11434, '/', '/api/version', undefined,
      ModelPassing.NAME],
    ['mlc-llm', {}, 8000, '/v1/models', '/v1/models', undefined, ModelPassing.PATH],
    ['llamacpp', {
      nvidia: 'ghcr.io/ggml-org/llama.cpp:server-cuda-b9014',
      amd: 'ghcr.io/ggml-org/llama.cpp:server-rocm-b9014',
      cpu: 'ghcr.io/ggml-org/llama.cpp:server-b9014',
    }, 8080, '/health', '/health', '/metrics', ModelPassing.PATH],
    ['diffusers', {}, 8000, '/health', '/health', undefined, ModelPassing.PATH],
    ['comfyui', {}, 8188, '/system_stats', '/system_stats', undefined, ModelPassing.NONE],
    ['vllm-omni', { nvidia: 'vllm/vllm-omni:v0.14.0', amd: 'vllm/vllm-omni-rocm:v0.14.0' }, 8000, '/health', '/health', '/metrics', ModelPassing.PATH],
    ['TFServing', { nvidia: 'tensorflow/serving:2.18.0-gpu', cpu: 'tensorflow/serving:2.18.0' }, 8501, '/v1/models/llama3-8b', '/v1/models/llama3-8b',
      undefined, ModelPassing.PATH],
    ['Triton', { nvidia: 'nvcr.io/nvidia/tritonserver:25.06-py3', cpu: 'nvcr.io/nvidia/tritonserver:25.06-py3' }, 8000, '/v2/health/live',
      '/v2/health/ready', '/metrics', ModelPassing.PATH],
  ])('%s: images, port, probes, metrics, model passing', (name, images, port, health, readiness, metrics, passing) => {
    const e = engine(name);
    expect(e.images).toEqual(images);
    expect(e.port).toEqual({ name: 'http', port });
    expect(enginePaths(e, 'llama3-8b')).toEqual({ health, readiness, metrics });
    expect(e.modelPassing).toBe(passing);
  });

  test('gRPC and metrics ports of the KubeDL frameworks', () => {
    expect(engine('TFServing').extraPorts).toEqual([{ name: 'grpc', port: 8500 }]);
    expect(engine('Triton').extraPorts).toEqual([{ name: 'grpc', port: 8001 }, { name: 'metrics', port: 8002 }]);
    expect(engine('Triton').metrics).toEqual({ path: '/metrics', port: 8002 });
  });

  test.each(['vllm', 'sglang', 'ollama', 'llamacpp', 'vllm-omni'])('%s has a ROCm image for AMD GPUs, distinct from its CUDA one', name => {
    const e = engine(name);
    expect(engineImage(e, 'amd')).toMatch(/rocm/);
    expect(engineImage(e, 'amd')).not.toBe(engineImage(e, 'nvidia'));
  });

  test('the ROCm vLLM image is built for Instinct GPUs only (FlexInfer runs other images on gfx110x)', () => {
    expect(engine('vllm').amdGfxTargets).toEqual(['gfx90a', 'gfx942']);
  });

  test('an image override wins over the engine image', () => {
    expect(engineImage(engine('vllm'), 'nvidia')).toBe('vllm/vllm-openai:v0.11.0');
    expect(engineImage(engine('vllm'), 'cpu')).toBeUndefined();
    expect(engineImage(engine('mlc-llm'), 'nvidia', 'registry.example/mlc:cuda')).toBe('registry.example/mlc:cuda');
  });

  test('an unknown engine names the known ones', () => {
    expect(errorsOf(i => resolveEngine(i, 'spec.backend', 'tgi'))).toEqual([
      "Unable to synthesize Model/llama3-8b: spec.backend 'tgi' is not a known engine. Use one of vllm, sglang, ollama, mlc-llm, llamacpp, diffusers, " +
        'comfyui, vllm-omni, TFServing, Triton, or register it.',
    ]);
  });
});

describe('invocations', () => {
  test('vllm: model path, served name, and camelCase config as kebab-case flags in key order', () => {
    const { invocation, errors } = invoke('vllm', {
      config: {
        maxModelLen: 8192,
        gpuMemoryUtilization: 0.9,
        enablePrefixCaching: true,
        enforceEager: false,
        speculativeConfig: { method: 'ngram', num_speculative_tokens: 4 },
        allowedOrigins: ['https://a', 'https://b'],
        hfRevision: 'main',
        hfAllowPatterns: ['*.safetensors'],
      },
    });
    expect(errors).toEqual([]);
    expect(invocation).toEqual({
      command: ['vllm', 'serve'],
      args: ['/models/llama3-8b', '--served-model-name', 'llama3-8b', '--host', '0.0.0.0', '--port', '8000',
        '--allowed-origins', 'https://a', 'https://b', '--enable-prefix-caching', '--gpu-memory-utilization', '0.9', '--max-model-len', '8192',
        '--speculative-config', '{"method":"ngram","num_speculative_tokens":4}'],
      env: {},
    });
  });

  test('sglang: model path, metrics on', () => {
    expect(invoke('sglang', { config: { tpSize: 2, memFractionStatic: 0.85 } }).invocation).toEqual({
      command: ['python3', '-m', 'sglang.launch_server'],
      args: ['--model-path', '/models/llama3-8b', '--served-model-name', 'llama3-8b', '--host', '0.0.0.0', '--port', '30000', '--enable-metrics',
        '--mem-fraction-static', '0.85', '--tp-size', '2'],
      env: {},
    });
  });

  test('ollama: settings as OLLAMA_* variables, models kept on the model volume', () => {
    const { invocation, errors } = invoke('ollama', { model: 'llama3:8b', sourceKind: SourceKind.OLLAMA, config: { numParallel: 4, keepAlive: '-1', flashAttention: true } });
    expect(errors).toEqual([]);
    expect(invocation).toEqual({
      command: ['ollama'],
      args: ['serve'],
      env: { OLLAMA_HOST: '0.0.0.0:11434', OLLAMA_MODELS: '/models', OLLAMA_FLASH_ATTENTION: 'true', OLLAMA_KEEP_ALIVE: '-1', OLLAMA_NUM_PARALLEL: '4' },
    });
  });

  test('mlc-llm: the seed config, with engine settings in --overrides', () => {
    expect(invoke('mlc', { config: { mode: 'server', maxNumSequence: 4, prefillChunkSize: 1024 } }).invocation).toEqual({
      command: ['mlc_llm', 'serve'],
      args: ['/models/llama3-8b', '--host', '0.0.0.0', '--port', '8000', '--mode', 'server', '--overrides', 'max_num_sequence=4;prefill_chunk_size=1024'],
      env: {},
    });
  });

  test('mlc-llm: a read-only JIT loads the Maxwell library from its conventional path unless one is given', () => {
    expect(invoke('mlc-llm', { config: { jitPolicy: 'READONLY' } }).invocation).toEqual({
      command: ['mlc_llm', 'serve'],
      args: ['/models/llama3-8b', '--host', '0.0.0.0', '--port', '8000', '--model-lib', '/models/llama3-8b/maxwell-lib.so'],
      env: { MLC_JIT_POLICY: 'READONLY' },
    });
    expect(invoke('mlc-llm', { config: { jitPolicy: 'READONLY', modelLibPath: '/models/lib/cuda.so' } }).invocation.args)
      .toEqual(['/models/llama3-8b', '--host', '0.0.0.0', '--port', '8000', '--model-lib', '/models/lib/cuda.so']);
  });

  test('llamacpp: the chosen GGUF file, its projector, every layer on the GPU', () => {
    expect(invoke('llama.cpp', { config: { ggufFile: 'model-Q4_K_M.gguf', mmproj: 'mmproj-f16.gguf', ctxSize: 8192, flashAttn: 'on' } }).invocation).toEqual({
      args: ['--model', '/models/llama3-8b/model-Q4_K_M.gguf', '--alias', 'llama3-8b', '--host', '0.0.0.0', '--port', '8080', '--metrics',
        '--n-gpu-layers', '999', '--mmproj', '/models/llama3-8b/mmproj-f16.gguf', '--ctx-size', '8192', '--flash-attn', 'on'],
      env: {},
    });
  });

  test('llamacpp: FlexInfer\'s config keys become llama-server\'s flags', () => {
    const file = { sourceKind: SourceKind.FILE, model: '/models/m.gguf' };
    expect(invoke('llamacpp', { ...file, config: { contextSize: 4096, nGPULayers: 999, batchSize: 512, flashAttention: true, metrics: true } }).invocation.args)
      .toEqual(['--model', '/models/m.gguf', '--alias', 'llama3-8b', '--host', '0.0.0.0', '--port', '8080', '--metrics',
        '--batch-size', '512', '--ctx-size', '4096', '--flash-attn', 'on', '--n-gpu-layers', '999']);
    expect(invoke('llamacpp', { ...file, config: { contextSize: 4096, ctxSize: 2048 } }).errors).toEqual([
      'Unable to synthesize Model/llama3-8b: spec.config.contextSize 4096 sets the same flag as ctxSize. Give one of contextSize and ctxSize.',
    ]);
  });

  test('llamacpp: no GPU layers on CPU; a given layer count is kept', () => {
    const file = { sourceKind: SourceKind.FILE, model: '/models/m.gguf' };
    expect(invoke('llamacpp', { ...file, vendor: 'cpu' }).invocation.args).toEqual(['--model', '/models/m.gguf', '--alias', 'llama3-8b', '--host', '0.0.0.0',
      '--port', '8080', '--metrics']);
    expect(invoke('llamacpp', { ...file, config: { nGpuLayers: 20 } }).invocation.args).toEqual(['--model', '/models/m.gguf', '--alias', 'llama3-8b',
      '--host', '0.0.0.0', '--port', '8080', '--metrics', '--n-gpu-layers', '20']);
  });

  test('diffusers: model and settings as environment variables for the server image', () => {
    expect(invoke('diffusers', { config: { numInferenceSteps: 30, useFp16: true } }).invocation).toEqual({
      args: [],
      env: { MODEL_ID: '/models/llama3-8b', PORT: '8000', NUM_INFERENCE_STEPS: '30', USE_FP16: 'true' },
    });
  });

  test('comfyui: listens on all addresses, flags from config', () => {
    expect(invoke('comfyui', { config: { enableCorsHeader: true, outputDirectory: '/cache/output' } }).invocation).toEqual({
      command: ['python', 'main.py'],
      args: ['--listen', '0.0.0.0', '--port', '8188', '--enable-cors-header', '--output-directory', '/cache/output'],
      env: {},
    });
  });

  test('vllm-omni: vllm serve with --omni', () => {
    expect(invoke('vllm-omni').invocation).toEqual({
      command: ['vllm', 'serve'],
      args: ['/models/llama3-8b', '--omni', '--served-model-name', 'llama3-8b', '--host', '0.0.0.0', '--port', '8000'],
      env: {},
    });
  });

  test('TFServing: the seed flags, known settings as snake_case flags', () => {
    expect(invoke('TFServing', { modelName: 'mnist', model: '/models/mnist', config: { restApiNumThreads: 8, enableModelWarmup: false } }).invocation).toEqual({
      command: ['/usr/bin/tensorflow_model_server'],
      args: ['--port=8500', '--rest_api_port=8501', '--model_name=mnist', '--model_base_path=/models/mnist', '--enable_model_warmup=false',
        '--rest_api_num_threads=8'],
      env: {},
    });
  });

  test('Triton: the model repository, only the served model loaded', () => {
    expect(invoke('Triton', { modelName: 'resnet', model: '/models/repository', config: { logVerbose: 1 } }).invocation).toEqual({
      command: ['tritonserver'],
      args: ['--model-repository=/models/repository', '--model-control-mode=explicit', '--load-model=resnet', '--log-verbose=1'],
      env: {},
    });
  });

  test.each<[string, string, Partial<EngineArgsInput>, string[]]>([
    ['a setting of an engine with fixed flags', 'TFServing', { config: { batchSize: 32 } },
      ['Unable to synthesize Model/llama3-8b: spec.config.batchSize 32 is not a setting of engine TFServing. Use one of enableModelWarmup, ' +
        'fileSystemPollWaitSeconds, perProcessGpuMemoryFraction, restApiNumThreads, restApiTimeoutInMs, tensorflowInterOpParallelism, tensorflowIntraOpParallelism.']],
    ['an Ollama setting it does not know', 'ollama', { sourceKind: SourceKind.OLLAMA, config: { gpuLayers: 10 } },
      ['Unable to synthesize Model/llama3-8b: spec.config.gpuLayers 10 is not a setting of engine ollama. Use one of contextLength, flashAttention, keepAlive, ' +
        'kvCacheType, maxLoadedModels, numParallel.']],
    ['a setting inferkit owns', 'vllm', { config: { port: 9000 } },
      ['Unable to synthesize Model/llama3-8b: spec.config.port 9000 is set by inferkit for engine vllm. Remove it.']],
    ['a source the engine cannot serve', 'vllm', { sourceKind: SourceKind.OLLAMA },
      ["Unable to synthesize Model/llama3-8b: spec.source 'ollama' is not a source engine vllm can serve. Serve the model from hf://, file://, pvc://, or use another engine."]],
    ['an Ollama model from Hugging Face', 'ollama', {},
      ["Unable to synthesize Model/llama3-8b: spec.source 'hf' is not a source engine ollama can serve. Serve the model from ollama://, or use another engine."]],
    ['a value that is no flag', 'vllm', { config: { maxModelLen: null } },
      ['Unable to synthesize Model/llama3-8b: spec.config.maxModelLen null is not a string, number, boolean, list or object. Give --max-model-len a single value.']],
    ['a list where TF Serving takes one value', 'TFServing', { config: { restApiNumThreads: [1, 2] } },
      ['Unable to synthesize Model/llama3-8b: spec.config.restApiNumThreads [1,2] is not a string, number or boolean. Give --rest_api_num_threads a single value.']],
    ['a list where Ollama takes one value', 'ollama', { sourceKind: SourceKind.OLLAMA, config: { numParallel: [4] } },
      ['Unable to synthesize Model/llama3-8b: spec.config.numParallel [4] is not a string, number or boolean. Give a single value.']],
    ['a GGUF repository without the file to serve', 'llamacpp', {},
      ['Unable to synthesize Model/llama3-8b: spec.config.ggufFile is required by llamacpp with an hf:// source. Name the GGUF file of the repository ' +
        'to serve, such as model-Q4_K_M.gguf.']],
    ['an MLC mode and JIT policy that do not exist', 'mlc-llm', { config: { mode: 'serve', jitPolicy: 'readonly' } },
      ["Unable to synthesize Model/llama3-8b: spec.config.mode 'serve' is not an MLC serving mode. Use local, interactive or server.",
        "Unable to synthesize Model/llama3-8b: spec.config.jitPolicy 'readonly' is not an MLC JIT policy. Use ON, OFF, REDO or READONLY."]],
    ['an MLC override that is not one value', 'mlc-llm', { config: { maxNumSequence: { n: 4 } } },
      ['Unable to synthesize Model/llama3-8b: spec.config.maxNumSequence {"n":4} is not a string or number. Give a single value.']],
  ])('reports %s', (_, name, extra, expected) => {
    expect(invoke(name, extra).errors).toEqual(expected);
  });
});

describe('batching', () => {
  test('TF Serving: a batching parameters file and the flags that read it', () => {
    const issues = new Issues('Inference/hello');
    expect(engineBatching(issues, 'predictors[0].batching.batchSize', engine('tfserving'), 32)).toEqual({
      args: ['--enable_batching=true', `--batching_parameters_file=${TF_SERVING_BATCHING_FILE}`],
      files: {
        '/etc/inferkit/batching_parameters.txt':
          'max_batch_size { value: 32 }\nbatch_timeout_micros { value: 1000 }\nnum_batch_threads { value: 4 }\nmax_enqueued_batches { value: 100 }\n',
      },
    });
    expect(engineBatching(issues, 'b', engine('tfserving'), 64, { timeoutMicros: 0, threads: 8, maxEnqueuedBatches: 1000 })?.files[TF_SERVING_BATCHING_FILE])
      .toBe('max_batch_size { value: 64 }\nbatch_timeout_micros { value: 0 }\nnum_batch_threads { value: 8 }\nmax_enqueued_batches { value: 1000 }\n');
    expect(issues.all).toEqual([]);
  });

  test('Triton: max_batch_size and dynamic_batching for the model configuration', () => {
    expect(engineBatching(new Issues('i'), 'b', engine('triton'), 16)).toEqual({
      args: [],
      files: {},
      modelConfig: 'max_batch_size: 16\ndynamic_batching {\n  max_queue_delay_microseconds: 100\n}\n',
    });
  });

  test.each([
    ['vllm', 32, 'Unable to synthesize Inference/hello: predictors[0].batching.batchSize 32 cannot be configured for engine vllm, which batches continuously ' +
      'on its own. Remove the batch size, or use an engine with server-side batching such as TFServing or Triton.'],
    ['TFServing', 0, 'Unable to synthesize Inference/hello: predictors[0].batching.batchSize 0 is not a positive whole batch size. Use 1 or more, such as 32.'],
  ])('%s with batch size %d is refused', (name, size, message) => {
    const issues = new Issues('Inference/hello');
    expect(engineBatching(issues, 'predictors[0].batching.batchSize', engine(name), size)).toBeUndefined();
    expect(issues.all.map(formatIssue)).toEqual([message]);
  });
});

describe('custom engines', () => {
  const tgi: EngineSpec = {
    name: 'tgi',
    aliases: ['text-generation-inference'],
    images: { nvidia: 'ghcr.io/huggingface/text-generation-inference:3.3.4' },
    port: { name: 'http', port: 80 },
    healthPath: '/health',
    readinessPath: '/health',
    metrics: { path: '/metrics', port: 80 },
    modelPassing: ModelPassing.PATH,
    sources: [SourceKind.HUGGING_FACE],
    configKeys: ['maxInputTokens'],
    invocation: (i, report) => ({ args: ['--model-id', i.model, '--port', '80', ...configFlags(i.config, report)], env: {} }),
  };

  test('register alongside the built-in engines and get the same checks', () => {
    const registry = new EngineRegistry(ENGINES.all()).register(tgi);
    expect(registry.get('Text-Generation-Inference')).toBe(tgi);
    expect(registry.names()).toHaveLength(11);
    expect(ENGINES.get('tgi')).toBeUndefined();
    const issues = new Issues('Model/m');
    expect(engineInvocation(issues, '', registry.get('tgi')!, input({ config: { maxInputTokens: 4096, dtype: 'bf16' } })).args)
      .toEqual(['--model-id', '/models/llama3-8b', '--port', '80', '--max-input-tokens', '4096']);
    expect(issues.all.map(formatIssue)).toEqual(["Unable to synthesize Model/m: config.dtype 'bf16' is not a setting of engine tgi. Use one of maxInputTokens."]);
  });

  test('a name or alias that is taken is refused', () => {
    expect(() => new EngineRegistry(ENGINES.all()).register({ ...tgi, aliases: ['MLC'] }))
      .toThrow("Unable to register engine 'tgi': 'mlc' already names engine 'mlc-llm'. Choose another name or alias.");
  });
});
