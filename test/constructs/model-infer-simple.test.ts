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
