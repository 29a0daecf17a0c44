// The WorkloadStatus provider's methods, called as the dynamic-provider process calls them, against the real test
// cluster: create waits for Ready (or fails with the reasons at the timeout), skipAwait does not wait, refresh observes
// again. Its check and diff, which read no cluster, are unit tests (test/providers/status.test.ts).
import * as fs from 'fs';
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { GangScheduling, ModelInfer } from '../../index';
import { statusProvider } from '../../providers/status';
import { groupWorkloads } from '../../src';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';

const kubeconfig = process.env[KUBECONFIG_ENV]!;
const kube = Kube.fromKubeconfig(kubeconfig);
const NS = 'status-provider';
afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, NS);
  kube.close();
});


/** A ModelInfer of two entry + worker groups whose pods carry `annotations` (the KWOK stages') and ask for `gpus`. */
function groups(name: string, annotations: Record<string, string>, gpus = 0): KubeObject[] {
  const chart = new Chart(new App(), 'c', { namespace: NS });
  const template = (container: string) => ({
    metadata: { annotations },
    spec: { containers: [{ name: container, image: 'vllm:v1', ...(gpus ? { resources: { limits: { 'nvidia.com/gpu': k8s.Quantity.fromNumber(gpus) } } } : {}) }] },
  });
  new ModelInfer(chart, name, {
    replicas: 2,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
  });
  return chart.toJson();
}

// `llm` becomes Ready 3 s after its pods start; every container of `crash` waits in CrashLoopBackOff; the pods of
// `huge` ask for more GPUs than any node has.
const llm = groups('llm', { 'test.inferkit.dev/ready-delay': '3s' });
const crash = groups('crash', { 'test.inferkit.dev/fail': 'CrashLoopBackOff' });
const huge = groups('huge', {}, 16);

const inputs = (objects: KubeObject[], extra: Record<string, unknown> = {}) => ({
  workloads: groupWorkloads(objects), kubeconfigs: { '': fs.readFileSync(kubeconfig, 'utf8') }, ...extra,
});
const provider = statusProvider(20);

beforeAll(async () => {
  await kube.apply(restrictedNamespace(NS));
  for (const o of [...llm, ...crash, ...huge]) await kube.apply(o);
});

describe('the WorkloadStatus provider', () => {
  test('create waits until the workload is Ready and outputs its status', async () => {
    // Not Ready yet: its pods become Ready 3 s after they start.
    const before = await provider.create!(inputs(llm, { skipAwait: true }));
    expect(before.outs.statuses[0]).toMatchObject({ ready: false });
    const { id, outs } = await provider.create!(inputs(llm, { timeoutSeconds: 60 }));
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(outs.statuses).toHaveLength(1);
    expect(outs.statuses[0]).toMatchObject({
      ref: { kind: 'ModelInfer', namespace: NS, name: 'llm' },
      phase: 'Running',
      ready: true,
      readyCount: 2,
      desired: 2,
      conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'False' }],
      status: { phase: 'Running', readyReplicas: 2 },
    });
  });

  test('create fails at the timeout while the workload is not Ready, with its reasons and the fix', async () => {
    // The engine of group 0 was OOMKilled before it went into CrashLoopBackOff: recorded as a kubelet does, once the
    // KWOK stage has set the container waiting.
    const pod = 'crash-0-serve-0-0';
    const engine = await kube.waitFor(`pod ${pod} waiting in CrashLoopBackOff`, async () => {
      const c = (await kube.get('v1', 'Pod', NS, pod))?.status?.containerStatuses?.[0];
      return c?.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
    });
    // The list of container statuses is replaced as a whole: the engine's, with its last termination.
    const patch = await kube.request('PATCH', `${await kube.path('v1', 'Pod', NS, pod)}/status`, {
      status: { containerStatuses: [{ ...engine, restartCount: 4, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }] },
    }, 'application/strategic-merge-patch+json');
    expect(patch.status).toBe(200);
    await expect(provider.create!(inputs(crash, { timeoutSeconds: 1 }))).rejects.toThrow(new RegExp(
      `^Unable to bring up ModelInfer/${NS}/crash: Failed, 0/2 Ready after 1 s: crash-0: StatefulSet/crash-0-serve-0: pod crash-0-serve-0-0: container engine CrashLoopBackOff: test stage: CrashLoopBackOff; `
      + 'container engine OOMKilled \\(exit 137\\).*\\.\\nFix the cause and run again, raise timeoutSeconds, or set skipAwait\\.$', 's'));
  });

  test('skipAwait: create observes once and succeeds whatever the status', async () => {
    const { outs } = await kube.waitFor('ModelInfer huge Unschedulable', async () => {
      const r = await provider.create!(inputs(huge, { skipAwait: true }));
      return r.outs.statuses[0].conditions[0]?.reason === 'Unschedulable' ? r : undefined;
    });
    expect(outs.statuses[0]).toMatchObject({ phase: 'Pending', ready: false, readyCount: 0 });
    expect(outs.statuses[0].conditions[0]).toMatchObject({ type: 'Available', status: 'False', reason: 'Unschedulable' });
    expect(outs.statuses[0].conditions[0].message).toMatch(/0\/\d+ nodes are available: .*Insufficient nvidia\.com\/gpu/);
  });

  test('read (refresh) observes the cluster again', async () => {
    const { outs } = await provider.create!(inputs(llm, { timeoutSeconds: 60 }));
    expect(outs.statuses[0]).toMatchObject({ phase: 'Running', ready: true, readyCount: 2 });
    // Behind the provider's back, every pod is replaced by one whose image cannot be pulled.
    for (const o of llm.filter(x => x.kind === 'StatefulSet')) {
      const t = o.spec.template;
      await kube.apply({ ...o, spec: { ...o.spec, template: { ...t, metadata: { ...t.metadata, annotations: { ...t.metadata.annotations, 'test.inferkit.dev/fail': 'ImagePullBackOff' } } } } });
    }
    for (const p of await kube.list('v1', 'Pod', NS, 'modelinfer.matrixinfer.ai/name=llm')) await kube.delete('v1', 'Pod', NS, p.metadata.name);
    const refreshed = await kube.waitFor('ModelInfer llm Failed on refresh', async () => {
      const r = await provider.read!('id', outs);
      return r.props!.statuses[0].readyCount === 0 && r.props!.statuses[0].phase === 'Failed' ? r : undefined;
    }, 90_000, 500);
    expect(refreshed.props!.statuses[0]).toMatchObject({ phase: 'Failed', ready: false, readyCount: 0 });
    expect(refreshed.props!.statuses[0].reasons.join('\n')).toMatch(/container (engine|worker) ImagePullBackOff/);
    expect(refreshed.props!.kubeconfigs).toEqual(outs.kubeconfigs);
  });
});
