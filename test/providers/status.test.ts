// The WorkloadStatus provider's methods, called as the dynamic-provider process calls them, against a fake API server:
// create waits for Ready (or fails with the reasons), skipAwait does not, refresh observes again, diff on named fields.
import { App, Chart } from 'cdk8s';
import { GangScheduling, ModelInfer } from '../../index';
import { statusProvider } from '../../providers/status';
import { groupWorkloads, K8sObject } from '../../src';
import { FakeApiServer } from '../_fake-apiserver';
import { live, podsOf, PodState } from '../src/observe/_live';

const objects = (() => {
  const chart = new Chart(new App(), 'c', { namespace: 'ml' });
  const template = (name: string) => ({ spec: { containers: [{ name, image: 'vllm:v1' }] } });
  new ModelInfer(chart, 'llm', {
    replicas: 2,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
  });
  return chart.toJson();
})();

const running = (state: PodState): K8sObject[] => {
  const workloads = objects.filter(o => o.kind === 'StatefulSet').map(o => live(o));
  return [...workloads, ...workloads.flatMap(w => podsOf(w, state))];
};

let api: FakeApiServer;
beforeAll(async () => {
  api = await FakeApiServer.start();
});
afterAll(() => api.stop());

const inputs = (extra: Record<string, unknown> = {}) => ({ workloads: groupWorkloads(objects), kubeconfigs: { '': api.kubeconfig }, ...extra });
const provider = statusProvider(20);

describe('the WorkloadStatus provider', () => {
  test('create waits until the workload is Ready and outputs its status', async () => {
    api.objects = running('running');
    setTimeout(() => { api.objects = running('ready'); }, 200);
    const { id, outs } = await provider.create!(inputs({ timeoutSeconds: 30 }));
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(outs.statuses).toHaveLength(1);
    expect(outs.statuses[0]).toMatchObject({
      ref: { kind: 'ModelInfer', namespace: 'ml', name: 'llm' },
      phase: 'Running',
      ready: true,
      readyCount: 2,
      desired: 2,
      conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing', status: 'False' }],
      status: { phase: 'Running', readyReplicas: 2 },
    });
  });

  test('create fails at the timeout while the workload is not Ready, with its reasons and the fix', async () => {
    api.objects = running({ waiting: 'CrashLoopBackOff', lastTerminated: 'OOMKilled' });
    await expect(provider.create!(inputs({ timeoutSeconds: 1 }))).rejects.toThrow(new RegExp(
      '^Unable to bring up ModelInfer/ml/llm: Failed, 0/2 Ready after 1 s: llm-0: StatefulSet/llm-0-serve-0: pod llm-0-serve-0-0: container engine CrashLoopBackOff; '
      + 'container engine OOMKilled \\(exit 137\\).*\\.\\nFix the cause and run again, raise timeoutSeconds, or set skipAwait\\.$', 's'));
  });

  test('skipAwait: create observes once and succeeds whatever the status', async () => {
    api.objects = running({ unschedulable: '0/7 nodes are available: 7 Insufficient nvidia.com/gpu.' });
    const { outs } = await provider.create!(inputs({ skipAwait: true }));
    expect(outs.statuses[0]).toMatchObject({ phase: 'Pending', ready: false, readyCount: 0 });
    expect(outs.statuses[0].conditions[0]).toMatchObject({ type: 'Available', status: 'False', reason: 'Unschedulable' });
  });

  test('read (refresh) observes the cluster again', async () => {
    api.objects = running('ready');
    const { outs } = await provider.create!(inputs());
    api.objects = running({ waiting: 'ImagePullBackOff' });
    const refreshed = await provider.read!('id', outs);
    expect(refreshed.props!.statuses[0]).toMatchObject({ phase: 'Failed', ready: false, readyCount: 0 });
    expect(refreshed.props!.kubeconfigs).toEqual(outs.kubeconfigs);
  });

  test('diff compares the named inputs: the statuses and a new serialized provider are no change, other objects or a kubeconfig are', async () => {
    api.objects = running('ready');
    const { outs } = await provider.create!(inputs());
    expect((await provider.diff!('id', outs, { ...inputs(), __provider: 'x' })).changes).toBe(false);
    expect((await provider.diff!('id', outs, inputs({ kubeconfigs: { '': FakeApiServer.kubeconfigFor(1) } }))).changes).toBe(true);
    expect((await provider.diff!('id', outs, inputs({ skipAwait: true }))).changes).toBe(true);
    expect((await provider.diff!('id', outs, { ...inputs(), workloads: groupWorkloads(objects.slice(1)) })).changes).toBe(true);
  });

  test('check refuses a timeout that is not a positive whole number of seconds', async () => {
    const result = await provider.check!({}, inputs({ timeoutSeconds: 1.5 }));
    expect(result.failures).toEqual([{ property: 'timeoutSeconds', reason: 'timeoutSeconds 1.5 is not a positive whole number of seconds. Give, for example, 1800.' }]);
  });
});
