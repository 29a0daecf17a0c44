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
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ADD_ON_NAMESPACE } });
  await kube.apply(interceptor);
});

afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, NAMESPACE);
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
