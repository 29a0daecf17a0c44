// Kthena's user surface beyond ModelInfer, as constructs: a registry Model with two backends and LoRA adapters behind
// its ModelServers and a ModelRoute splitting 80/20, and an AutoscalingPolicy bound to a simple-form ModelInfer.
import { App, Chart, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { AutoscalingPolicy, KthenaEngine, KthenaModel, LoraLoading, ModelInfer, ScaleTarget } from '../index';

const q = (v: string) => k8s.Quantity.fromString(v);
const onProduct = (product: string): k8s.Affinity => ({
  nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'nvidia.com/gpu.product', operator: 'In', values: [product] }] }] } },
});

/** Two vLLM backends (H100 and L4) of one model with two LoRA adapters, routed 80/20 through a Gateway. */
export function kthenaLoraModel(app: App): Chart {
  const chart = new Chart(app, 'kthena-lora-model', { namespace: 'kthena' });
  new KthenaModel(chart, 'qwen', {
    modelName: 'qwen2-5',
    backends: [
      {
        name: 'h100',
        engine: KthenaEngine.VLLM,
        modelUri: 'hf://Qwen/Qwen2.5-7B-Instruct',
        config: { 'max-model-len': 8192, 'max-loras': 2 },
        resources: { limits: { 'nvidia.com/gpu': q('1') } },
        affinity: onProduct('NVIDIA-H100-80GB-HBM3'),
        routeWeight: 80,
        loraAdapters: [
          { name: 'sql-lora', artifactUrl: 'hf://org/qwen2.5-7b-sql-lora' },
          { name: 'support-lora', artifactUrl: 'hf://org/qwen2.5-7b-support-lora', loading: LoraLoading.RUNTIME },
        ],
      },
      {
        name: 'l4',
        engine: KthenaEngine.VLLM,
        modelUri: 'hf://Qwen/Qwen2.5-7B-Instruct',
        config: { 'max-model-len': 4096 },
        resources: { limits: { 'nvidia.com/gpu': q('1') } },
        affinity: onProduct('NVIDIA-L4'),
        routeWeight: 20,
        loraAdapters: [{ name: 'sql-lora', artifactUrl: 'hf://org/qwen2.5-7b-sql-lora' }],
      },
    ],
    gateways: [{ name: 'inference-gateway' }],
  });
  return chart;
}

/** Seed 000's simple ModelInfer running a Kthena Model, scaled by an AutoscalingPolicy with a panic mode. */
export function kthenaAutoscaledInfer(app: App): Chart {
  const chart = new Chart(app, 'kthena-autoscaled-infer', { namespace: 'kthena' });
  const model = new KthenaModel(chart, 'llama', {
    backends: [{
      name: 'vllm',
      engine: KthenaEngine.VLLM,
      modelUri: 'hf://meta-llama/Llama-3.1-8B-Instruct',
      resources: { limits: { 'nvidia.com/gpu': q('1') } },
      affinity: onProduct('NVIDIA-L4'),
    }],
  });
  const infer = new ModelInfer(chart, 'llama-infer', {
    modelRef: model,
    resources: { requests: { cpu: q('2'), memory: q('8Gi') } },
  });
  new AutoscalingPolicy(chart, 'llama-infer-scaling', {
    target: ScaleTarget.modelInfer(infer),
    minReplicas: 1,
    maxReplicas: 4,
    metrics: [{ name: 'vllm:num_requests_waiting', targetValue: '5' }],
    scaleUp: { instances: 2, percent: 100, period: Duration.seconds(15) },
    panic: { percent: 500, period: Duration.seconds(10), hold: Duration.minutes(3) },
    scaleDown: { instances: 1, period: Duration.seconds(30), stabilizationWindow: Duration.minutes(2) },
  });
  return chart;
}

export const KTHENA_EXAMPLES = { kthenaLoraModel, kthenaAutoscaledInfer };
