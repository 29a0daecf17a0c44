import { Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { InferenceService, InferenceServiceProps, PredictorProps } from '../../index';

type Obj = Record<string, any>;

const tfServing = (image = 'tensorflow/serving:1.11.1'): k8s.PodTemplateSpec => ({
  spec: {
    containers: [{
      name: 'tensorflow',
      image,
      command: ['/usr/bin/tensorflow_model_server'],
      args: ['--port=9000', '--rest_api_port=8500', '--model_name=mnist', '--model_base_path=/kubedl-model/'],
      ports: [{ containerPort: 9000 }, { containerPort: 8500 }],
      resources: {
        limits: { cpu: k8s.Quantity.fromString('2048m'), memory: k8s.Quantity.fromString('2Gi') },
        requests: { cpu: k8s.Quantity.fromString('1024m'), memory: k8s.Quantity.fromString('1Gi') },
      },
    }],
  },
});

const predictor = (name: string, extra: Partial<PredictorProps> = {}): PredictorProps => ({ name, template: tfServing(), ...extra });

function synth(props: Partial<InferenceServiceProps>): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'serving' });
  new InferenceService(chart, 'hello-inference', { framework: 'TFServing', predictors: [predictor('model-predictor')], ...props });
  return Testing.synth(chart);
}

const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find(x => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objs.map(x => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};

describe('InferenceService', () => {
  test('two predictors split traffic 90/10 through an HTTPRoute; each has a Deployment, a Service and an autoscaler', () => {
    const objs = synth({
      gateways: [{ name: 'inference-gateway', namespace: 'gateways' }],
      predictors: [
        predictor('model-a-predictor', { modelVersion: 'model-a', trafficPercentage: 90, autoScale: { minReplicas: 1, maxReplicas: 10 } }),
        predictor('model-b-predictor', { modelVersion: 'model-b', trafficPercentage: 10, autoScale: { minReplicas: 1, maxReplicas: 10 } }),
      ],
    });
    expect(objs.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/hello-inference-model-a-predictor', 'Deployment/hello-inference-model-b-predictor',
      'HTTPRoute/hello-inference',
      'HorizontalPodAutoscaler/hello-inference-model-a-predictor', 'HorizontalPodAutoscaler/hello-inference-model-b-predictor',
      'Service/hello-inference', 'Service/hello-inference-model-a-predictor', 'Service/hello-inference-model-b-predictor',
    ]);
    const route = find(objs, 'HTTPRoute', 'hello-inference');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'inference-gateway', namespace: 'gateways' }],
      rules: [{
        backendRefs: [
          { kind: 'Service', name: 'hello-inference-model-a-predictor', port: 9000, weight: 90 },
          { kind: 'Service', name: 'hello-inference-model-b-predictor', port: 9000, weight: 10 },
        ],
      }],
    });
    const hpa = find(objs, 'HorizontalPodAutoscaler', 'hello-inference-model-a-predictor');
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hello-inference-model-a-predictor' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
    });
    // The autoscaler owns the replica count.
    expect(find(objs, 'Deployment', 'hello-inference-model-a-predictor').spec.replicas).toBeUndefined();
    expect(find(objs, 'Deployment', 'hello-inference-model-a-predictor').metadata.annotations).toBeUndefined();
  });

  test('a predictor\'s pods carry the KubeDL labels, its Service selects only them, the entry Service selects all', () => {
    const objs = synth({ predictors: [predictor('a', { modelVersion: 'v1', trafficPercentage: 50 }), predictor('b', { trafficPercentage: 50, replicas: 3 })] });
    const dep = find(objs, 'Deployment', 'hello-inference-a');
    expect(dep.spec.template.metadata.labels).toEqual({ 'serving.kubedl.io/inference': 'hello-inference', 'serving.kubedl.io/predictor': 'a', 'serving.kubedl.io/model-version': 'v1' });
    expect(dep.spec.replicas).toBe(1);
    expect(find(objs, 'Deployment', 'hello-inference-b').spec.replicas).toBe(3);
    expect(find(objs, 'Service', 'hello-inference-a').spec).toEqual({
      selector: { 'serving.kubedl.io/inference': 'hello-inference', 'serving.kubedl.io/predictor': 'a' },
      ports: [
        { name: 'port-9000', port: 9000, targetPort: 9000 },
        { name: 'port-8500', port: 8500, targetPort: 8500 },
      ],
    });
    expect(find(objs, 'Service', 'hello-inference').spec.selector).toEqual({ 'serving.kubedl.io/inference': 'hello-inference' });
  });

  test('replicas beside an autoscaler are only the recorded starting size', () => {
    const dep = find(synth({ predictors: [predictor('p', { replicas: 3, autoScale: { maxReplicas: 10 } })] }), 'Deployment', 'hello-inference-p');
    expect(dep.spec.replicas).toBeUndefined();
    expect(dep.metadata.annotations).toEqual({ 'autoscaling.inferkit.dev/initial-replicas': '3' });
  });

  test('TF Serving batching becomes its batching parameters file in a ConfigMap and its flags', () => {
    const objs = synth({ predictors: [predictor('p', { batching: { batchSize: 32, timeoutSeconds: 2 } })] });
    expect(find(objs, 'ConfigMap', 'hello-inference-p-batching').data).toEqual({
      'batching_parameters.txt': 'max_batch_size { value: 32 }\nbatch_timeout_micros { value: 2000000 }\nnum_batch_threads { value: 4 }\nmax_enqueued_batches { value: 100 }\n',
    });
    const pod = find(objs, 'Deployment', 'hello-inference-p').spec.template.spec;
    expect(pod.containers[0].args.slice(-2)).toEqual(['--enable_batching=true', '--batching_parameters_file=/etc/inferkit/batching_parameters.txt']);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'batching-0', mountPath: '/etc/inferkit', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'batching-0', configMap: { name: 'hello-inference-p-batching' } });
  });

  test('a single predictor takes all the traffic', () => {
    expect(find(synth({}), 'HTTPRoute', 'hello-inference').spec.rules[0].backendRefs[0].weight).toBe(100);
  });

  test.each<[string, PredictorProps[], string]>([
    ['shares that do not add up to 100', [predictor('a', { trafficPercentage: 90 }), predictor('b', { trafficPercentage: 20 })],
      'Unable to synthesize test/hello-inference: predictors[*].trafficPercentage [90,20] add up to 110, not 100. Make the traffic shares add up to exactly 100.'],
    ['a missing share among several predictors', [predictor('a', { trafficPercentage: 90 }), predictor('b')],
      'Unable to synthesize test/hello-inference: predictors[1].trafficPercentage is missing; with 2 predictors each needs a share. Give every predictor a trafficPercentage, adding up to 100.'],
    ['a share above 100', [predictor('a', { trafficPercentage: 120 })],
      'predictors[0].trafficPercentage 120 is not a whole percentage. Use 0 to 100.'],
    ['duplicate predictors', [predictor('a', { trafficPercentage: 50 }), predictor('a', { trafficPercentage: 50 })],
      "predictors[1].name 'a' is used by another predictor. Give every predictor a unique name."],
    ['replicas outside the autoscaler\'s range', [predictor('a', { replicas: 5, autoScale: { maxReplicas: 4 } })],
      "predictors[0].replicas 5 is outside the autoscaler's range 1..4. Give a starting size within the range, or remove replicas."],
    ['an empty autoscaling range', [predictor('a', { autoScale: { minReplicas: 5, maxReplicas: 4 } })],
      'predictors[0].autoScale {"minReplicas":5,"maxReplicas":4} is not a range of replicas. Use 1 <= minReplicas <= maxReplicas.'],
    ['no serving port', [predictor('a', { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } })],
      'predictors[0].template.spec.containers declare no containerPort, so no Service can reach the predictor. Declare the serving port of the container.'],
  ])('%s is refused', (_, predictors, message) => {
    expect(() => synth({ predictors })).toThrow(message);
  });

  test.each<[string, Partial<InferenceServiceProps>, string]>([
    ['an unknown framework', { framework: 'Torchserve' },
      "Unable to synthesize test/hello-inference: framework 'Torchserve' is not a known engine. Use one of vllm, sglang, ollama, mlc-llm, llamacpp, diffusers, comfyui, vllm-omni, TFServing, Triton, or register it."],
    ['batching for Triton, which reads it from the model\'s config.pbtxt', { framework: 'Triton', predictors: [predictor('p', { batching: { batchSize: 8 } })] },
      "predictors[0].batching {\"batchSize\":8} cannot be applied by inferkit: Triton reads batching from the model's config.pbtxt. Add to the model's config.pbtxt:\nmax_batch_size: 8\ndynamic_batching {\n  max_queue_delay_microseconds: 100\n}\nand remove batching."],
    ['a batch size for an engine that batches continuously', { framework: 'vllm', predictors: [predictor('p', { batching: { batchSize: 8 } })] },
      'predictors[0].batching 8 cannot be configured for engine vllm, which batches continuously on its own.'],
  ])('%s is refused', (_, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });
});
