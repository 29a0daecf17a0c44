// A FlexInfer Model at zero, as the real API server stores it: its documented address leads to the KEDA HTTP add-on's
// interceptor Service, under a host its HTTPScaledObject routes, and the interceptor's target Service reaches the pods.
// The test cluster runs no KEDA and no cluster DNS: the add-on's interceptor Service stands in for the add-on, and
// the links between the objects are checked on what the server stored (after defaulting and strict validation).
import { Chart, Testing } from 'cdk8s';
import { Model } from '../../constructs/model';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';

const kube = Kube.fromKubeconfig(process.env[KUBECONFIG_ENV]!);
const NAMESPACE = 'flexinfer-serverless';
const ADD_ON_NAMESPACE = 'keda';

/** FlexInfer's minimal Model (seed 002), so scale-to-zero comes from the CRD's defaults; with LiteLLM discovery. */
const manifest = {
  apiVersion: 'ai.flexinfer/v1alpha2',
  kind: 'Model',
  metadata: { name: 'llama3-8b', namespace: NAMESPACE },
  spec: { backend: 'ollama', source: 'ollama://llama3:8b', litellm: { servedModelName: 'llama3' } },
};
const chart = new Chart(Testing.app(), 'serverless');
const model = Model.fromManifest(chart, 'model', manifest);
const objects = Testing.synth(chart) as KubeObject[];

/** FlexInfer's own example shapes: a shared pair (Memory caches by default) and an AMD ROCm model, warm (minReplicas 1). */
const EXAMPLES_NAMESPACE = 'flexinfer-examples';
const examples = [
  { metadata: { name: 'textgen' }, spec: { backend: 'vllm', source: 'HF://Qwen/Qwen2.5-7B', gpu: { vendor: 'nvidia', shared: 'it-gpu', priority: 200 } } },
  {
    metadata: { name: 'coder' },
    spec: {
      backend: 'llamacpp',
      source: 'HF://mradermacher/Stable-DiffCoder-8B-Instruct-i1-GGUF',
      gpu: { vendor: 'nvidia', shared: 'it-gpu' },
      config: { ggufFile: 'Stable-DiffCoder-8B-Instruct.i1-Q4_K_M.gguf', contextSize: 4096 },
    },
  },
  {
    metadata: { name: 'rocm' },
    spec: {
      backend: 'vllm',
      source: 'HF://Qwen/Qwen2.5-7B',
      gpu: { vendor: 'amd' },
      cache: { strategy: 'Memory' },
      serverless: { minReplicas: 1 },
      tolerations: [{ key: 'amd.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
    },
  },
].map(e => ({ apiVersion: 'ai.flexinfer/v1alpha2', kind: 'Model', metadata: { ...e.metadata, namespace: EXAMPLES_NAMESPACE }, spec: e.spec }));
const examplesChart = new Chart(Testing.app(), 'examples');
examples.forEach(e => Model.fromManifest(examplesChart, e.metadata.name, e));
const exampleObjects = Testing.synth(examplesChart) as KubeObject[];

/** The add-on's interceptor proxy Service, as its Helm chart installs it (the selector is the chart's). */
const interceptor: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'keda-add-ons-http-interceptor-proxy', namespace: ADD_ON_NAMESPACE },
  spec: { selector: { 'app.kubernetes.io/component': 'interceptor' }, ports: [{ name: 'proxy', port: 8080, targetPort: 8080 }] },
};

const isReady = (p: KubeObject) => p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  await kube.apply(restrictedNamespace(NAMESPACE));
  await kube.apply(restrictedNamespace(EXAMPLES_NAMESPACE));
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ADD_ON_NAMESPACE } });
  await kube.apply(interceptor);
});

afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, NAMESPACE);
  await kube.delete('v1', 'Namespace', undefined, EXAMPLES_NAMESPACE);
  for (const o of exampleObjects.filter(x => x.kind === 'PriorityClass')) await kube.delete('scheduling.k8s.io/v1', 'PriorityClass', undefined, o.metadata.name);
  await kube.delete('v1', 'Service', ADD_ON_NAMESPACE, interceptor.metadata.name);
  kube.close();
});

describe('a FlexInfer Model at zero', () => {
  test('every object is accepted with strict field validation, with no PodSecurity warning', async () => {
    expect(objects.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/llama3-8b', 'HTTPScaledObject/llama3-8b', 'ScaledObject/llama3-8b', 'Service/llama3-8b', 'Service/llama3-8b-backend',
    ]);
    const warningsBefore = kube.warnings.length;
    for (const obj of objects) expect((await kube.apply(obj)).metadata.uid).toBeDefined();
    expect(kube.warnings.slice(warningsBefore)).toEqual([]);
  });

  test('its documented address and LiteLLM api_base lead to the interceptor\'s Service and port, under a host the HTTPScaledObject routes', async () => {
    const service = (await kube.get('v1', 'Service', NAMESPACE, model.name))!;
    const http = (await kube.get('http.keda.sh/v1alpha1', 'HTTPScaledObject', NAMESPACE, model.name))!;
    const proxy = (await kube.get('v1', 'Service', ADD_ON_NAMESPACE, interceptor.metadata.name))!;
    for (const address of [model.endpoint, service.metadata.annotations['litellm.flexinfer.ai/api-base']]) {
      const url = new URL(address);
      // `<service>.<namespace>.svc` is the Service's cluster DNS name, which answers with its ExternalName.
      const [name, namespace] = url.hostname.split('.');
      expect([name, namespace]).toEqual([service.metadata.name, service.metadata.namespace]);
      expect(service.spec.type).toBe('ExternalName');
      expect(service.spec.externalName).toBe(`${proxy.metadata.name}.${proxy.metadata.namespace}.svc.cluster.local`);
      expect(proxy.spec.ports.map((p: KubeObject) => p.port)).toContain(Number(url.port));
      // The interceptor routes by the request's Host header, its port stripped.
      expect(http.spec.hosts).toContain(url.hostname);
    }
  });

  test('the interceptor\'s target Service reaches the model\'s pods on the port it forwards to', async () => {
    const http = (await kube.get('http.keda.sh/v1alpha1', 'HTTPScaledObject', NAMESPACE, model.name))!;
    const { service, port, name } = http.spec.scaleTargetRef;
    // Without KEDA in the test cluster the Deployment keeps the server's default of one replica: its pod passes
    // PodSecurity restricted and becomes Ready, and the target Service's endpoints hold it on that port.
    const slice = await kube.waitFor(`a ready endpoint of Service ${service}`, async () => {
      const pods = await kube.list('v1', 'Pod', NAMESPACE, `model.inferkit.dev/name=${name}`);
      if (pods.length !== 1 || !isReady(pods[0])) return undefined;
      const slices = await kube.list('discovery.k8s.io/v1', 'EndpointSlice', NAMESPACE, `kubernetes.io/service-name=${service}`);
      return slices.find(s => s.endpoints?.some((e: KubeObject) => e.targetRef?.name === pods[0].metadata.name && e.conditions?.ready));
    });
    const target = (await kube.get('v1', 'Service', NAMESPACE, service))!;
    const servicePort = target.spec.ports.find((p: KubeObject) => p.port === port);
    expect(servicePort).toBeDefined();
    expect(slice.ports.map((p: KubeObject) => p.port)).toContain(model.port);
    expect(servicePort.targetPort).toBe('http');
  });
});

describe('FlexInfer\'s example Models', () => {
  test('are accepted with strict field validation, with no PodSecurity warning', async () => {
    const warningsBefore = kube.warnings.length;
    for (const obj of exampleObjects) expect((await kube.apply(obj)).metadata.uid).toBeDefined();
    expect(kube.warnings.slice(warningsBefore)).toEqual([]);
  });

  test('run on GPU nodes of their vendor: the shared pair with its priorities, the ROCm model in the device groups', async () => {
    for (const [name, vendorLabel] of [['textgen', 'nvidia.com/gpu.product'], ['coder', 'nvidia.com/gpu.product'], ['rocm', 'amd.com/gpu.product-name']]) {
      const pod = await kube.waitFor(`a Ready ${name} pod`, async () => {
        const pods = await kube.list('v1', 'Pod', EXAMPLES_NAMESPACE, `model.inferkit.dev/name=${name}`);
        return pods.length === 1 && isReady(pods[0]) ? pods[0] : undefined;
      });
      const node = (await kube.get('v1', 'Node', undefined, pod.spec.nodeName))!;
      expect(node.metadata.labels[vendorLabel]).toBeDefined();
      if (name === 'rocm') expect(pod.spec.securityContext.supplementalGroups).toEqual([109, 992]);
      else expect(pod.spec.priority).toBe(name === 'textgen' ? 1200 : 1100);
    }
  });
});
