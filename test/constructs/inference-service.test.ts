import { Chart, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { InferenceService, InferenceServiceProps, PredictorProps, Warnings } from '../../index';

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

function make(props: Partial<InferenceServiceProps>): Chart {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'serving' });
  new InferenceService(chart, 'hello-inference', { framework: 'TFServing', predictors: [predictor('model-predictor')], ...props });
  return chart;
}

const synth = (props: Partial<InferenceServiceProps>): Obj[] => Testing.synth(make(props));
const warnings = (props: Partial<InferenceServiceProps>): string[] => Warnings.of(make(props)).all;

const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find(x => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objs.map(x => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};

describe('InferenceService', () => {
  test('two predictors split traffic 90/10 through an HTTPRoute on the gateway; each has a Deployment, a Service and an autoscaler, and no Service selects both', () => {
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
      'Service/hello-inference-model-a-predictor', 'Service/hello-inference-model-b-predictor',
    ]);
    const route = find(objs, 'HTTPRoute', 'hello-inference');
    expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(route.spec).toEqual({
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'inference-gateway', namespace: 'gateways' }],
      rules: [{
        backendRefs: [
          { kind: 'Service', name: 'hello-inference-model-a-predictor', port: 8080, weight: 90 },
          { kind: 'Service', name: 'hello-inference-model-b-predictor', port: 8080, weight: 10 },
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

  test('a predictor\'s pods carry the KubeDL labels; its Service selects only them, on KubeDL\'s ports: http 8080 to the REST port, grpc 9000', () => {
    const objs = synth({ predictors: [predictor('a', { modelVersion: 'v1', trafficPercentage: 50 }), predictor('b', { trafficPercentage: 50, replicas: 3 })] });
    const dep = find(objs, 'Deployment', 'hello-inference-a');
    expect(dep.spec.template.metadata.labels).toEqual({
      'serving.kubedl.io/inference': 'hello-inference',
      'serving.kubedl.io/predictor': 'a',
      'serving.kubedl.io/model-version': 'v1',
      // KubeDL's controller's own labels, as it puts them on predictor pods.
      'kubedl.io/inference-name': 'hello-inference',
      'kubedl.io/predictor-name': 'a',
      'kubedl.io/model-version': 'v1',
    });
    expect(dep.spec.selector.matchLabels).toEqual({ 'serving.kubedl.io/inference': 'hello-inference', 'serving.kubedl.io/predictor': 'a' });
    expect(dep.spec.replicas).toBe(1);
    expect(find(objs, 'Deployment', 'hello-inference-b').spec.replicas).toBe(3);
    expect(find(objs, 'Service', 'hello-inference-a').spec).toEqual({
      selector: { 'serving.kubedl.io/inference': 'hello-inference', 'serving.kubedl.io/predictor': 'a' },
      ports: [
        { name: 'http', port: 8080, targetPort: 8500 },
        { name: 'grpc', port: 9000, targetPort: 9000 },
      ],
    });
  });

  test('without a gateway, several predictors\' route attaches to an entry Service that selects no pods, with a warning', () => {
    const props = { predictors: [predictor('a', { trafficPercentage: 90 }), predictor('b', { trafficPercentage: 10 })] };
    const objs = synth(props);
    expect(find(objs, 'Service', 'hello-inference').spec).toEqual({ ports: [{ name: 'http', port: 8080 }] });
    expect(find(objs, 'HTTPRoute', 'hello-inference').spec.parentRefs).toEqual([{ group: '', kind: 'Service', name: 'hello-inference', port: 8080 }]);
    expect(warnings(props)).toEqual([
      'Warning: test/hello-inference predictors[*].trafficPercentage [90,10]: are split only where Gateway API routes the traffic: without a gateway, '
      + 'HTTPRoute hello-inference attaches to Service hello-inference, which a service mesh implementing Gateway API for Services (such as Istio or Linkerd) '
      + 'splits as declared; without such a mesh, Service hello-inference has no endpoints and Services hello-inference-a, hello-inference-b are reached '
      + 'only directly, unweighted. Give a gateway (inferkit synth --gateway NAMESPACE/NAME, or the gateways prop) to split the traffic at its address.',
    ]);
  });

  test('a gateway, or a single predictor, splits nothing behind the weights: no warning', () => {
    expect(warnings({ gateways: [{ name: 'gw' }], predictors: [predictor('a', { trafficPercentage: 90 }), predictor('b', { trafficPercentage: 10 })] })).toEqual([]);
    expect(warnings({})).toEqual([]);
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

  test('a single predictor takes all the traffic: its entry Service selects its pods; a route only through a gateway', () => {
    const objs = synth({});
    expect(find(objs, 'Service', 'hello-inference').spec).toEqual({
      selector: { 'serving.kubedl.io/inference': 'hello-inference', 'serving.kubedl.io/predictor': 'model-predictor' },
      ports: [{ name: 'http', port: 8080, targetPort: 8500 }, { name: 'grpc', port: 9000, targetPort: 9000 }],
    });
    expect(objs.some(o => o.kind === 'HTTPRoute')).toBe(false);
    const route = find(synth({ gateways: [{ name: 'gw', namespace: 'edge' }] }), 'HTTPRoute', 'hello-inference');
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw', namespace: 'edge' }]);
    expect(route.spec.rules[0].backendRefs).toEqual([{ kind: 'Service', name: 'hello-inference-model-predictor', port: 8080, weight: 100 }]);
  });

  test.each<[string, string, k8s.Container, Array<[string, number, number]>, k8s.ContainerPort[]]>([
    ['TF Serving without flags or ports: KubeDL\'s default HTTP port 8080, declared', 'TFServing', { name: 'c', image: 'x' },
      [['http', 8080, 8080], ['grpc', 9000, 9000]], [{ name: 'http', containerPort: 8080 }]],
    ['TF Serving flags in the command', 'TFServing', { name: 'c', image: 'x', command: ['tensorflow_model_server', '--port', '8500', '--rest_api_port=8501'] },
      [['http', 8080, 8501], ['grpc', 9000, 8500]], [{ name: 'http', containerPort: 8501 }]],
    ['ports named http and grpc', 'TFServing', { name: 'c', image: 'x', ports: [{ name: 'grpc', containerPort: 7000 }, { name: 'http', containerPort: 7001 }] },
      [['http', 8080, 7001], ['grpc', 9000, 7000]], [{ name: 'grpc', containerPort: 7000 }, { name: 'http', containerPort: 7001 }]],
    ['Triton\'s defaults', 'Triton', { name: 'c', image: 'x' }, [['http', 8080, 8000], ['grpc', 9000, 8001]], [{ name: 'http', containerPort: 8000 }]],
    ['Triton\'s flags', 'Triton', { name: 'c', image: 'x', args: ['--http-port=9100', '--grpc-port=9101'] },
      [['http', 8080, 9100], ['grpc', 9000, 9101]], [{ name: 'http', containerPort: 9100 }]],
  ])('%s: the Service forwards to where the predictor serves', (_, framework, container, ports, declared) => {
    const objs = synth({ framework, predictors: [predictor('p', { template: { spec: { containers: [container] } } })] });
    expect(find(objs, 'Service', 'hello-inference-p').spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort])).toEqual(ports);
    expect(find(objs, 'Deployment', 'hello-inference-p').spec.template.spec.containers[0].ports).toEqual(declared);
  });

  test('the container named predictor is the one whose flags and ports count, as KubeDL picks it', () => {
    const template = { spec: { containers: [{ name: 'sidecar', image: 's' }, { name: 'predictor', image: 'x', args: ['--rest_api_port=8601'] }] } };
    const objs = synth({ predictors: [predictor('p', { template })] });
    expect(find(objs, 'Service', 'hello-inference-p').spec.ports[0].targetPort).toBe(8601);
    const pod = find(objs, 'Deployment', 'hello-inference-p').spec.template.spec;
    expect(pod.containers.map((c: Obj) => c.ports)).toEqual([undefined, [{ name: 'http', containerPort: 8601 }]]);
  });

  test('a model image is loaded as KubeDL loads a ModelVersion: an init container copies it into a volume mounted at /kubedl-model/<version>', () => {
    const objs = synth({ predictors: [predictor('p', { modelVersion: 'mnist-v1', modelImage: { image: 'registry/mnist:v1', modelName: 'mnist' } })] });
    const pod = find(objs, 'Deployment', 'hello-inference-p').spec.template.spec;
    expect(pod.volumes).toContainEqual({ name: 'kubedl-model-loader', emptyDir: {} });
    const loader = pod.initContainers.find((c: Obj) => c.name === 'kubedl-model-loader');
    expect(loader).toMatchObject({
      image: 'registry/mnist:v1',
      command: ['/bin/sh', '-c', 'cp -r /kubedl-model/* /mnt/kubedl-model/'],
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
    expect(loader.volumeMounts).toContainEqual({ name: 'kubedl-model-loader', mountPath: '/mnt/kubedl-model/' });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    const c = pod.containers[0];
    expect(c.volumeMounts).toContainEqual({ name: 'kubedl-model-loader', mountPath: '/kubedl-model/mnist-v1' });
    expect(c.env.filter((e: Obj) => !['HF_HOME', 'XDG_CACHE_HOME'].includes(e.name))).toEqual([
      { name: 'KUBEDL_MODEL_PATH', value: '/kubedl-model/mnist-v1' },
      { name: 'MODEL_BASE_PATH', value: '/kubedl-model' },
      { name: 'MODEL_NAME', value: 'mnist' },
    ]);
  });

  test('modelPath moves the loaded model, and without a model image only sets the path (Triton gets no TF Serving env)', () => {
    const loaded = find(synth({ predictors: [predictor('p', { modelVersion: 'v1', modelPath: '/models/mnist', modelImage: { image: 'm' } })] }), 'Deployment', 'hello-inference-p');
    expect(loaded.spec.template.spec.containers[0].volumeMounts).toContainEqual({ name: 'kubedl-model-loader', mountPath: '/models/mnist' });
    expect(loaded.spec.template.spec.containers[0].env).toContainEqual({ name: 'MODEL_BASE_PATH', value: '/models' });
    const pathOnly = find(synth({ framework: 'Triton', predictors: [predictor('p', { modelPath: '/models/mnist' })] }), 'Deployment', 'hello-inference-p').spec.template.spec;
    expect(pathOnly.initContainers).toBeUndefined();
    expect(pathOnly.containers[0].env.filter((e: Obj) => e.name.startsWith('KUBEDL') || e.name.startsWith('MODEL'))).toEqual([{ name: 'KUBEDL_MODEL_PATH', value: '/models/mnist' }]);
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
    ['a model image with nowhere to load it', [predictor('a', { modelImage: { image: 'registry/mnist:v1' } })],
      "predictors[0].modelImage 'registry/mnist:v1' has nowhere to be loaded: the model path comes from modelVersion or modelPath. Give modelVersion (loaded at /kubedl-model/<modelVersion>) or modelPath."],
    ['a template that sets the model path itself', [predictor('a', { modelPath: '/m', template: { spec: { containers: [{ name: 'c', image: 'x', env: [{ name: 'KUBEDL_MODEL_PATH', value: '/x' }] }] } } })],
      "predictors[0].template.spec.containers[0].env 'KUBEDL_MODEL_PATH' sets KUBEDL_MODEL_PATH, which inferkit sets for the predictor's model. Remove KUBEDL_MODEL_PATH from the template."],
    ['a template that mounts where the model is loaded',
      [predictor('a', { modelVersion: 'v1', modelImage: { image: 'm' }, template: { spec: { containers: [{ name: 'c', image: 'x', volumeMounts: [{ name: 'd', mountPath: '/kubedl-model/v1' }] }], volumes: [{ name: 'd', emptyDir: {} }] } } })],
      "predictors[0].template.spec.containers[0].volumeMounts '/kubedl-model/v1' is where the model is loaded. Mount the volume elsewhere, or give another modelPath."],
    ['a template volume named like the model loader\'s', [predictor('a', { modelVersion: 'v1', modelImage: { image: 'm' }, template: { spec: { containers: [{ name: 'c', image: 'x' }], volumes: [{ name: 'kubedl-model-loader', emptyDir: {} }] } } })],
      "predictors[0].template.spec.volumes 'kubedl-model-loader' is the volume the model is loaded into. Rename the volume."],
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
