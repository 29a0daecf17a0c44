// Kthena's simple ModelInfer form (seed 000) as constructs: a ModelInfer runs a Model's pods with its own
// replica count or autoscaler, resources and placement. One chart per seed example.
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Model, ModelInfer } from '../index';

const q = (v: string) => k8s.Quantity.fromString(v);

export function simpleBasic(app: App): Chart {
  const chart = new Chart(app, 'modelinfer-simple-basic', { namespace: 'default' });
  const model = new Model(chart, 'llama-7b', { backend: 'ollama', source: 'ollama://llama2:7b' });
  new ModelInfer(chart, 'llama-7b-infer', {
    modelRef: model,
    replicas: 2,
    resources: { requests: { memory: q('8Gi'), cpu: q('2') }, limits: { memory: q('16Gi'), cpu: q('4') } },
  });
  return chart;
}

export function simpleGpuAutoscaling(app: App): Chart {
  const chart = new Chart(app, 'modelinfer-simple-gpu-autoscaling', { namespace: 'ml-models' });
  const model = new Model(chart, 'custom-gpu-model', {
    backend: 'vllm',
    source: 'hf://mistralai/Mistral-7B-Instruct-v0.3',
    gpu: { vendor: 'nvidia', count: 1 },
    // The toleration FlexInfer's controller gives GPU pods, so that the manifest's Model loads to the same objects.
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
  });
  new ModelInfer(chart, 'gpu-model-infer', {
    modelRef: model,
    replicas: 1,
    autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 70 },
    resources: {
      requests: { 'memory': q('16Gi'), 'cpu': q('4'), 'nvidia.com/gpu': q('1') },
      limits: { 'memory': q('32Gi'), 'cpu': q('8'), 'nvidia.com/gpu': q('1') },
    },
    nodeSelector: { accelerator: 'nvidia-tesla-v100' },
  });
  return chart;
}

export function simpleAdvanced(app: App): Chart {
  const chart = new Chart(app, 'modelinfer-simple-advanced', { namespace: 'production' });
  const model = new Model(chart, 'production-model', { backend: 'ollama', source: 'ollama://qwen2.5:7b' });
  new ModelInfer(chart, 'production-infer', {
    modelRef: model,
    replicas: 3,
    autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 10, targetCPUUtilizationPercentage: 60 },
    resources: { requests: { memory: q('4Gi'), cpu: q('2') }, limits: { memory: q('8Gi'), cpu: q('4') } },
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-type', operator: 'In', values: ['inference'] }] }] },
      },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{
          weight: 100,
          podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['production-infer'] }] }, topologyKey: 'kubernetes.io/hostname' },
        }],
      },
    },
    tolerations: [{ key: 'inference-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
  });
  return chart;
}

/**
 * Scaling on the engine's queue: vLLM's `vllm:num_requests_waiting`, averaged per pod, read from Prometheus by KEDA
 * (a cluster without a custom-metrics adapter cannot feed it to an HPA).
 */
export function simpleQueueAutoscaling(app: App): Chart {
  const chart = new Chart(app, 'modelinfer-simple-queue-autoscaling', { namespace: 'ml-models' });
  const model = new Model(chart, 'qwen-queue', { backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B-Instruct', gpu: { vendor: 'nvidia', count: 1 } });
  new ModelInfer(chart, 'qwen-queue-infer', {
    modelRef: model,
    autoscaling: {
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ type: 'Pods', pods: { metric: { name: 'vllm:num_requests_waiting' }, target: { type: 'AverageValue', averageValue: q('5') } } }],
      prometheus: { serverAddress: 'http://prometheus.monitoring:9090' },
    },
  });
  return chart;
}

export const SIMPLE_MODEL_INFER_EXAMPLES = { simpleBasic, simpleGpuAutoscaling, simpleAdvanced, simpleQueueAutoscaling };

if (require.main === module) {
  const app = new App();
  for (const build of Object.values(SIMPLE_MODEL_INFER_EXAMPLES)) build(app);
  app.synth();
}
