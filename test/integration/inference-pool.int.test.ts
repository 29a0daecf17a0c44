import { Chart, Testing } from 'cdk8s';
import { EPP_CONFIG_FILE, InferencePool, InferencePoolLabels, SchedulingMode } from '../../constructs/inference-pool';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';

const kube = Kube.fromKubeconfig(process.env[KUBECONFIG_ENV]!);

const MODES = {
  unified: SchedulingMode.unified(),
  pd: SchedulingMode.prefillDecode({ key: 'llm-d.ai/role', prefillValue: 'prefill', decodeValue: 'decode' }),
};
const namespaceOf = (mode: string): string => `gie-${mode}`;

/** The synthesized objects of one pool per mode, each in its own restricted namespace, routed from a Gateway. */
function objectsOf(mode: keyof typeof MODES): KubeObject[] {
  const chart = new Chart(Testing.app(), mode, { namespace: namespaceOf(mode) });
  new InferencePool(chart, 'llama', {
    selector: { app: 'llama' },
    mode: MODES[mode],
    gateway: { name: 'inference-gateway', sectionName: 'http' },
  });
  return Testing.synth(chart);
}

const isReady = (p: KubeObject) => p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');

beforeAll(async () => {
  for (const mode of Object.keys(MODES)) await kube.apply(restrictedNamespace(namespaceOf(mode)));
});

afterAll(async () => {
  for (const mode of Object.keys(MODES)) await kube.delete('v1', 'Namespace', undefined, namespaceOf(mode));
  kube.close();
});

describe.each(Object.keys(MODES) as Array<keyof typeof MODES>)('an InferencePool in %s mode', mode => {
  const namespace = namespaceOf(mode);
  const objects = objectsOf(mode);

  test('every object is accepted by the API server with strict field validation, with no PodSecurity warning', async () => {
    expect(objects.map(o => o.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'HTTPRoute', 'InferencePool', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    const warningsBefore = kube.warnings.length;
    for (const obj of objects) {
      const applied = await kube.apply(obj);
      expect(applied.metadata.uid).toBeDefined();
    }
    expect(kube.warnings.slice(warningsBefore)).toEqual([]);

    const pool = await kube.get('inference.networking.k8s.io/v1', 'InferencePool', namespace, 'llama');
    expect(pool!.spec.endpointPickerRef).toMatchObject({ name: 'llama-epp', port: { number: 9002 } });
    expect(pool!.spec.targetPorts).toEqual([{ number: 8000 }]);
    const route = await kube.get('gateway.networking.k8s.io/v1', 'HTTPRoute', namespace, 'llama');
    expect(route!.spec.rules[0].backendRefs[0]).toMatchObject({ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'llama' });
    const config = await kube.get('v1', 'ConfigMap', namespace, 'llama-epp');
    expect(config!.data[EPP_CONFIG_FILE]).toContain('kind: EndpointPickerConfig');
  });

  test('the endpoint picker\'s pod is admitted under PodSecurity restricted, scheduled and Ready', async () => {
    const pod = await kube.waitFor(`a Ready endpoint picker pod in ${namespace}`, async () => {
      const pods = await kube.list('v1', 'Pod', namespace, `${InferencePoolLabels.EPP}=llama-epp`);
      return pods.length === 1 && isReady(pods[0]) ? pods[0] : undefined;
    }, 90_000);
    expect(pod.spec.nodeName).toBeDefined();
    expect(pod.spec.serviceAccountName).toBe('llama-epp');
    const deployment = await kube.waitFor('the endpoint picker Deployment to report its replica available', async () => {
      const d = await kube.get('apps/v1', 'Deployment', namespace, 'llama-epp');
      return d?.status?.availableReplicas === 1 ? d : undefined;
    });
    expect(deployment.spec.template.spec.containers[0].readinessProbe.grpc.port).toBe(9003);
  });
});
