import { Chart, Duration, Size, Testing } from 'cdk8s';
import { CacheStrategy, Model, ModelInfer, ModelProps, SourceKind, Warnings } from '../../index';
import { ENGINES, ModelPassing } from '../../src';

type Obj = Record<string, any>;

function synth(props: ModelProps, id = 'm'): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'llm' });
  new Model(chart, id, props);
  return Testing.synth(chart);
}
const find = (objs: Obj[], kind: string, name?: string): Obj => {
  const o = objs.find(x => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} in ${objs.map(x => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};
const pod = (objs: Obj[]) => find(objs, 'Deployment').spec.template;
const envOf = (c: Obj) => Object.fromEntries((c.env ?? []).map((e: Obj) => [e.name, e.value ?? e.valueFrom]));

describe('Model', () => {
  test('the seed\'s minimal Ollama model runs CPU-only, pulling its model into /models first', () => {
    const objs = synth({ backend: 'ollama', source: 'ollama://llama3:8b' }, 'llama3-8b');
    expect(objs.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual(['Deployment/llama3-8b', 'Service/llama3-8b']);
    const p = pod(objs).spec;
    expect(p.containers[0].image).toMatch(/^ollama\/ollama:/);
    expect(p.containers[0].resources).toBeUndefined();
    expect(p.affinity).toBeUndefined();
    expect(p.initContainers[0].command[2]).toContain('ollama pull llama3:8b');
    expect(envOf(p.initContainers[0]).OLLAMA_MODELS).toBe('/models');
    expect(find(objs, 'Service').spec.ports).toEqual([{ name: 'http', port: 11434, targetPort: 'http' }]);
  });

  test('a GPU model asks for its GPUs and selects nodes by the product\'s feature-discovery label', () => {
    const objs = synth({ backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: { product: 'L4' } });
    const p = pod(objs);
    expect(p.spec.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': 1 } });
    expect(p.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-L4' });
    expect(Number(p.metadata.annotations['gpu.inferkit.dev/vram-estimate-mb'])).toBeGreaterThan(14_000);
  });

  test('AMD pods join the groups that own the GPU device nodes (FlexInfer\'s by default), still as a non-root user', () => {
    const amd = pod(synth({ backend: 'vllm', source: 'hf://org/model', gpu: { product: 'MI300X' } })).spec;
    expect(amd.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, supplementalGroups: [109, 992] });
    expect(amd.containers[0].image).toMatch(/^rocm\/vllm:/);
    expect(pod(synth({ backend: 'vllm', source: 'hf://org/model', gpu: { vendor: 'amd', amdDeviceGroups: [44, 110] } })).spec.securityContext.supplementalGroups)
      .toEqual([44, 110]);
    expect(pod(synth({ backend: 'vllm', source: 'hf://org/model', gpu: { product: 'L4' } })).spec.securityContext.supplementalGroups).toBeUndefined();
  });

  test('without a product, a vendor\'s nodes are selected by the presence of its product label', () => {
    expect(pod(synth({ backend: 'vllm', source: 'hf://org/model', gpu: { vendor: 'amd', count: 2 } })).spec.affinity).toEqual({
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'amd.com/gpu.product-name', operator: 'Exists' }] }] } },
    });
  });

  test('SharedPVC without a name creates <model>-cache and a prefetch Job that downloads only the allowed files', () => {
    const objs = synth({
      backend: 'vllm',
      source: 'hf://Qwen/Qwen2.5-7B',
      gpu: {},
      cache: { strategy: CacheStrategy.SHARED_PVC, storageClass: 'nfs', size: Size.gibibytes(50) },
      config: { hfAllowPatterns: '*.safetensors, *.json', hfRevision: 'main' },
      hfTokenSecret: { name: 'hf', key: 'token' },
    });
    expect(find(objs, 'PersistentVolumeClaim', 'm-cache').spec).toEqual({
      accessModes: ['ReadWriteMany'], storageClassName: 'nfs', resources: { requests: { storage: '50Gi' } },
    });
    const job = find(objs, 'Job', 'm-prefetch').spec.template.spec;
    expect(envOf(job.containers[0])).toMatchObject({
      HF_REPO: 'Qwen/Qwen2.5-7B',
      HF_REVISION: 'main',
      HF_ALLOW: '["*.safetensors","*.json"]',
      HF_IGNORE: 'null',
      MODEL_DIR: '/models/Qwen/Qwen2.5-7B',
      HF_TOKEN: { secretKeyRef: { name: 'hf', key: 'token' } },
    });
    expect(job.volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'm-cache' } });
    const p = pod(objs).spec;
    expect(p.initContainers).toBeUndefined();
    expect(p.containers[0].args[0]).toBe('/models/Qwen/Qwen2.5-7B');
  });

  test('llama.cpp with a GGUF file downloads just that file and its projector', () => {
    const objs = synth({ backend: 'llama.cpp', source: 'hf://bartowski/Llama-3.2-3B-Instruct-GGUF', config: { ggufFile: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf', mmproj: 'mmproj.gguf' } });
    const init = pod(objs).spec.initContainers[0];
    expect(envOf(init)).toMatchObject({ HF_ALLOW: '["Llama-3.2-3B-Instruct-Q4_K_M.gguf","mmproj.gguf"]', HF_IGNORE: 'null' });
    expect(pod(objs).spec.containers[0].args.slice(0, 2)).toEqual(['--model', '/models/bartowski/Llama-3.2-3B-Instruct-GGUF/Llama-3.2-3B-Instruct-Q4_K_M.gguf']);
  });

  test('a pvc:// source mounts that claim at /models', () => {
    const p = pod(synth({ backend: 'vllm', source: 'pvc://models/llama3', gpu: {} })).spec;
    expect(p.volumes).toContainEqual({ name: 'models', persistentVolumeClaim: { claimName: 'models' } });
    expect(p.containers[0].args[0]).toBe('/models/llama3');
    expect(p.initContainers).toBeUndefined();
  });

  test('serverless scales to zero through a KEDA ScaledObject fed by the HTTP add-on, with the cold-start timeout wired', () => {
    const objs = synth({ backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: {}, serverless: { idleTimeout: Duration.minutes(10), coldStartTimeout: Duration.seconds(90), maxReplicas: 2 } });
    expect(find(objs, 'Deployment').spec.replicas).toBeUndefined();
    expect(find(objs, 'ScaledObject').spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'm' },
      idleReplicaCount: 0,
      minReplicaCount: 1,
      maxReplicaCount: 2,
      cooldownPeriod: 600,
      triggers: [{ type: 'external-push', metadata: { httpScaledObject: 'm', scalerAddress: 'keda-add-ons-http-external-scaler.keda:9090' } }],
    });
    const http = find(objs, 'HTTPScaledObject');
    expect(http.metadata.annotations['httpscaledobject.keda.sh/skip-scaledobject-creation']).toBe('true');
    expect(http.spec).toMatchObject({ replicas: { min: 0, max: 2 }, scaledownPeriod: 600, timeouts: { conditionWait: '90s' }, scaleTargetRef: { name: 'm', service: 'm-backend', port: 8000 } });
  });

  test('documented defaults: serverless idles 5 min, waits 2 min for a cold start, 1 replica at most; a created cache is 100Gi', () => {
    const objs = synth({ backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: {}, serverless: {}, cache: { strategy: CacheStrategy.SHARED_PVC } });
    expect(find(objs, 'ScaledObject').spec).toMatchObject({ cooldownPeriod: 300, maxReplicaCount: 1 });
    expect(find(objs, 'HTTPScaledObject').spec).toMatchObject({ scaledownPeriod: 300, timeouts: { conditionWait: '120s' }, replicas: { min: 0, max: 1 } });
    expect(find(objs, 'PersistentVolumeClaim').spec.resources.requests.storage).toBe('100Gi');
    const p = pod(objs).spec;
    expect(p.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': 1 } });
    expect(p.priorityClassName).toBeUndefined();
  });

  test('without a cache the model files live in an emptyDir at /models', () => {
    const p = pod(synth({ backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: {} })).spec;
    expect(p.volumes).toContainEqual({ name: 'models', emptyDir: {} });
    expect(p.containers[0].volumeMounts).toContainEqual({ name: 'models', mountPath: '/models' });
  });

  test('a registered engine serves a model like a built-in one', () => {
    ENGINES.register({
      name: 'echo-llm',
      images: { cpu: 'example.com/echo-llm:1.0' },
      port: { name: 'http', port: 9000 },
      healthPath: '/healthz',
      readinessPath: '/ready',
      modelPassing: ModelPassing.PATH,
      sources: [SourceKind.FILE],
      invocation: i => ({ args: ['--model', i.model, '--name', i.modelName], env: {} }),
    });
    const p = pod(synth({ backend: 'echo-llm', source: 'file:///models/echo' })).spec;
    expect(p.containers[0]).toMatchObject({ image: 'example.com/echo-llm:1.0', args: ['--model', '/models/echo', '--name', 'm'], readinessProbe: { httpGet: { path: '/ready', port: 'http' } } });
  });

  test('without serverless the model keeps its replicas: never at zero by surprise', () => {
    const objs = synth({ backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: {}, serverless: { enabled: false } });
    expect(find(objs, 'Deployment').spec.replicas).toBe(1);
    expect(objs.some(o => o.kind === 'ScaledObject' || o.kind === 'HTTPScaledObject')).toBe(false);
  });

  test('a shared-GPU pair: each model gets a PriorityClass of its priority in the group; the higher preempts', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'llm' });
    new Model(chart, 'chat', { backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: { product: 'L4', shared: 'l4-pool', priority: 100 } });
    new Model(chart, 'batch', { backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: { product: 'L4', shared: 'l4-pool', priority: 10 } });
    const objs = Testing.synth(chart);
    expect(objs.filter(o => o.kind === 'PriorityClass').map(o => [o.metadata.name, o.value, o.preemptionPolicy])).toEqual([
      ['inferkit-l4-pool-p100', 1100, 'PreemptLowerPriority'], ['inferkit-l4-pool-p10', 1010, 'PreemptLowerPriority'],
    ]);
    expect(find(objs, 'Deployment', 'chat').spec.template.spec.priorityClassName).toBe('inferkit-l4-pool-p100');
    expect(find(objs, 'Deployment', 'batch').spec.template.metadata.labels['gpu.inferkit.dev/shared-group']).toBe('l4-pool');
  });

  test('LiteLLM discovery annotations, a proxy config and service labels', () => {
    const objs = synth({ backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: {}, serviceLabels: ['textgen', 'code'], litellm: { aliases: ['qwen'], proxyConfig: true } });
    expect(find(objs, 'Service').metadata.annotations).toEqual({
      'model.inferkit.dev/service-labels': 'textgen,code',
      'litellm.flexinfer.ai/enabled': 'true',
      'litellm.flexinfer.ai/served-model': 'm',
      // FlexInfer routes the service labels to the model too: sorted, without the served name.
      'litellm.flexinfer.ai/aliases': 'code,qwen,textgen',
      'litellm.flexinfer.ai/capabilities': '{"toolCalling":true,"vision":false,"imageGeneration":false}',
      'litellm.flexinfer.ai/api-base': 'http://m.llm.svc:8000/v1',
    });
    expect(find(objs, 'ConfigMap', 'm-litellm').data['config.yaml']).toContain('model_name: qwen');
  });

  test('a Copilot alias and given capabilities are annotated; the rest are inferred from the backend and config', () => {
    const objs = synth({
      backend: 'llamacpp',
      source: 'hf://org/gguf',
      gpu: {},
      config: { ggufFile: 'm.gguf', mmproj: 'p.gguf', jinja: true },
      litellm: { modelName: 'coder', copilotAlias: 'gpt-4o' },
      capabilities: { imageGeneration: false },
    });
    expect(find(objs, 'Service').metadata.annotations).toMatchObject({
      'litellm.flexinfer.ai/served-model': 'coder',
      'litellm.flexinfer.ai/copilot-model': 'gpt-4o',
      'litellm.flexinfer.ai/capabilities': '{"toolCalling":true,"vision":true,"imageGeneration":false}',
    });
    expect(JSON.parse(find(synth({ backend: 'diffusers', image: 'd', source: 'hf://org/sd', gpu: {}, litellm: {} }), 'Service')
      .metadata.annotations['litellm.flexinfer.ai/capabilities'])).toEqual({ toolCalling: false, vision: false, imageGeneration: true });
  });

  test('tolerations reach the pods', () => {
    const tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }];
    expect(pod(synth({ backend: 'vllm', source: 'hf://org/model', gpu: {}, tolerations })).spec.tolerations).toEqual(tolerations);
    expect(pod(synth({ backend: 'vllm', source: 'hf://org/model', gpu: {} })).spec.tolerations).toBeUndefined();
  });

  test('a shared GPU group is approximated with PriorityClasses, with a warning naming the difference and the fix', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'llm' });
    new Model(chart, 'chat', { backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: { product: 'L4', shared: 'l4-pool', priority: 100 } });
    expect(Warnings.of(chart).all).toEqual([
      "Warning: test/chat gpu.shared 'l4-pool': FlexInfer time-shares one GPU among the models of a group, loading the one in demand and swapping by " +
      'priority; inferkit approximates the group with PriorityClasses, so each model holds GPUs of its own and a higher priority preempts a lower ' +
      'one only when the nodes are full. Size the GPU nodes for every model of the group at once, or remove gpu.shared.',
    ]);
  });

  test.each<[string, ModelProps, string]>([
    ['vllm on Maxwell', { backend: 'vllm', source: 'hf://org/model', gpu: { product: 'GTX-980-Ti' } },
      "Unable to synthesize test/m: backend 'vllm' cannot run on Maxwell GPU GTX-980-Ti (compute capability 5.2): it needs 7.0 or newer. Use another engine (llamacpp, ollama, mlc-llm), or a GPU of compute capability 7.0 or newer."],
    ['mlc-llm on Maxwell without a precompiled library', { backend: 'mlc-llm', source: 'hf://org/model', gpu: { product: 'GTX-980-Ti' }, image: 'mlc' },
      "config.jitPolicy must be 'READONLY' for mlc-llm on Maxwell GPU GTX-980-Ti, which its JIT cannot compile for."],
    ['cpu with a GPU count', { backend: 'ollama', source: 'ollama://llama3:8b', gpu: { vendor: 'cpu', count: 1 } }, 'Unable to synthesize test/m: gpu.count 1 is set with vendor cpu. Remove count, or choose vendor nvidia, amd or auto.'],
    ['vendor nvidia on an AMD-only product', { backend: 'vllm', source: 'hf://org/model', gpu: { vendor: 'nvidia', product: 'MI300X' } }, "gpu.vendor 'nvidia' selects vendor nvidia on an AMD-only product (MI300X): there is no cross-vendor fallback"],
    ['a model too large for the GPU', { backend: 'vllm', source: 'hf://meta-llama/Meta-Llama-3-70B', gpu: { product: 'L4' } },
      "Unable to synthesize test/m: gpu '1 x L4' needs 148.31 GiB (151868 MiB) per GPU but one L4 has 22.49 GiB (23034 MiB): 128834 MiB (125.81 GiB) short"],
    ['an unknown source scheme', { backend: 'vllm', source: 's3://bucket/llama' }, "source 's3://bucket/llama' has the unknown scheme 's3'. Use one of hf://org/model, ollama://model:tag, file:///path or pvc://claim/path."],
    ['a literal Hugging Face token', { backend: 'vllm', source: 'hf://org/model', config: { hfToken: 'hf_abcdefghijklmnop' } },
      "config.hfToken '(redacted)' is a literal Hugging Face token, which would be stored in the manifests. Put the token in a Secret and reference it with hfTokenSecret."],
    ['an unknown backend', { backend: 'torchserve', source: 'hf://org/model' }, "backend 'torchserve' is not a known engine."],
    ['an unknown GPU product', { backend: 'vllm', source: 'hf://org/model', gpu: { product: 'V100' } }, "gpu.product 'V100' is not a GPU of the catalogue. Use a catalogue name such as H100-80GB, L4 or MI300X."],
    ['vLLM on a Radeon, which the ROCm vLLM image is not built for', { backend: 'vllm', source: 'hf://org/model', gpu: { product: 'RX-7900-XTX' } },
      "Unable to synthesize test/m: backend 'vllm' has an AMD image built for gfx90a, gfx942, not for RX-7900-XTX (gfx1100). Set image to an image " +
      'built for gfx1100, or choose another engine or GPU.'],
    ['a warm minimum above the maximum', { backend: 'vllm', source: 'hf://org/model', gpu: {}, serverless: { minReplicas: 2 } },
      'Unable to synthesize test/m: serverless.minReplicas 2 is not a number of replicas from 0 to maxReplicas (1). Use 0 to scale to zero, or raise maxReplicas.'],
    ['a serverless name too long for its backend Service', { name: 'm'.repeat(60), backend: 'vllm', source: 'hf://org/model', gpu: {}, serverless: {} },
      `Unable to synthesize test/m: name '${'m'.repeat(60)}-backend'`],
    ['a cache for a pvc:// source', { backend: 'vllm', source: 'pvc://models/x', gpu: {}, cache: { strategy: CacheStrategy.SHARED_PVC } },
      "cache 'SharedPVC' is ignored for a pvc:// source, which is mounted at /models itself. Remove cache."],
  ])('%s is refused with a message naming the field and the fix', (_, props, message) => {
    expect(() => synth(props)).toThrow(message);
  });

  test('mlc-llm on Maxwell with a precompiled library is accepted', () => {
    expect(() => synth({ backend: 'mlc-llm', source: 'hf://org/model', gpu: { product: 'GTX-980-Ti' }, image: 'mlc', config: { jitPolicy: 'READONLY' } })).not.toThrow();
  });
});

describe('Model endpoint', () => {
  test('is the Service\'s cluster address, or its short name without a namespace', () => {
    expect(new Model(new Chart(Testing.app(), 'a', { namespace: 'llm' }), 'm', { backend: 'vllm', source: 'hf://a/b', gpu: {} }).endpoint).toBe('http://m.llm.svc:8000');
    expect(new Model(new Chart(Testing.app(), 'b'), 'm', { backend: 'vllm', source: 'hf://a/b', gpu: {} }).endpoint).toBe('http://m:8000');
  });
});

describe('scale-to-zero that wakes up', () => {
  /** Follows a client's URL through the synthesized objects, as cluster DNS and the add-on's interceptor would. */
  function route(objs: Obj[], url: string, clientNamespace: string) {
    const u = new URL(url);
    const labels = u.hostname.split('.');
    const [serviceName, namespace] = [labels[0], labels[1] ?? clientNamespace];
    const service = objs.find(o => o.kind === 'Service' && o.metadata.name === serviceName && o.metadata.namespace === namespace)!;
    return { u, service };
  }

  test('the documented address, the LiteLLM api_base and the proxy config reach the interceptor, with a host its HTTPScaledObject routes', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'llm' });
    const model = new Model(chart, 'qwen', { backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: {}, serverless: {}, litellm: { proxyConfig: true } });
    const objs = Testing.synth(chart);
    const http = find(objs, 'HTTPScaledObject').spec;
    const proxyBase = /api_base: (\S+)/.exec(find(objs, 'ConfigMap', 'qwen-litellm').data['config.yaml'])![1];
    const annotationBase = find(objs, 'Service', 'qwen').metadata.annotations['litellm.flexinfer.ai/api-base'];
    expect(model.endpoint).toBe('http://qwen.llm.svc:8080');
    for (const [url, from] of [[model.endpoint, 'other'], [annotationBase, 'other'], [proxyBase, 'other'], ['http://qwen:8080', 'llm'], ['http://qwen.llm:8080', 'other']]) {
      const { u, service } = route(objs, url, from);
      // Cluster DNS answers the Service's name with the interceptor proxy's: the connection goes to its port.
      expect(service.spec).toEqual({ type: 'ExternalName', externalName: 'keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local', ports: [{ name: 'http', port: 8080 }] });
      expect(Number(u.port)).toBe(8080);
      // The interceptor routes by the Host header without its port.
      expect(http.hosts).toContain(u.hostname);
    }
    // The interceptor forwards to a Service of the Deployment's pods, on the engine's port, and scales that Deployment.
    const deployment = find(objs, 'Deployment', http.scaleTargetRef.name);
    const backend = find(objs, 'Service', http.scaleTargetRef.service);
    expect(backend.spec.type).toBeUndefined();
    expect(deployment.spec.template.metadata.labels).toMatchObject(backend.spec.selector);
    const portName = backend.spec.ports.find((x: Obj) => x.port === http.scaleTargetRef.port).targetPort;
    expect(deployment.spec.template.spec.containers[0].ports).toContainEqual({ name: portName, containerPort: 8000 });
    expect(find(objs, 'ScaledObject').spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    expect(find(objs, 'ScaledObject').spec.triggers[0].metadata.httpScaledObject).toBe(find(objs, 'HTTPScaledObject').metadata.name);
  });

  test('the add-on\'s namespace and the cluster domain are the documented defaults, and can be set', () => {
    const objs = synth({ backend: 'vllm', source: 'hf://org/model', gpu: {}, serverless: { addOnNamespace: 'keda-http', clusterDomain: 'corp.local' } });
    expect(find(objs, 'Service', 'm').spec.externalName).toBe('keda-add-ons-http-interceptor-proxy.keda-http.svc.corp.local');
    expect(find(objs, 'HTTPScaledObject').spec.hosts).toEqual(['m', 'm.llm', 'm.llm.svc', 'm.llm.svc.corp.local']);
    expect(find(objs, 'ScaledObject').spec.triggers[0].metadata.scalerAddress).toBe('keda-add-ons-http-external-scaler.keda-http:9090');
  });

  test('a warm model (minReplicas 1) keeps a replica: no idle count, the same minimum in both objects', () => {
    const objs = synth({ backend: 'vllm', source: 'hf://org/model', gpu: {}, serverless: { minReplicas: 1, maxReplicas: 3 } });
    expect(find(objs, 'ScaledObject').spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 3 });
    expect(find(objs, 'ScaledObject').spec.idleReplicaCount).toBeUndefined();
    expect(find(objs, 'HTTPScaledObject').spec.replicas).toEqual({ min: 1, max: 3 });
  });

  test('without serverless the Service selects the pods on the engine\'s port', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'llm' });
    const model = new Model(chart, 'm', { backend: 'vllm', source: 'hf://org/model', gpu: {} });
    const objs = Testing.synth(chart);
    expect(model.endpoint).toBe('http://m.llm.svc:8000');
    expect(find(objs, 'Service', 'm').spec).toEqual({ selector: { 'model.inferkit.dev/name': 'm' }, ports: [{ name: 'http', port: 8000, targetPort: 'http' }] });
    expect(objs.some(o => o.metadata.name === 'm-backend')).toBe(false);
  });

  test('a ModelInfer cannot run a model that asked for serverless', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'llm' });
    const model = new Model(chart, 'm', { backend: 'vllm', source: 'hf://org/model', gpu: {}, serverless: {} });
    expect(() => new ModelInfer(chart, 'infer', { modelRef: model, replicas: 2 })).toThrow("modelRef 'm' is serverless, so KEDA already owns its replica count");
  });
});
