// The security defaults on the test cluster: a ModelInfer's PodDisruptionBudget and opt-in NetworkPolicy, and the
// endpoint picker's metrics-auth ClusterRole, are accepted with strict validation; the budget covers every group's pods
// and the pods run without a ServiceAccount token under PodSecurity restricted.
import { Chart, Testing } from 'cdk8s';
import { GangScheduling, InferencePool, ModelInfer } from '../../index';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';

const kube = Kube.fromKubeconfig(process.env[KUBECONFIG_ENV]!);
const NAMESPACE = 'secure';

beforeAll(async () => {
  await kube.apply(restrictedNamespace(NAMESPACE));
});
afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, NAMESPACE);
  kube.close();
});

function objects(): KubeObject[] {
  const chart = new Chart(Testing.app(), 'secure', { namespace: NAMESPACE });
  const template = { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0', ports: [{ containerPort: 8000 }] }] } };
  new ModelInfer(chart, 'guarded', {
    replicas: 2,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    rolloutStrategy: { maxUnavailable: 1 },
    podDefaults: { networkPolicy: true },
    roles: [{ name: 'serve', entryTemplate: template, workerReplicas: 1, workerTemplate: template }],
  });
  new InferencePool(chart, 'pool', { name: 'guarded', selector: { 'modelinfer.matrixinfer.ai/name': 'guarded' } });
  return Testing.synth(chart);
}

describe('security defaults on a real API server', () => {
  test('the PodDisruptionBudget, the NetworkPolicy and the metrics-auth ClusterRole apply strictly; the budget sees every group\'s pods', async () => {
    const objs = objects();
    const kinds = objs.map(o => o.kind);
    expect(kinds).toEqual(expect.arrayContaining(['PodDisruptionBudget', 'NetworkPolicy', 'ClusterRole', 'ClusterRoleBinding']));
    try {
      for (const o of objs.filter(x => x.kind !== 'InferencePool')) await kube.apply(o);
      const pdb = await kube.waitFor('the budget to count the pods', async () => {
        const p = await kube.get('policy/v1', 'PodDisruptionBudget', NAMESPACE, 'guarded');
        return p?.status?.expectedPods === 4 ? p : undefined;
      }, 120_000);
      expect(pdb.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
      const pods = await kube.list('v1', 'Pod', NAMESPACE, 'modelinfer.matrixinfer.ai/name=guarded');
      expect(pods).toHaveLength(4);
      for (const p of pods) {
        expect(p.spec.automountServiceAccountToken).toBe(false);
        expect(p.spec.volumes.some((v: KubeObject) => v.projected?.sources?.some((s: KubeObject) => s.serviceAccountToken))).toBe(false);
      }
      expect((await kube.get('networking.k8s.io/v1', 'NetworkPolicy', NAMESPACE, 'guarded'))?.spec.ingress).toHaveLength(3);
    } finally {
      for (const o of objs.filter(x => x.kind === 'ClusterRole' || x.kind === 'ClusterRoleBinding')) await kube.delete(o.apiVersion, o.kind, undefined, o.metadata.name);
    }
  });
});
