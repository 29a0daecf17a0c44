import { Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { GangScheduling, Model, ModelInfer, ModelInferProps } from '../../index';

type Obj = Record<string, any>;
const q = (v: string) => k8s.Quantity.fromString(v);

function synth(props: (model: Model) => Partial<ModelInferProps>, gpu = false): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'ml' });
  const model = gpu
    ? new Model(chart, 'custom-gpu-model', { backend: 'vllm', source: 'hf://org/model', gpu: { count: 1 } })
    : new Model(chart, 'llama-7b', { backend: 'ollama', source: 'ollama://llama2:7b' });
  new ModelInfer(chart, 'infer', { modelRef: model, ...props(model) });
  return Testing.synth(chart);
}
const find = (objs: Obj[], kind: string): Obj => objs.find(o => o.kind === kind)!;

describe('ModelInfer, simple form (Kthena seed 000)', () => {
  test('runs the Model\'s pods, replicas of them, with the ModelInfer\'s resources and labels', () => {
    const objs = synth(() => ({
      replicas: 2,
      resources: { requests: { memory: q('8Gi'), cpu: q('2') }, limits: { memory: q('16Gi'), cpu: q('4') } },
    }));
    const dep = find(objs, 'Deployment');
    expect(dep.metadata.name).toBe('llama-7b');
    expect(dep.spec.replicas).toBe(2);
    expect(dep.spec.template.spec.containers[0].resources).toEqual({ requests: { memory: '8Gi', cpu: '2' }, limits: { memory: '16Gi', cpu: '4' } });
    expect(dep.spec.template.metadata.labels).toMatchObject({
      'model.inferkit.dev/name': 'llama-7b', 'modelinfer.matrixinfer.ai/name': 'infer', 'modelinfer.matrixinfer.ai/revision': expect.stringMatching(/^[0-9a-f]{10}$/),
    });
    expect(objs.some(o => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
  });

  test('autoscaling renders an autoscaling/v2 HPA that owns the replica count', () => {
    const objs = synth(() => ({ replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 70 } }), true);
    expect(find(objs, 'Deployment').spec.replicas).toBeUndefined();
    expect(find(objs, 'HorizontalPodAutoscaler').metadata.annotations).toEqual({ 'autoscaling.inferkit.dev/initial-replicas': '1' });
    expect(find(objs, 'HorizontalPodAutoscaler').spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'custom-gpu-model' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    });
  });

  test('with prometheus, the autoscaler is a KEDA ScaledObject: Pods and External metrics become Prometheus queries', () => {
    const waiting: k8s.MetricSpecV2 = {
      type: 'Pods',
      pods: { metric: { name: 'vllm:num_requests_waiting', selector: { matchLabels: { model_name: 'qwen' } } }, target: { type: 'AverageValue', averageValue: q('500m') } },
    };
    const queue: k8s.MetricSpecV2 = { type: 'External', external: { metric: { name: 'queue_depth' }, target: { type: 'Value', value: q('30') } } };
    const objs = synth(() => ({
      autoscaling: { maxReplicas: 8, targetCPUUtilizationPercentage: 70, metrics: [waiting, queue], prometheus: { serverAddress: 'http://prometheus.monitoring:9090' } },
    }), true);
    expect(objs.some(o => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
    const so = find(objs, 'ScaledObject');
    expect(so.apiVersion).toBe('keda.sh/v1alpha1');
    expect(so.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'custom-gpu-model' },
      minReplicaCount: 1,
      maxReplicaCount: 8,
      triggers: [
        { type: 'cpu', metricType: 'Utilization', metadata: { value: '70' } },
        {
          type: 'prometheus',
          metricType: 'AverageValue',
          metadata: {
            serverAddress: 'http://prometheus.monitoring:9090',
            query: 'sum(vllm:num_requests_waiting{namespace="ml",pod=~"custom-gpu-model-[a-z0-9]+-[a-z0-9]+",model_name="qwen"})',
            threshold: '0.5',
          },
        },
        { type: 'prometheus', metricType: 'Value', metadata: { serverAddress: 'http://prometheus.monitoring:9090', query: 'sum(queue_depth{})', threshold: '30' } },
      ],
    });
    expect(find(objs, 'Deployment').spec.replicas).toBeUndefined();
  });

  test.each<[string, k8s.MetricSpecV2, string]>([
    ['an Object metric', { type: 'Object', object: { describedObject: { kind: 'Ingress', name: 'main' }, metric: { name: 'rps' }, target: { type: 'Value', value: q('10') } } },
      'autoscaling.metrics[0].type \'Object\' cannot be served by KEDA from Prometheus: an Object metric describes another Kubernetes object.'],
    ['a metric name Prometheus cannot have', { type: 'Pods', pods: { metric: { name: 'requests-waiting' }, target: { type: 'AverageValue', averageValue: q('1') } } },
      "autoscaling.metrics[0].metric.name 'requests-waiting' is not a Prometheus metric name. Give the series name, such as vllm:num_requests_waiting."],
    ['a Pods metric with a Value target', { type: 'Pods', pods: { metric: { name: 'waiting' }, target: { type: 'Value', value: q('1') } } },
      "autoscaling.metrics[0].target.type 'Value' is not AverageValue: a Pods metric is averaged over the pods. Use AverageValue."],
  ])('with prometheus, %s is refused', (_, metric, message) => {
    expect(() => synth(() => ({ autoscaling: { maxReplicas: 3, metrics: [metric], prometheus: { serverAddress: 'http://prom:9090' } } }), true)).toThrow(message);
  });

  test('with prometheus, a server address that is not http(s) is refused', () => {
    expect(() => synth(() => ({ autoscaling: { maxReplicas: 3, prometheus: { serverAddress: 'prom:9090' } } }), true)).toThrow(
      "Unable to synthesize test/infer: autoscaling.prometheus.serverAddress 'prom:9090' is not an http(s) address. Give the Prometheus HTTP API address, such as http://prometheus.monitoring:9090.");
  });

  test('placement: node selector merged, tolerations added, required node terms combined with the Model\'s GPU selection', () => {
    const objs = synth(() => ({
      nodeSelector: { accelerator: 'nvidia-tesla-v100' },
      tolerations: [{ key: 'inference-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'node-type', operator: 'In', values: ['inference'] }] }] } },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }] },
      },
    }), true);
    const p = find(objs, 'Deployment').spec.template.spec;
    expect(p.nodeSelector).toEqual({ accelerator: 'nvidia-tesla-v100' });
    expect(p.tolerations).toEqual([{ key: 'inference-node', operator: 'Equal', value: 'true', effect: 'NoSchedule' }]);
    expect(p.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([{
      matchExpressions: [{ key: 'node-type', operator: 'In', values: ['inference'] }, { key: 'nvidia.com/gpu.product', operator: 'Exists' }],
    }]);
    expect(p.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight).toBe(100);
  });

  test.each<[string, (m: Model) => Partial<ModelInferProps>, boolean, string]>([
    ['a GPU count that differs from the Model\'s', () => ({ resources: { limits: { 'nvidia.com/gpu': k8s.Quantity.fromNumber(2) } } }), true,
      'Unable to synthesize test/infer: resources.nvidia.com/gpu 2 differs from Model custom-gpu-model, which asks for 1 nvidia.com/gpu. Set GPUs on the Model, and remove them here or make them agree.'],
    ['roles beside modelRef', () => ({ roles: [{ name: 'serve', entryTemplate: {} }] }), false,
      'Unable to synthesize test/infer: roles belongs to the roles form, but modelRef selects the simple form. Remove roles, or remove modelRef and give roles.'],
    ['gang scheduling in the simple form', () => ({ gangScheduling: GangScheduling.volcano() }), false,
      'gangScheduling belongs to the roles form, but modelRef selects the simple form.'],
    ['an empty autoscaling range', () => ({ autoscaling: { minReplicas: 4, maxReplicas: 2 } }), false,
      'autoscaling {"minReplicas":4,"maxReplicas":2} is not a range of replicas. Use 1 <= minReplicas <= maxReplicas.'],
    ['replicas outside the autoscaling range', () => ({ replicas: 9, autoscaling: { maxReplicas: 5 } }), false,
      "replicas 9 is outside the autoscaler's range 1..5. Give a starting size within the range, or remove replicas."],
  ])('%s is refused', (_, props, gpu, message) => {
    expect(() => synth(props, gpu)).toThrow(message);
  });

  test('one Model cannot be run by two ModelInfers, nor by a ModelInfer when serverless', () => {
    const chart = new Chart(Testing.app(), 'test');
    const model = new Model(chart, 'llama-7b', { backend: 'ollama', source: 'ollama://llama2:7b' });
    new ModelInfer(chart, 'a', { modelRef: model });
    expect(() => new ModelInfer(chart, 'b', { modelRef: model })).toThrow("Unable to synthesize test/b: modelRef 'llama-7b' is already run by test/a. Reference each Model from one ModelInfer.");
    const lazy = new Model(chart, 'lazy', { backend: 'ollama', source: 'ollama://llama2:7b', serverless: {} });
    expect(() => new ModelInfer(chart, 'c', { modelRef: lazy })).toThrow("modelRef 'lazy' is serverless, so KEDA already owns its replica count.");
  });

  test('neither roles nor modelRef is an error', () => {
    expect(() => new ModelInfer(new Chart(Testing.app(), 'test'), 'x', {})).toThrow('Unable to synthesize test/x: roles is missing, and so is modelRef. Give roles (the roles form) or modelRef (the simple form).');
  });
});
