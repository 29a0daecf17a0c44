// Rollout sets from rendered objects, surge units made by renaming, the observation fold, and `rollout --dry-run`.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { stringify } from 'yaml';
import { mainAsync } from '../cli/inferkit';
import { GangScheduling, ModelInfer, Warnings, WorkloadBackend } from '../index';
import { observeUnits, planWaves, renameUnit, RolloutAnnotations, RolloutLabels, rolloutSets, stampDeployments } from '../src';

function render(replicas = 6, strategy = { maxUnavailable: 2, maxSurge: 0, partition: 1 }, image = 'vllm:v1') {
  const app = new App();
  const chart = new Chart(app, 'c', { namespace: 'ml' });
  const template = (name: string) => ({ spec: { containers: [{ name, image }] } });
  new ModelInfer(chart, 'llm', {
    replicas,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    rolloutStrategy: strategy,
    roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
  });
  return chart.toJson();
}

describe('rollout sets of a rendered ModelInfer', () => {
  test('every group is a unit with its StatefulSets and Service, the strategy read from the annotations', () => {
    const { sets, rest } = rolloutSets(render());
    // The disruption budget spans the groups: it belongs to no unit.
    expect(rest.map(o => `${o.kind}/${o.metadata.name}`)).toEqual(['PodDisruptionBudget/llm']);
    expect(sets).toHaveLength(1);
    const [set] = sets;
    expect(set).toMatchObject({ set: 'modelinfer.llm', namespace: 'ml', prefix: 'llm', strategy: { replicas: 6, maxUnavailable: 2, maxSurge: 0, partition: 1 } });
    expect(set.units.map(u => u.objects.map(o => `${o.kind}/${o.metadata.name}`))[3]).toEqual(
      ['StatefulSet/llm-3-serve-0', 'Service/llm-3-serve-0-0', 'StatefulSet/llm-3-serve-0-w']);
  });

  test('group StatefulSets use OnDelete, so applying a new revision restarts no pod', () => {
    for (const sts of render().filter(o => o.kind === 'StatefulSet')) expect(sts.spec.updateStrategy).toEqual({ type: 'OnDelete' });
  });

  test('the revision changes with the template and not with the strategy', () => {
    const rev = (objs: any[]) => rolloutSets(objs).sets[0].revision;
    expect(rev(render(6, { maxUnavailable: 2, maxSurge: 0, partition: 1 }))).toBe(rev(render(6, { maxUnavailable: 1, maxSurge: 1, partition: 0 })));
    expect(rev(render())).not.toBe(rev(render(6, undefined, 'vllm:v2')));
  });

  test('a partial synth output is refused, naming the missing unit', () => {
    const objs = render().filter(o => o.metadata.labels[RolloutLabels.UNIT] !== '4');
    expect(() => rolloutSets(objs)).toThrow('Unable to roll ml/modelinfer.llm: unit 4 of 6 has no workload in the input. Give every file of the synth output.');
  });

  test('a hand-edited strategy annotation that is not a number is refused', () => {
    const objs = render().map(o => (o.kind === 'StatefulSet' ? { ...o, metadata: { ...o.metadata, annotations: { ...o.metadata.annotations, [RolloutAnnotations.MAX_SURGE]: 'lots' } } } : o));
    expect(() => rolloutSets(objs)).toThrow('annotation rollout.inferkit.dev/max-surge is "lots", not a whole number');
  });
});

describe('a surge unit made from a rendered one', () => {
  test('names, labels, the entry address and the service name all say the new index', () => {
    const unit = rolloutSets(render()).sets[0].units[5];
    const surge = renameUnit(unit.objects, 'llm', 5, 6);
    const entry = surge.find(o => o.kind === 'StatefulSet' && o.metadata.name === 'llm-6-serve-0')!;
    expect(entry.spec.serviceName).toBe('llm-6-serve-0-0');
    expect(entry.metadata.labels[RolloutLabels.UNIT]).toBe('6');
    expect(entry.metadata.labels['modelinfer.matrixinfer.ai/group-name']).toBe('llm-6');
    const env = Object.fromEntries(entry.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(env.ENTRY_ADDRESS).toBe('llm-6-serve-0-0.llm-6-serve-0-0.ml');
    expect(surge.map(o => o.metadata.name).sort()).toEqual(['llm-6-serve-0', 'llm-6-serve-0-0', 'llm-6-serve-0-w']);
    // Nothing of the source unit's index is left.
    expect(JSON.stringify(surge)).not.toMatch(/llm-5/);
  });

  test('a name that only starts like the prefix is left alone', () => {
    const [o] = renameUnit([{ metadata: { name: 'llm-5', labels: { a: 'llm-50', b: 'xllm-5' } } }], 'llm', 5, 6);
    expect(o).toEqual({ metadata: { name: 'llm-6', labels: { a: 'llm-50', b: 'xllm-5' } } });
  });
});

describe('the observation fold', () => {
  const pod = (unit: number, rev: string, ready: boolean, extra: any = {}) => ({
    metadata: { name: `p${unit}-${rev}`, labels: { [RolloutLabels.UNIT]: String(unit), [RolloutLabels.REVISION]: rev }, ...extra },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2026-11-28T08:00:00Z' }] },
  });
  const sts = (unit: number, rev: string, replicas = 1) => ({
    kind: 'StatefulSet',
    metadata: { name: `s${unit}`, labels: { [RolloutLabels.UNIT]: String(unit) } },
    spec: { replicas, updateStrategy: { type: 'OnDelete' }, template: { metadata: { labels: { [RolloutLabels.REVISION]: rev } } } },
  });

  test('an OnDelete unit runs the revision of its pods, not of its template', () => {
    const [u] = observeUnits([sts(0, 'new')], [pod(0, 'old', true)], () => 0);
    expect(u).toMatchObject({ index: 0, revision: 'old', ready: true, pods: 1, readyPods: 1 });
  });

  test('a unit whose pods were deleted runs its template revision and is not ready', () => {
    const [u] = observeUnits([sts(0, 'new')], [], () => 42);
    expect(u).toMatchObject({ revision: 'new', ready: false, since: 42 });
  });

  test('a unit with pods of two revisions is mixed; a terminating pod is not ready', () => {
    expect(observeUnits([sts(0, 'new', 2)], [pod(0, 'old', true), pod(0, 'new', true)], () => 0)[0].revision).toBeUndefined();
    const [u] = observeUnits([sts(0, 'old')], [pod(0, 'old', true, { deletionTimestamp: '2026-11-28T08:00:01Z' })], () => 0);
    expect(u.ready).toBe(false);
  });

  test('a Deployment unit runs its template revision, ready once only new pods are Ready', () => {
    const [d] = stampDeployments([{ kind: 'Deployment', metadata: { name: 'm' }, spec: { replicas: 1, template: { spec: { containers: [] } } } }], () => 'h1');
    expect(d.spec.template.metadata.labels[RolloutLabels.REVISION]).toBe('h1');
    const rolling = observeUnits([d], [pod(0, 'h0', true), pod(0, 'h1', false)], () => 0)[0];
    expect(rolling).toMatchObject({ revision: 'h1', ready: false });
    expect(observeUnits([d], [pod(0, 'h1', true)], () => 0)[0]).toMatchObject({ revision: 'h1', ready: true });
  });
});

describe('inferkit rollout --dry-run', () => {
  test('prints the waves: surge first, then maxUnavailable + maxSurge groups per wave, groups below partition untouched', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-dry-run-'));
    try {
      fs.writeFileSync(path.join(dir, 'llm.k8s.yaml'), render(6, { maxUnavailable: 2, maxSurge: 1, partition: 1 }).map(o => stringify(o)).join('---\n'));
      let out = '';
      const code = await mainAsync(['rollout', '-f', dir, '--dry-run'], s => { out += s; }, () => undefined);
      expect(code).toBe(0);
      const revision = rolloutSets(render()).sets[0].revision;
      expect(out).toBe([
        `ml/modelinfer.llm: 6 unit(s) to revision ${revision}; maxUnavailable 2, maxSurge 1, partition 1: 2 wave(s)`,
        '  surge: llm-6',
        '  wave 1: llm-1, llm-2, llm-3',
        '  wave 2: llm-4, llm-5',
        '  delete: llm-6',
        '',
      ].join('\n'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('without --kubeconfig and without --dry-run, nothing is done', async () => {
    let err = '';
    expect(await mainAsync(['rollout', '-f', 'x.yaml'], () => undefined, s => { err += s; })).toBe(1);
    expect(err).toMatch(/^error: no cluster: give --kubeconfig <file> \(or --dry-run\)/);
  });

  test('planWaves starts from the live state: groups already rolled are not rolled again', () => {
    const units = [0, 1, 2, 3].map(i => ({ index: i, revision: i < 2 ? 'new' : 'old', ready: true, since: 0 }));
    expect(planWaves('new', { replicas: 4, maxUnavailable: 1, maxSurge: 0, partition: 0 }, units).waves).toEqual([[2], [3]]);
  });
});

describe('role-level rolling (Kthena RoleRollingUpdate)', () => {
  const servingDoc = (rollout: Record<string, unknown>, role: Record<string, unknown> = {}) => ({
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelServing',
    metadata: { name: 'ds', namespace: 'ml' },
    spec: {
      replicas: 2,
      schedulerName: 'default-scheduler',
      rolloutStrategy: rollout,
      recoveryPolicy: 'None',
      template: {
        roles: [{ name: 'decode', replicas: 4, workerReplicas: 0, entryTemplate: { spec: { containers: [{ name: 'engine', image: 'vllm:v1' }] } }, ...role }],
      },
    },
  });
  const synth = (doc: object) => {
    const app = new App();
    const chart = new Chart(app, 'c');
    ModelInfer.fromManifest(chart, 'ds', doc as never);
    return chart.toJson();
  };

  test('each role\'s instances in each group are a set, with the role\'s maxUnavailable and partition; the PodGroup belongs to none', () => {
    const doc = servingDoc({ type: 'RoleRollingUpdate' }, { maxUnavailable: '50%', partition: 1 });
    // Under Volcano each group is a gang PodGroup.
    const objs = synth({ ...doc, spec: { ...doc.spec, schedulerName: 'volcano' } });
    const { sets, rest } = rolloutSets(objs);
    expect(sets.map(s => [s.set, s.prefix, s.strategy])).toEqual([
      ['modelinfer.ds-0-decode', 'ds-0-decode', { replicas: 4, maxUnavailable: 2, maxSurge: 0, partition: 1 }],
      ['modelinfer.ds-1-decode', 'ds-1-decode', { replicas: 4, maxUnavailable: 2, maxSurge: 0, partition: 1 }],
    ]);
    expect(sets[0].units[2].objects.map(o => o.metadata.name)).toEqual(['ds-0-decode-2', 'ds-0-decode-2-0']);
    expect(rest.map(o => `${o.kind}/${o.metadata.name}`)).toEqual(['PodGroup/ds-0', 'PodGroup/ds-1', 'PodDisruptionBudget/ds-0-decode', 'PodDisruptionBudget/ds-1-decode']);
    expect(planWaves(sets[0].revision, sets[0].strategy, sets[0].units.map(u => ({ index: u.index, revision: 'old', ready: true, since: 0 }))).waves)
      .toEqual([[1, 2], [3]]);
  });

  test('a rollingUpdateConfiguration beside RoleRollingUpdate is refused, as the CRD says', () => {
    expect(() => synth(servingDoc({ type: 'RoleRollingUpdate', rollingUpdateConfiguration: { maxUnavailable: 1 } }))).toThrow(
      'Unable to synthesize ModelServing/ds: spec.rolloutStrategy.rollingUpdateConfiguration {"maxUnavailable":1} is set while the type is RoleRollingUpdate, '
      + 'which the CRD forbids. Remove it, and set maxUnavailable and partition on each role.');
  });

  test('a role maxUnavailable that resolves to 0 is refused', () => {
    expect(() => synth(servingDoc({ type: 'RoleRollingUpdate' }, { maxUnavailable: '10%' }))).toThrow(
      "roles[0].maxUnavailable '10%' resolves to 0 of the role's 4 instances, so no instance could ever be replaced. Use 1 or more, or a larger percentage.");
  });

  test('role fields under group rolling take no effect, as with Kthena: a warning says so', () => {
    const app = new App();
    ModelInfer.fromManifest(new Chart(app, 'c'), 'ds', servingDoc({ type: 'ServingGroupRollingUpdate' }, { partition: 2 }) as never);
    expect(Warnings.of(app).all.find(w => w.includes('partition'))).toMatch(
      /^Warning: ModelServing\/ds spec\.template\.roles\[0\]\.partition 2: configures role-by-role rolling, which takes no effect when whole ServingGroups are rolled \(as with Kthena's controller\)\. Remove it, or set the rollout type to role-level rolling\.$/);
  });

  test('role-level rolling on the LeaderWorkerSet backend is refused: LWS rolls its instances itself', () => {
    const app = new App();
    expect(() => ModelInfer.fromManifest(new Chart(app, 'c'), 'ds', servingDoc({ type: 'RoleRollingUpdate' }) as never, { backend: WorkloadBackend.LEADER_WORKER_SET }))
      .toThrow('which inferkit does with the StatefulSet backend only');
  });
});
