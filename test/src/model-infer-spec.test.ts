import { formatWarning, KthenaApi, ModelInferSpec, RecoveryPolicy, resolveModelInfer, RoleSpec, RolloutLevel, WorkloadBackend } from '../../src';
import { messageOf } from '../_helpers';

const role = (name: string, extra: Partial<RoleSpec<string>> = {}): RoleSpec<string> => ({ name, entryTemplate: 'entry', ...extra });
const spec = (extra: Partial<ModelInferSpec<string>> = {}): ModelInferSpec<string> => ({ name: 'sample', roles: [role('decode')], ...extra });

const errorOf = (s: ModelInferSpec<string>): string => messageOf(() => resolveModelInfer(s, 'chart/sample'));

describe('resolving a ModelInfer spec', () => {
  test('defaults: one group, volcano with a gang, StatefulSet, None, maxUnavailable 1', () => {
    const r = resolveModelInfer(spec(), 'p');
    expect(r.replicas).toBe(1);
    expect(r.schedulerName).toBe('volcano');
    expect(r.gang).toEqual({});
    expect(r.backend).toBe(WorkloadBackend.STATEFUL_SET);
    expect(r.recoveryPolicy).toBe(RecoveryPolicy.NONE);
    expect(r.rollout).toEqual({ level: RolloutLevel.GROUP, maxUnavailable: 1, maxSurge: 0, partition: 0 });
    expect(r.roles[0]).toMatchObject({ replicas: 1, workerReplicas: 0, size: 1, minReplicas: 1 });
  });

  test('LeaderWorkerSet defaults to RoleRecreate; another scheduler defaults to no gang', () => {
    expect(resolveModelInfer(spec({ backend: WorkloadBackend.LEADER_WORKER_SET }), 'p').recoveryPolicy).toBe(RecoveryPolicy.ROLE_RECREATE);
    expect(resolveModelInfer(spec({ schedulerName: 'default-scheduler' }), 'p').gang).toBeUndefined();
  });

  test('percentages resolve against the group count: maxUnavailable down, maxSurge up', () => {
    const r = resolveModelInfer(spec({ replicas: 10, rollout: { maxUnavailable: '25%', maxSurge: '15%' } }), 'p');
    expect(r.rollout).toMatchObject({ maxUnavailable: 2, maxSurge: 2 });
  });

  test('minRoleReplicas lowers the instances the gang needs', () => {
    const r = resolveModelInfer(spec({ roles: [role('prefill', { replicas: 3 }), role('decode')], gang: { minRoleReplicas: { prefill: 1 } } }), 'p');
    expect(r.roles.map(x => x.minReplicas)).toEqual([1, 1]);
  });

  test.each<[string, Partial<ModelInferSpec<string>>, string]>([
    ['a 13-character role name', { roles: [role('decode-worker')] },
      "Unable to synthesize chart/sample: roles[0].name 'decode-worker' is 13 characters long, more than 12. Use a role name of at most 12 characters, such as 'prefill'."],
    ['duplicate roles', { roles: [role('decode'), role('decode')] },
      "Unable to synthesize chart/sample: roles[1].name 'decode' is used by another role. Give every role a unique name."],
    ['5 roles', { roles: ['a', 'b', 'c', 'd', 'e'].map(n => role(n)) },
      'Unable to synthesize chart/sample: roles has 5 roles; an InferGroup has 1 to 4. Merge roles or split the model into several ModelInfers (at most 4 roles).'],
    ['no role', { roles: [] }, 'Unable to synthesize chart/sample: roles has 0 roles; an InferGroup has 1 to 4. Add at least one role.'],
    ['partition >= replicas', { replicas: 2, rollout: { partition: 2 } },
      'Unable to synthesize chart/sample: rolloutStrategy.partition 2 is not less than replicas (2), so no group would ever be updated. Use a partition from 0 to 1.'],
    ['maxSurge and maxUnavailable both 0', { rollout: { maxSurge: 0, maxUnavailable: 0 } },
      'Unable to synthesize chart/sample: rolloutStrategy {"maxUnavailable":0,"maxSurge":0} has maxSurge and maxUnavailable both 0, so no group could ever be replaced. Allow at least one: maxUnavailable 1 (replace in place) or maxSurge 1 (add a group first).'],
    ['a percentage that rounds both to 0', { replicas: 2, rollout: { maxUnavailable: '10%' } },
      'rolloutStrategy {"maxUnavailable":"10%","maxSurge":0} has maxSurge and maxUnavailable both 0'],
    ['a bad percentage', { rollout: { maxSurge: 'lots' } },
      "rolloutStrategy.maxSurge 'lots' is neither an integer nor a percentage. Use an integer or a percentage such as '25%'."],
    ['minRoleReplicas for an unknown role', { gang: { minRoleReplicas: { prefil: 1 } } },
      "Unable to synthesize chart/sample: gangScheduling.minRoleReplicas.prefil 1 names role 'prefil', which is not one of the roles (decode). Use the name of a role, or remove the entry."],
    ['minRoleReplicas above the role replicas', { gang: { minRoleReplicas: { decode: 2 } } },
      "gangScheduling.minRoleReplicas.decode 2 is not between 0 and the role's 1 replicas. Use 0 to 1."],
    ['gang scheduling under another scheduler', { schedulerName: 'default-scheduler', gang: {} },
      "Unable to synthesize chart/sample: gangScheduling needs the Volcano scheduler, but schedulerName is 'default-scheduler'. Set schedulerName to 'volcano', or remove gangScheduling."],
    ['workers without a worker template', { roles: [role('decode', { workerReplicas: 2 })] },
      'roles[0].workerTemplate is missing while workerReplicas is 2. Add a workerTemplate, or set workerReplicas to 0.'],
    ['an unknown recovery policy of a ModelServing', { api: KthenaApi.MODEL_SERVING, recoveryPolicy: 'GroupRecreate' as RecoveryPolicy },
      "recoveryPolicy 'GroupRecreate' is not a recovery policy. Use ServingGroupRecreate, RoleRecreate, None."],
    ['too many roles in a ModelServing', { api: KthenaApi.MODEL_SERVING, roles: ['a', 'b', 'c', 'd', 'e'].map(n => role(n)) },
      'roles has 5 roles; a ServingGroup has 1 to 4. Merge roles or split the model into several ModelServings (at most 4 roles).'],
    ['a name that is not a DNS-1035 label', { name: '7b-model' },
      "Unable to synthesize chart/sample: name '7b-model' is not a DNS-1035 label"],
    ['a name whose StatefulSet name would be too long', { name: 'a'.repeat(41), replicas: 11, roles: [role('decode', { replicas: 2 })] },
      `name '${'a'.repeat(41)}' gives the entry StatefulSet name '${'a'.repeat(41)}-10-decode-1', which is 53 characters long, more than 52. Choose a shorter or DNS-valid name (the entry StatefulSet name must be at most 52 characters).`],
  ])('%s is refused with a message naming the field and the fix', (_, extra, message) => {
    expect(errorOf(spec(extra))).toContain(message);
  });

  test('a worker template with no workers is accepted, as Kthena\'s CRDs accept it, and renders no workers', () => {
    const r = resolveModelInfer(spec({ roles: [role('decode', { workerReplicas: 0, workerTemplate: 'w' })] }), 'p');
    expect(r.roles[0]).toMatchObject({ workerReplicas: 0, size: 1, workerTemplate: 'w' });
    expect(r.warnings).toEqual([]);
  });

  const warningsOf = (s: ModelInferSpec<string>, path = 'chart/sample') => resolveModelInfer(s, path).warnings.map(formatWarning);

  test.each<[string, Partial<ModelInferSpec<string>>, string]>([
    ['RoleRecreate on StatefulSets', { recoveryPolicy: RecoveryPolicy.ROLE_RECREATE },
      "Warning: chart/sample recoveryPolicy 'RoleRecreate': the StatefulSet backend restarts a failed pod in place, where Kthena's controller recreates its whole "
      + 'role instance (entry and workers). Use the LeaderWorkerSet backend (--backend LeaderWorkerSet), which recreates the whole role instance of a failed pod; '
      + 'or set recoveryPolicy None to accept restarts in place.'],
    ['ServingGroupRecreate with a grace period on StatefulSets, in the ModelServing\'s words',
      { api: KthenaApi.MODEL_SERVING, recoveryPolicy: RecoveryPolicy.INFER_GROUP_RECREATE, restartGracePeriodSeconds: 30 },
      "Warning: chart/sample recoveryPolicy 'ServingGroupRecreate': the StatefulSet backend restarts a failed pod in place, where Kthena's controller recreates its whole "
      + 'ServingGroup once it has not recovered for 30 seconds. Use the LeaderWorkerSet backend (--backend LeaderWorkerSet), which recreates the whole role instance '
      + 'of a failed pod; or set recoveryPolicy None to accept restarts in place.'],
    ['InferGroupRecreate on LWS with two role instances',
      { backend: WorkloadBackend.LEADER_WORKER_SET, recoveryPolicy: RecoveryPolicy.INFER_GROUP_RECREATE, roles: [role('decode', { replicas: 2 })] },
      "Warning: chart/sample recoveryPolicy 'InferGroupRecreate': the LeaderWorkerSet backend recreates only the role instance of a failed pod, where Kthena's "
      + 'controller recreates the whole InferGroup of 2 role instances. Set recoveryPolicy RoleRecreate to accept it, or give each InferGroup a single role instance.'],
    ['a grace period with a recreate policy on LWS', { backend: WorkloadBackend.LEADER_WORKER_SET, restartGracePeriodSeconds: 60 },
      'Warning: chart/sample restartGracePeriodSeconds 60: the LeaderWorkerSet backend recreates a role instance as soon as one of its pods fails, where Kthena\'s '
      + 'controller first waits 60 seconds for it to recover. Remove restartGracePeriodSeconds to accept it, or set recoveryPolicy None (failed pods restart in place).'],
  ])('%s runs as the nearest behaviour, with a warning naming the difference and the fix', (_, extra, warning) => {
    expect(warningsOf(spec(extra))).toEqual([warning]);
  });

  test.each<[string, Partial<ModelInferSpec<string>>]>([
    ['the StatefulSet default, None', {}],
    ['None with a grace period', { recoveryPolicy: RecoveryPolicy.NONE, restartGracePeriodSeconds: 60 }],
    ['the LeaderWorkerSet default, RoleRecreate', { backend: WorkloadBackend.LEADER_WORKER_SET }],
    ['InferGroupRecreate on LWS with a single role instance', { backend: WorkloadBackend.LEADER_WORKER_SET, recoveryPolicy: RecoveryPolicy.INFER_GROUP_RECREATE }],
  ])('%s is honoured exactly: no warning', (_, extra) => {
    expect(warningsOf(spec(extra))).toEqual([]);
  });

  test('every problem is reported at once', () => {
    const message = errorOf(spec({ roles: [role('decode-worker'), role('decode-worker')], rollout: { partition: 5 } }));
    expect(message.split('\n')).toEqual([
      expect.stringContaining('roles[0].name'), expect.stringContaining('roles[1].name'),
      expect.stringContaining('used by another role'), expect.stringContaining('rolloutStrategy.partition'),
    ]);
  });

  test('field names can be mapped to a manifest\'s', () => {
    expect(() => resolveModelInfer(spec({ rollout: { partition: 1 } }), 'ModelInfer/sample', f => `spec.${f}`))
      .toThrow('Unable to synthesize ModelInfer/sample: spec.rolloutStrategy.partition 1 is not less than replicas (1)');
  });
});
