// The Rollout and WorkloadStatus resources keep their sets and workloads as canonical JSON text: a state written by an
// earlier version (arrays) reads as the same value, so upgrading inferkit rolls nothing.
import { rolloutProvider } from '../../providers/rollout';
import { statusProvider } from '../../providers/status';
import { canonicalJson, changedInputs, RolloutSet } from '../../src';

const set = (image: string): RolloutSet => ({
  set: 'modelinfer.llm',
  namespace: 'ml',
  prefix: 'llm',
  revision: image,
  unitKind: 'group',
  strategy: { replicas: 1, maxUnavailable: 1, maxSurge: 0, partition: 0 },
  units: [{ index: 0, objects: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'llm-0' }, spec: { template: { spec: { containers: [{ name: 'e', image }] } } } }] }],
} as unknown as RolloutSet);

const workloads = (image: string) => [{ ref: { apiVersion: 'x/v1', kind: 'ModelInfer', namespace: 'ml', name: 'llm' }, objects: set(image).units[0].objects }];

describe('Rollout state', () => {
  const kubeconfigs = { '': 'kubeconfig' };

  test('sets kept as an array by an earlier version equal the same sets as text: no change', async () => {
    const diff = await rolloutProvider.diff!('id', { sets: [set('v1')], kubeconfigs }, { sets: canonicalJson([set('v1')]), kubeconfigs });
    expect(diff.changes).toBe(false);
  });

  test('other sets, as text or against an old array, are a change', async () => {
    expect((await rolloutProvider.diff!('id', { sets: canonicalJson([set('v1')]), kubeconfigs }, { sets: canonicalJson([set('v2')]), kubeconfigs })).changes).toBe(true);
    expect((await rolloutProvider.diff!('id', { sets: [set('v1')], kubeconfigs }, { sets: canonicalJson([set('v2')]), kubeconfigs })).changes).toBe(true);
  });

  test('check reads the sets from the text', async () => {
    const bad = { ...set('v1'), strategy: { replicas: 2, maxUnavailable: 0, maxSurge: 0, partition: 0 } };
    const { failures } = await rolloutProvider.check!({}, { sets: canonicalJson([bad]), kubeconfigs });
    expect(failures).toEqual([expect.objectContaining({ property: 'set', reason: expect.stringMatching(/^Unable to roll ml\/modelinfer\.llm: /) })]);
  });
});

describe('WorkloadStatus state', () => {
  const kubeconfigs = { '': 'kubeconfig' };

  test('workloads kept as an array by an earlier version equal the same workloads as text; others are a change', async () => {
    const provider = statusProvider();
    expect((await provider.diff!('id', { workloads: workloads('v1'), kubeconfigs }, { workloads: canonicalJson(workloads('v1')), kubeconfigs })).changes).toBe(false);
    expect((await provider.diff!('id', { workloads: workloads('v1'), kubeconfigs }, { workloads: canonicalJson(workloads('v2')), kubeconfigs })).changes).toBe(true);
  });
});

describe('changedInputs', () => {
  test('names the inputs that differ, a text input equal to the same value stored as itself', () => {
    const olds = { sets: [{ a: 1, b: 2 }], kubeconfigs: { '': 'a' }, onFailure: 'Halt' };
    const news = { sets: canonicalJson([{ b: 2, a: 1 }]), kubeconfigs: { '': 'b' }, onFailure: 'Halt' };
    expect(changedInputs(olds, news, ['onFailure', 'kubeconfigs'], ['sets'])).toEqual(['kubeconfigs']);
  });
});
