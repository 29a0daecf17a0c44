// The WorkloadStatus provider's methods that read no cluster: diff on the named inputs, and check of the timeout.
// create, skipAwait and read (refresh) run against the real test cluster: test/integration/status-provider.int.test.ts.
import { statusProvider } from '../../providers/status';
import { groupWorkloads } from '../../src';
import { entryWorkerGroups } from '../_helpers';

const objects = entryWorkerGroups();

/** A kubeconfig as text: the provider compares it, and these methods never connect. */
const kubeconfigAt = (port: number) => [
  'apiVersion: v1', 'kind: Config', 'current-context: c',
  'clusters:', '- name: c', `  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
  'users:', '- name: u', '  user: {token: t}',
  'contexts:', '- name: c', '  context: {cluster: c, user: u}',
].join('\n');

const inputs = (extra: Record<string, unknown> = {}) => ({ workloads: groupWorkloads(objects), kubeconfigs: { '': kubeconfigAt(6443) }, ...extra });
const provider = statusProvider(20);

describe('the WorkloadStatus provider', () => {
  test('diff compares the named inputs: the statuses and a new serialized provider are no change, other objects or a kubeconfig are', async () => {
    // The outputs of a create: its inputs and the statuses it observed (which diff does not compare).
    const outs = { ...inputs(), statuses: [{ ref: { kind: 'ModelInfer', namespace: 'ml', name: 'llm' }, phase: 'Running', ready: true }] };
    expect((await provider.diff!('id', outs, { ...inputs(), __provider: 'x' })).changes).toBe(false);
    expect((await provider.diff!('id', outs, inputs({ kubeconfigs: { '': kubeconfigAt(1) } }))).changes).toBe(true);
    expect((await provider.diff!('id', outs, inputs({ skipAwait: true }))).changes).toBe(true);
    expect((await provider.diff!('id', outs, { ...inputs(), workloads: groupWorkloads(objects.slice(1)) })).changes).toBe(true);
  });

  test('check refuses a timeout that is not a positive whole number of seconds', async () => {
    const result = await provider.check!({}, inputs({ timeoutSeconds: 1.5 }));
    expect(result.failures).toEqual([{ property: 'timeoutSeconds', reason: 'timeoutSeconds 1.5 is not a positive whole number of seconds. Give, for example, 1800.' }]);
  });
});
