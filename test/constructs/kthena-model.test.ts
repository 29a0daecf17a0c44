import { Chart, Duration, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import {
  AutoscalingPolicy, AutoscalingPolicyProps, KthenaEngine, KthenaModel, KthenaModelProps, LoraLoading, MODEL_NAME_HEADER, ModelInfer, ModelRoute,
  ModelRouteProps, ModelServer, ScaleTarget, StringMatch, Warnings,
} from '../../index';

type Obj = Record<string, any>;

const chartOf = () => new Chart(Testing.app(), 'test', { namespace: 'llm' });
const find = (objs: Obj[], kind: string, name: string): Obj => objs.find(o => o.kind === kind && o.metadata.name === name)!;
const gpu = { limits: { 'nvidia.com/gpu': k8s.Quantity.fromString('1') } };
const vllm = { name: 'vllm', engine: KthenaEngine.VLLM, modelUri: 'hf://Qwen/Qwen2.5-0.5B-Instruct', resources: gpu };

function synthModel(props: KthenaModelProps): Obj[] {
  const chart = chartOf();
  new KthenaModel(chart, 'qwen', props);
  return Testing.synth(chart);
}

describe('KthenaModel', () => {
  test('every documented default is what is synthesized', () => {
    const chart = chartOf();
    const model = new KthenaModel(chart, 'qwen', { backends: [{ ...vllm, loraAdapters: [{ name: 'sql', artifactUrl: 'hf://org/sql' }] }], gateways: [{ name: 'gw' }] });
    const objs = Testing.synth(chart);
    const deployment = find(objs, 'Deployment', 'qwen-vllm');
    // minReplicas 1, and maxReplicas = minReplicas (no autoscaler, no warning).
    expect(deployment.spec.replicas).toBe(1);
    expect(objs.filter(o => o.kind === 'HorizontalPodAutoscaler')).toEqual([]);
    expect(Warnings.of(chart).all).toEqual([]);
    // modelName is the name; adapters load at start-up; the engine image is the pinned one.
    const engine = deployment.spec.template.spec.containers[0];
    expect(model.modelName).toBe('qwen');
    expect(engine.args).toEqual(expect.arrayContaining(['--served-model-name', 'qwen', '--enable-lora', '--lora-modules', 'sql=/lora/sql']));
    expect(engine.env.map((e: Obj) => e.name)).not.toContain('VLLM_ALLOW_RUNTIME_LORA_UPDATING');
    expect(engine.image).toBe('vllm/vllm-openai:v0.11.0');
    // routeWeight 100; the match is every request for the model or its adapter; the ModelServer's port is the engine's.
    const route = find(objs, 'HTTPRoute', 'qwen');
    expect(route.spec.rules.map((r: Obj) => [r.matches[0].headers, r.matches[0].path, r.backendRefs[0].weight])).toEqual([
      [[{ type: 'Exact', name: MODEL_NAME_HEADER, value: 'qwen' }], { type: 'PathPrefix', value: '/' }, 100],
      [[{ type: 'Exact', name: MODEL_NAME_HEADER, value: 'sql' }], { type: 'PathPrefix', value: '/' }, 100],
    ]);
    expect(find(objs, 'InferencePool', 'qwen-vllm').spec.targetPorts).toEqual([{ number: 8000 }]);
    expect(model.deployments).toEqual({ vllm: 'qwen-vllm' });
    expect(model.servers.map(s => s.name)).toEqual(['qwen-vllm']);
  });

  test('a run-time adapter is fetched but left to vLLM\'s dynamic loading; a pvc:// adapter is mounted read-only', () => {
    const objs = synthModel({
      backends: [{
        ...vllm,
        loraAdapters: [
          { name: 'hot', artifactUrl: 'hf://org/hot', loading: LoraLoading.RUNTIME },
          { name: 'local', artifactUrl: 'pvc://adapters/qwen/local' },
        ],
      }],
    });
    const spec = find(objs, 'Deployment', 'qwen-vllm').spec.template.spec;
    const engine = spec.containers[0];
    expect(engine.args).toEqual(expect.arrayContaining(['--enable-lora', '--lora-modules', 'local=/lora/local']));
    expect(engine.args).not.toContain('hot=/lora/hot');
    expect(engine.env).toContainEqual({ name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', value: 'True' });
    expect(spec.initContainers.map((c: Obj) => c.name)).toEqual(['prefetch', 'lora-hot']);
    // The adapter's download runs as the model's: the same image, security context and requests.
    const [prefetch, hot] = spec.initContainers;
    expect([hot.image, hot.securityContext, hot.resources]).toEqual([prefetch.image, prefetch.securityContext, prefetch.resources]);
    expect(spec.volumes).toContainEqual({ name: 'lora-local', persistentVolumeClaim: { claimName: 'adapters', readOnly: true } });
    expect(engine.volumeMounts).toContainEqual({ name: 'lora-local', mountPath: '/lora/local', subPath: 'qwen/local', readOnly: true });
  });

  test('an SGLang backend loads its adapters with --lora-paths', () => {
    const objs = synthModel({ backends: [{ ...vllm, engine: KthenaEngine.SGLANG, loraAdapters: [{ name: 'sql', artifactUrl: 'hf://org/sql' }] }] });
    const engine = find(objs, 'Deployment', 'qwen-vllm').spec.template.spec.containers[0];
    expect(engine.command).toEqual(['python3', '-m', 'sglang.launch_server']);
    expect(engine.args).toEqual(expect.arrayContaining(['--served-model-name', 'qwen', '--enable-lora', '--lora-paths', 'sql=/lora/sql']));
  });

  test('a pvc:// cache is the claim the prefetch Job fills once', () => {
    const objs = synthModel({ backends: [{ ...vllm, cacheUri: 'pvc://model-cache' }] });
    expect(find(objs, 'Job', 'qwen-vllm-prefetch').spec.template.spec.volumes[0]).toEqual({ name: 'models', persistentVolumeClaim: { claimName: 'model-cache' } });
    expect(find(objs, 'PersistentVolumeClaim', 'model-cache')).toBeUndefined();
  });

  test('a simple ModelInfer runs the backend, keeping its adapters', () => {
    const chart = chartOf();
    const model = new KthenaModel(chart, 'qwen', { backends: [{ ...vllm, loraAdapters: [{ name: 'sql', artifactUrl: 'hf://org/sql' }] }] });
    new ModelInfer(chart, 'infer', { modelRef: model, replicas: 3 });
    const deployment = find(Testing.synth(chart), 'Deployment', 'qwen-vllm');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.template.metadata.labels['modelinfer.matrixinfer.ai/name']).toBe('infer');
    expect(deployment.spec.template.spec.initContainers.map((c: Obj) => c.name)).toEqual(['prefetch', 'lora-sql']);
  });

  test('a Model whose backend a policy scales cannot be run by a ModelInfer', () => {
    const chart = chartOf();
    const model = new KthenaModel(chart, 'qwen', { backends: [vllm] });
    new AutoscalingPolicy(chart, 'scaling', { target: ScaleTarget.kthenaBackend(model, 'vllm'), maxReplicas: 2, metrics: [{ name: 'm', targetValue: '1' }] });
    expect(() => new ModelInfer(chart, 'infer', { modelRef: model })).toThrow(
      "test/infer: modelRef 'qwen' is scaled by test/scaling, so the ModelInfer cannot set its replicas. Scale the ModelInfer with the policy instead (ScaleTarget.modelInfer).");
  });

  test('a Model run by two ModelInfers is an error', () => {
    const chart = chartOf();
    const model = new KthenaModel(chart, 'qwen', { backends: [vllm] });
    new ModelInfer(chart, 'a', { modelRef: model });
    expect(() => new ModelInfer(chart, 'b', { modelRef: model })).toThrow("test/b: modelRef 'qwen' is already run by test/a. Reference each Model from one ModelInfer.");
  });

  test.each<[string, KthenaModelProps, string]>([
    ['no backends', { backends: [] }, 'test/qwen: backends is empty. Give at least one backend.'],
    ['a backend twice', { backends: [vllm, vllm] }, "test/qwen: backends[1].name 'vllm' is given twice. Give each backend its own name."],
    ['a model name that is no label', { modelName: 'Qwen2.5', backends: [vllm] }, "test/qwen: modelName 'Qwen2.5' "],
    ['run-time loading on SGLang', { backends: [{ ...vllm, engine: KthenaEngine.SGLANG, loraAdapters: [{ name: 'a', artifactUrl: 'hf://o/a', loading: LoraLoading.RUNTIME }] }] },
      "test/qwen: backends[0].loraAdapters[0].loading 'Runtime' asks for run-time loading, which inferkit configures for vLLM only, not SGLang. Load the adapter at start-up."],
    ['a negative minReplicas', { backends: [{ ...vllm, minReplicas: -1 }] }, 'test/qwen: backends[0].minReplicas -1 is not a count of replicas. Use 0 or more.'],
    ['maxReplicas below minReplicas', { backends: [{ ...vllm, minReplicas: 2, maxReplicas: 1 }] }, 'test/qwen: backends[0].maxReplicas 1 is below 1 or minReplicas. Use at least minReplicas and 1.'],
  ])('refuses %s', (_, props, message) => {
    expect(() => new KthenaModel(chartOf(), 'qwen', props)).toThrow(message);
  });
});

describe('AutoscalingPolicy', () => {
  const base: AutoscalingPolicyProps = { target: ScaleTarget.deployment('qwen-vllm'), maxReplicas: 4, metrics: [{ name: 'vllm:num_requests_waiting', targetValue: '5' }] };
  const hpaOf = (props: AutoscalingPolicyProps) => {
    const chart = chartOf();
    new AutoscalingPolicy(chart, 'scaling', props);
    return Testing.synth(chart)[0];
  };

  test('every documented default is what is synthesized', () => {
    expect(hpaOf(base).spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'qwen-vllm' },
      minReplicas: 1,
      maxReplicas: 4,
      metrics: [{ type: 'Pods', pods: { metric: { name: 'vllm:num_requests_waiting' }, target: { type: 'AverageValue', averageValue: '5' } } }],
    });
    expect(hpaOf({ ...base, scaleUp: {}, panic: {}, scaleDown: {} }).spec.behavior).toEqual({
      scaleUp: {
        policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Percent', value: 1000, periodSeconds: 15 }],
        selectPolicy: 'Max',
      },
      scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }], selectPolicy: 'Max', stabilizationWindowSeconds: 300 },
    });
  });

  test('bound to a simple ModelInfer or a Kthena backend, it owns the replicas: the Deployment leaves them unset', () => {
    const chart = chartOf();
    const llama = new KthenaModel(chart, 'llama', { backends: [vllm] });
    const infer = new ModelInfer(chart, 'infer', { modelRef: llama, replicas: 2 });
    new AutoscalingPolicy(chart, 'infer-scaling', { ...base, target: ScaleTarget.modelInfer(infer) });
    const qwen = new KthenaModel(chart, 'qwen', { backends: [vllm] });
    new AutoscalingPolicy(chart, 'qwen-scaling', { ...base, target: ScaleTarget.kthenaBackend(qwen, 'vllm') });
    const objs = Testing.synth(chart);
    expect(find(objs, 'HorizontalPodAutoscaler', 'infer-scaling').spec.scaleTargetRef.name).toBe('llama-vllm');
    expect(find(objs, 'Deployment', 'llama-vllm').spec.replicas).toBeUndefined();
    expect(find(objs, 'HorizontalPodAutoscaler', 'qwen-scaling').spec.scaleTargetRef.name).toBe('qwen-vllm');
    expect(find(objs, 'Deployment', 'qwen-vllm').spec.replicas).toBeUndefined();
  });

  test.each<[string, (chart: Chart) => ScaleTarget, string]>([
    ['a roles-form ModelInfer', chart => ScaleTarget.modelInfer(new ModelInfer(chart, 'groups', {
      roles: [{ name: 'serve', entryTemplate: { spec: { containers: [{ name: 'c', image: 'x' }] } } }], schedulerName: 'default-scheduler',
    })), "test/scaling: target 'ModelInfer groups' runs its groups as workloads fixed at synth, which no autoscaler can scale. Scale it by its replicas in a new synth, or autoscale a simple-form ModelInfer."],
    ['an autoscaled ModelInfer', chart => ScaleTarget.modelInfer(new ModelInfer(chart, 'infer', { modelRef: new KthenaModel(chart, 'm', { backends: [vllm] }), autoscaling: { maxReplicas: 3 } })),
      "test/scaling: target 'ModelInfer infer' has autoscaling, which makes its own HPA. Remove one of the two autoscalers."],
    ['a ModelInfer scaled twice', chart => {
      const infer = new ModelInfer(chart, 'infer', { modelRef: new KthenaModel(chart, 'm', { backends: [vllm] }) });
      new AutoscalingPolicy(chart, 'first', { ...base, target: ScaleTarget.modelInfer(infer) });
      return ScaleTarget.modelInfer(infer);
    }, "test/scaling: target 'ModelInfer infer' is scaled by test/first already. Scale it from one place."],
    ['a backend with its own policy', chart => ScaleTarget.kthenaBackend(new KthenaModel(chart, 'm', {
      backends: [{ ...vllm, maxReplicas: 2, autoscalingPolicy: { metrics: [{ name: 'm', targetValue: '1' }] } }],
    }), 'vllm'), "test/scaling: target 'm backend vllm' is scaled by its Model's own autoscalingPolicy. Remove one of the two policies."],
    ['a backend run by a ModelInfer', chart => {
      const model = new KthenaModel(chart, 'm', { backends: [vllm] });
      new ModelInfer(chart, 'infer', { modelRef: model });
      return ScaleTarget.kthenaBackend(model, 'vllm');
    }, "test/scaling: target 'm backend vllm' is scaled by test/infer already. Scale it from one place."],
    ['a backend the model does not have', chart => ScaleTarget.kthenaBackend(new KthenaModel(chart, 'm', { backends: [vllm] }), 'sglang'),
      "test/scaling: target 'm backend sglang' is not a backend of m. Name one of vllm."],
  ])('refuses a target that is %s', (_, target, message) => {
    const chart = chartOf();
    const t = target(chart);
    expect(() => new AutoscalingPolicy(chart, 'scaling', { ...base, target: t })).toThrow(message);
  });

  test('And picks the smaller change; limits of 0 are dropped, and with none the direction is disabled', () => {
    const spec = hpaOf({ ...base, scaleUp: { instances: 0, percent: 50, period: Duration.minutes(1), selectPolicy: 'And' as any }, scaleDown: { instances: 0, percent: 0 } }).spec;
    expect(spec.behavior.scaleUp).toEqual({ policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }], selectPolicy: 'Min' });
    expect(spec.behavior.scaleDown).toEqual({ policies: [], selectPolicy: 'Disabled' });
  });

  test.each<[string, Partial<AutoscalingPolicyProps>, string]>([
    ['a name that is no subdomain', { name: 'Scaling' }, "test/scaling: name 'Scaling' "],
    ['maxReplicas below minReplicas', { minReplicas: 5 }, 'test/scaling: maxReplicas 4 is not a count of replicas from max(1, minReplicas 5). Give the most replicas the policy may run.'],
    ['a fractional minReplicas', { minReplicas: 1.5 }, 'test/scaling: minReplicas 1.5 is not a count of replicas. Use 0 or more.'],
    ['a negative instances', { scaleUp: { instances: -1 } }, 'test/scaling: scaleUp.instances -1 is not a count. Use 0 or more.'],
    ['a negative percent', { scaleDown: { percent: -1 } }, 'test/scaling: scaleDown.percent -1 is not a percentage. Use 0 or more.'],
    ['no metrics', { metrics: [] }, 'test/scaling: metrics 0 is empty. Give at least one metric and its target value.'],
  ])('refuses %s', (_, props, message) => {
    expect(() => new AutoscalingPolicy(chartOf(), 'scaling', { ...base, ...props })).toThrow(message);
  });
});

describe('ModelServer and ModelRoute', () => {
  const routeOf = (props: (s: ModelServer[]) => Partial<ModelRouteProps>) => {
    const chart = chartOf();
    const servers = ['a', 'b'].map(n => new ModelServer(chart, n, { selector: { app: n }, timeout: Duration.seconds(30) }));
    new ModelRoute(chart, 'route', { modelName: 'qwen', rules: [{ targets: [{ server: servers[0] }] }], gateways: [{ name: 'gw' }], ...props(servers) });
    return find(Testing.synth(chart), 'HTTPRoute', 'route');
  };

  test('every documented default is what is synthesized', () => {
    const chart = chartOf();
    const server = new ModelServer(chart, 'qwen', { selector: { app: 'qwen' } });
    new ModelRoute(chart, 'route', { loraAdapters: ['sql'], rules: [{ targets: [{ server }] }], gateways: [{ name: 'gw' }] });
    const objs = Testing.synth(chart);
    // The server: port 8000, Unified scheduling (GIE's picker), no timeout.
    expect(find(objs, 'InferencePool', 'qwen').spec.targetPorts).toEqual([{ number: 8000 }]);
    expect(find(objs, 'Deployment', 'qwen-epp').spec.template.spec.containers[0].image).toBe('registry.k8s.io/gateway-api-inference-extension/epp:v1.1.0');
    // The route: the adapter names only, weight 100, every path, no timeouts, in the chart's namespace.
    const route = find(objs, 'HTTPRoute', 'route');
    expect(route.metadata.namespace).toBe('llm');
    expect(route.spec.rules).toEqual([{
      matches: [{ headers: [{ type: 'Exact', name: MODEL_NAME_HEADER, value: 'sql' }], path: { type: 'PathPrefix', value: '/' } }],
      backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'qwen', weight: 100 }],
    }]);
  });

  test('servers of one timeout give the rule that timeout; a header prefix is an anchored regular expression', () => {
    const route = routeOf(s => ({ rules: [{ match: { headers: { 'x-tier': StringMatch.prefix('a.b') }, uri: StringMatch.exact('/v1/chat') }, targets: [{ server: s[0], weight: 30 }, { server: s[1], weight: 70 }] }] }));
    expect(route.spec.rules[0].timeouts).toEqual({ request: '30s' });
    expect(route.spec.rules[0].matches[0].headers[1]).toEqual({ type: 'RegularExpression', name: 'x-tier', value: '^a\\.b.*' });
    expect(route.spec.rules[0].matches[0].path).toEqual({ type: 'Exact', value: '/v1/chat' });
  });

  test.each<[string, (s: ModelServer[]) => Partial<ModelRouteProps>, string]>([
    ['no name to match', () => ({ modelName: undefined }), 'test/route: modelName is missing and no loraAdapters are given, so the route matches no request. Give the model name clients ask for, or the LoRA adapter names.'],
    ['no rules', () => ({ rules: [] }), 'test/route: rules 0 is not 1 to 16 rules. Give 1 to 16 rules.'],
    ['no gateway', () => ({ gateways: [] }), 'test/route: gateways is empty, so no gateway routes to the model. Name the Gateway the route attaches to.'],
    ['no targets', () => ({ rules: [{ targets: [] }] }), 'test/route: rules[0].targets 0 is not 1 to 16 targets. Give 1 to 16 targets.'],
    ['a weight beyond 100', s => ({ rules: [{ targets: [{ server: s[0], weight: 150 }] }] }), 'test/route: rules[0].targets[0].weight 150 is not a percentage. Use 0 to 100.'],
  ])('refuses %s', (_, props, message) => {
    expect(() => routeOf(props)).toThrow(message);
  });
});
