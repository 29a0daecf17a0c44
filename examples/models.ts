// FlexInfer-style models (seed 002), one chart per scenario: the seed's minimal Ollama model, scale-to-zero
// vLLM, a llama.cpp GGUF model with a prefetch Job, a shared-GPU pair with priorities, vLLM on AMD ROCm,
// and mlc-llm on a Maxwell card with a precompiled library.
import { App, Chart, Duration, Size } from 'cdk8s';
import { CacheStrategy, Model, ModelSource } from '../index';

export function modelBasic(app: App): Chart {
  const chart = new Chart(app, 'model-basic', { namespace: 'models' });
  new Model(chart, 'llama3-8b', { backend: 'ollama', source: 'ollama://llama3:8b' });
  return chart;
}

export function modelScaleToZero(app: App): Chart {
  const chart = new Chart(app, 'model-scale-to-zero', { namespace: 'models' });
  new Model(chart, 'qwen-7b', {
    backend: 'vllm',
    source: ModelSource.huggingFace('Qwen/Qwen2.5-7B'),
    gpu: { product: 'L4' },
    config: { maxModelLen: 8192 },
    serverless: { idleTimeout: Duration.minutes(10), coldStartTimeout: Duration.minutes(3) },
    litellm: { aliases: ['qwen'] },
    serviceLabels: ['textgen'],
  });
  return chart;
}

export function modelGguf(app: App): Chart {
  const chart = new Chart(app, 'model-gguf', { namespace: 'models' });
  new Model(chart, 'llama-3b', {
    backend: 'llama.cpp',
    source: 'hf://bartowski/Llama-3.2-3B-Instruct-GGUF',
    gpu: { product: 'L4' },
    cache: { strategy: CacheStrategy.SHARED_PVC, size: Size.gibibytes(20) },
    config: { ggufFile: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf', ctxSize: 8192 },
  });
  return chart;
}

export function modelSharedGpu(app: App): Chart {
  const chart = new Chart(app, 'model-shared-gpu', { namespace: 'models' });
  new Model(chart, 'chat', { backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: { product: 'H100-80GB', shared: 'h100', priority: 100 } });
  new Model(chart, 'batch', { backend: 'vllm', source: 'hf://mistralai/Mistral-7B-v0.1', gpu: { product: 'H100-80GB', shared: 'h100', priority: 10 } });
  return chart;
}

export function modelAmdRocm(app: App): Chart {
  const chart = new Chart(app, 'model-amd-rocm', { namespace: 'models' });
  new Model(chart, 'llama3-70b', { backend: 'vllm', source: 'hf://meta-llama/Meta-Llama-3-70B', gpu: { vendor: 'amd', product: 'MI300X', count: 2 }, config: { tensorParallelSize: 2 } });
  return chart;
}

export function modelMaxwell(app: App): Chart {
  const chart = new Chart(app, 'model-maxwell', { namespace: 'models' });
  new Model(chart, 'phi-mlc', {
    backend: 'mlc-llm',
    // mlc-llm publishes no serving image: build one with the library compiled for sm_52.
    image: 'registry.example.com/mlc-llm-serve:sm52',
    source: 'pvc://models/phi-2-q0f32',
    gpu: { vendor: 'nvidia', product: 'GTX-980-Ti' },
    config: { jitPolicy: 'READONLY' },
  });
  return chart;
}

export const MODEL_EXAMPLES = { modelBasic, modelScaleToZero, modelGguf, modelSharedGpu, modelAmdRocm, modelMaxwell };

if (require.main === module) {
  const app = new App();
  for (const build of Object.values(MODEL_EXAMPLES)) build(app);
  app.synth();
}
