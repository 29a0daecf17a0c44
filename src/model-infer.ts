import { Issues, show, SpecIssue } from './errors';
import { KthenaLabelKeys, ModelInferLabels, ModelServingLabels } from './labels';
import { checkObjectCount, checkWorkloads, MAX_OBJECT_COUNT } from './limits';
import { checkGeneratedNames, checkName, GeneratedName, MAX_STATEFULSET_NAME_LENGTH, NameRule } from './names';

/**
 * The Kthena API a ModelInfer follows: the labels its pods carry (which the CR's own affinity rules and routers
 * select) and the words of its messages.
 */
export enum KthenaApi {
  /** `workload.matrixinfer.ai/v1alpha1` ModelInfer: InferGroups, `modelinfer.matrixinfer.ai/*` pod labels. */
  MODEL_INFER = 'ModelInfer',
  /** `workload.serving.volcano.sh/v1alpha1` ModelServing: ServingGroups, `modelserving.volcano.sh/*` pod labels. */
  MODEL_SERVING = 'ModelServing',
}

/** The pod labels of `api`'s controller. */
export function kthenaLabels(api: KthenaApi): KthenaLabelKeys {
  return api === KthenaApi.MODEL_SERVING ? ModelServingLabels : ModelInferLabels;
}

/** What `api` calls a group of role instances. */
function groupWord(api: KthenaApi): string {
  return api === KthenaApi.MODEL_SERVING ? 'ServingGroup' : 'InferGroup';
}

/** A recovery policy as `api` spells it (ModelServing's `ServingGroupRecreate` is ModelInfer's `InferGroupRecreate`). */
function policyName(api: KthenaApi, policy: RecoveryPolicy): string {
  return policy === RecoveryPolicy.INFER_GROUP_RECREATE ? `${groupWord(api)}Recreate` : policy;
}

/** What happens to an InferGroup when one of its pods fails (Kthena `recoveryPolicy`). */
export enum RecoveryPolicy {
  /** Recreate every pod of the InferGroup. */
  INFER_GROUP_RECREATE = 'InferGroupRecreate',
  /** Recreate every pod of the failed role instance (entry and workers). */
  ROLE_RECREATE = 'RoleRecreate',
  /** Restart only the failed pod. */
  NONE = 'None',
}

/** The built-in or add-on workload that runs each role instance. */
export enum WorkloadBackend {
  /** One StatefulSet for the entry pod and one for the workers: runs on any cluster, built-in controllers only. */
  STATEFUL_SET = 'StatefulSet',
  /** One LeaderWorkerSet per (group, role): needs the LWS controller installed. */
  LEADER_WORKER_SET = 'LeaderWorkerSet',
}

/** Whether a network topology constraint must hold (`hard`) or is preferred (`soft`). */
export enum NetworkTopologyMode {
  HARD = 'hard',
  SOFT = 'soft',
}

/** Volcano network topology: keep pods within a HyperNode tier. */
export interface NetworkTopologySpec {
  readonly mode: NetworkTopologyMode;
  /** Highest HyperNode tier the pods may span. */
  readonly highestTierAllowed?: number;
  /** Name of the highest HyperNode tier the pods may span. */
  readonly highestTierName?: string;
}

/** Gang scheduling of each InferGroup as one Volcano PodGroup. */
export interface GangSpec {
  /** Role name to the number of its instances that must be schedulable together; default every instance. */
  readonly minRoleReplicas?: Readonly<Record<string, number>>;
  /** Topology constraint on the whole group. */
  readonly networkTopology?: NetworkTopologySpec;
  /** Topology constraint on each role instance (a Volcano sub-group). */
  readonly roleNetworkTopology?: NetworkTopologySpec;
}

/** What a rolling update replaces at a time: whole groups, or role instances within each group (Kthena's RoleRollingUpdate). */
export enum RolloutLevel {
  GROUP = 'Group',
  ROLE = 'Role',
}

/** Rolling upgrade of InferGroups. Integers or percentages of `replicas`. */
export interface RolloutSpec {
  readonly level?: RolloutLevel;
  readonly maxUnavailable?: number | string;
  readonly maxSurge?: number | string;
  readonly partition?: number;
}

/** One role of an InferGroup, its pod templates opaque to the core. */
export interface RoleSpec<T> {
  readonly name: string;
  readonly replicas?: number;
  readonly workerReplicas?: number;
  readonly entryTemplate: T;
  readonly workerTemplate?: T;
  /** Role-level rolling: instances of this role unavailable at once, an integer or a percentage of `replicas` (rounded down). */
  readonly maxUnavailable?: number | string;
  /** Role-level rolling: instances below this index (a percentage of `replicas` is rounded up) keep their revision. */
  readonly partition?: number | string;
}

/** A ModelInfer as the core sees it: everything but the pod templates, which stay opaque. */
export interface ModelInferSpec<T> {
  readonly name: string;
  readonly replicas?: number;
  readonly schedulerName?: string;
  readonly restartGracePeriodSeconds?: number;
  /** Gang scheduling; `false` turns it off. */
  readonly gang?: GangSpec | false;
  readonly roles: readonly RoleSpec<T>[];
  readonly rollout?: RolloutSpec;
  readonly recoveryPolicy?: RecoveryPolicy;
  readonly backend?: WorkloadBackend;
  /** The Kthena API followed; default ModelInfer. */
  readonly api?: KthenaApi;
}

/** Kthena's maximum number of roles per InferGroup. */
export const MAX_ROLES = 4;
/** Kthena's maximum role name length. */
export const MAX_ROLE_NAME_LENGTH = 12;
/** The scheduler used when none is given. */
export const DEFAULT_SCHEDULER = 'volcano';

export interface ResolvedRole<T> {
  readonly name: string;
  readonly replicas: number;
  readonly workerReplicas: number;
  /** Pods per role instance: the entry plus its workers. */
  readonly size: number;
  /** Instances that must be schedulable together for the gang. */
  readonly minReplicas: number;
  readonly entryTemplate: T;
  readonly workerTemplate?: T;
  /** The role's own budget, used when the rollout level is Role. */
  readonly rollout: { readonly maxUnavailable: number; readonly partition: number };
}

export interface ResolvedRollout {
  readonly level: RolloutLevel;
  readonly maxUnavailable: number;
  readonly maxSurge: number;
  readonly partition: number;
}

/** A ModelInfer with every default applied and every rule checked. */
export interface ResolvedModelInfer<T> {
  readonly name: string;
  readonly replicas: number;
  readonly schedulerName: string;
  readonly restartGracePeriodSeconds: number;
  readonly gang?: GangSpec;
  readonly roles: readonly ResolvedRole<T>[];
  readonly rollout: ResolvedRollout;
  readonly recoveryPolicy: RecoveryPolicy;
  readonly backend: WorkloadBackend;
  readonly api: KthenaApi;
  /** Where inferkit runs the spec, but not exactly as Kthena's controller would: what differs, and how to get it exactly. */
  readonly warnings: readonly SpecIssue[];
}

/** The names of everything emitted for one role instance; part of the public API. */
export interface RoleInstanceNames {
  /** InferGroup / PodGroup name, `<mi>-<i>`. */
  readonly group: string;
  /** `<role>-<j>`, the `role-id` label and the Volcano task name. */
  readonly roleId: string;
  /** `<mi>-<i>-<role>-<j>`: the entry StatefulSet. */
  readonly instance: string;
  /** `<instance>-0`: the entry pod, and the headless Service named after it. */
  readonly entryPod: string;
  /** `<instance>-w`: the worker StatefulSet, whose pods are `<instance>-w-1` .. `-N`. */
  readonly workers: string;
  /** `<mi>-<i>-<role>`: the LeaderWorkerSet of the LWS backend. */
  readonly leaderWorkerSet: string;
}

/** Names for role instance `j` of role `role` in group `i` of ModelInfer `name`. */
export function roleInstanceNames(name: string, i: number, role: string, j: number): RoleInstanceNames {
  const group = `${name}-${i}`;
  const instance = `${group}-${role}-${j}`;
  return {
    group,
    roleId: `${role}-${j}`,
    instance,
    entryPod: `${instance}-0`,
    workers: `${instance}-w`,
    leaderWorkerSet: `${group}-${role}`,
  };
}

const INT_OR_PERCENT = /^(\d+)%$/;

function resolveIntOrPercent(
  issues: Issues, field: string, value: number | string | undefined, fallback: number, total: number, roundUp: boolean,
): number {
  if (value === undefined) return fallback;
  if (typeof value === 'number') {
    return issues.check(Number.isInteger(value) && value >= 0, field, value, 'is not a non-negative integer', 'Use 0 or more, or a percentage such as \'25%\'') ? value : fallback;
  }
  const m = INT_OR_PERCENT.exec(value);
  if (!issues.check(m !== null, field, value, 'is neither an integer nor a percentage', 'Use an integer or a percentage such as \'25%\'')) return fallback;
  const exact = (Number(m![1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

function isCount(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min;
}

function checkTopology(issues: Issues, field: string, t: NetworkTopologySpec): void {
  issues.check(Object.values(NetworkTopologyMode).includes(t.mode), `${field}.mode`, t.mode, 'is not a network topology mode', 'Use \'hard\' or \'soft\'');
  if (t.highestTierAllowed !== undefined) {
    issues.check(isCount(t.highestTierAllowed, 1), `${field}.highestTierAllowed`, t.highestTierAllowed, 'is not a tier number', 'Use a HyperNode tier of 1 or more');
  }
}

/**
 * Applies defaults and checks every rule of a ModelInfer, reporting all problems at once.
 *
 * @param path the construct path or manifest name that messages start with
 * @param fieldName maps prop names to the names the user wrote, for manifests
 * @throws SpecError listing every issue found
 */
export function resolveModelInfer<T>(spec: ModelInferSpec<T>, path: string, fieldName?: (field: string) => string): ResolvedModelInfer<T> {
  const issues = new Issues(path, fieldName);
  checkName(issues, 'name', spec.name, NameRule.DNS1035_LABEL);
  const api = spec.api ?? KthenaApi.MODEL_INFER;
  const group = groupWord(api);

  const replicas = spec.replicas ?? 1;
  checkObjectCount(issues, 'replicas', replicas, `${group}s`);
  const schedulerName = spec.schedulerName ?? DEFAULT_SCHEDULER;
  checkName(issues, 'schedulerName', schedulerName, NameRule.DNS1123_LABEL);
  const backend = spec.backend ?? WorkloadBackend.STATEFUL_SET;

  // Roles.
  const roles = spec.roles ?? [];
  issues.check(roles.length >= 1 && roles.length <= MAX_ROLES, 'roles', undefined,
    `has ${roles.length} roles; ${api === KthenaApi.MODEL_SERVING ? 'a' : 'an'} ${group} has 1 to ${MAX_ROLES}`,
    roles.length > MAX_ROLES ? `Merge roles or split the model into several ${api}s (at most ${MAX_ROLES} roles)` : 'Add at least one role');
  const seen = new Set<string>();
  const resolvedRoles: ResolvedRole<T>[] = roles.map((r, idx) => {
    const f = `roles[${idx}]`;
    if (issues.check(typeof r.name === 'string' && r.name.length <= MAX_ROLE_NAME_LENGTH, `${f}.name`, r.name,
      `is ${String(r.name).length} characters long, more than ${MAX_ROLE_NAME_LENGTH}`, `Use a role name of at most ${MAX_ROLE_NAME_LENGTH} characters, such as 'prefill'`)) {
      checkName(issues, `${f}.name`, r.name, NameRule.DNS1123_LABEL);
    }
    issues.check(!seen.has(r.name), `${f}.name`, r.name, 'is used by another role', 'Give every role a unique name');
    seen.add(r.name);
    const rr = r.replicas ?? 1;
    checkObjectCount(issues, `${f}.replicas`, rr, 'role instances', 1);
    const wr = r.workerReplicas ?? 0;
    checkObjectCount(issues, `${f}.workerReplicas`, wr, 'workers');
    // Kthena's CRDs accept a workerTemplate with no workers (a role scaled to its entry pod): it renders no pods.
    if (wr > 0) {
      issues.check(r.workerTemplate !== undefined, `${f}.workerTemplate`, undefined, `is missing while workerReplicas is ${wr}`, 'Add a workerTemplate, or set workerReplicas to 0');
    }
    issues.check(r.entryTemplate !== undefined, `${f}.entryTemplate`, undefined, 'is missing', 'Add the pod template of the entry pod');
    const { entryTemplate, workerTemplate } = r;
    const roleLevel = spec.rollout?.level === RolloutLevel.ROLE;
    const mu = resolveIntOrPercent(issues, `${f}.maxUnavailable`, r.maxUnavailable, 1, rr, false);
    if (roleLevel) {
      issues.check(mu > 0, `${f}.maxUnavailable`, r.maxUnavailable, `resolves to 0 of the role's ${rr} instances, so no instance could ever be replaced`,
        'Use 1 or more, or a larger percentage');
    } else if (r.maxUnavailable !== undefined || r.partition !== undefined) {
      issues.warn(`${f}.${r.maxUnavailable !== undefined ? 'maxUnavailable' : 'partition'}`, r.maxUnavailable ?? r.partition,
        `configures role-by-role rolling, which takes no effect when whole ${group}s are rolled (as with Kthena's controller)`,
        'Remove it, or set the rollout type to role-level rolling');
    }
    const rp = resolveIntOrPercent(issues, `${f}.partition`, r.partition, 0, rr, true);
    const rollout = { maxUnavailable: mu, partition: rp };
    return { name: r.name, replicas: rr, workerReplicas: wr, size: 1 + wr, minReplicas: rr, entryTemplate, workerTemplate, rollout };
  });

  // Counts each within the limit can still multiply past it (each beyond it is reported above).
  const within = (n: unknown) => Number.isInteger(n) && (n as number) <= MAX_OBJECT_COUNT;
  if (within(replicas) && resolvedRoles.every(r => within(r.replicas))) {
    const perGroup = resolvedRoles.reduce((n, r) => n + r.replicas, 0);
    checkWorkloads(issues, 'replicas', replicas, `${replicas} ${group}s × ${perGroup} role instances`, replicas * perGroup, 'role instances');
  }

  // Gang scheduling: on by default under Volcano, since a partly scheduled group serves nothing.
  let gang: GangSpec | undefined;
  if (spec.gang === false) {
    gang = undefined;
  } else if (spec.gang !== undefined || schedulerName === DEFAULT_SCHEDULER) {
    gang = spec.gang ?? {};
    issues.check(schedulerName === DEFAULT_SCHEDULER, 'gangScheduling', undefined, `needs the Volcano scheduler, but schedulerName is ${show(schedulerName)}`,
      'Set schedulerName to \'volcano\', or remove gangScheduling');
    for (const [role, min] of Object.entries(gang.minRoleReplicas ?? {})) {
      const f = `gangScheduling.minRoleReplicas.${role}`;
      const target = resolvedRoles.find(r => r.name === role);
      if (!issues.check(target !== undefined, f, min, `names role ${show(role)}, which is not one of the roles (${resolvedRoles.map(r => r.name).join(', ')})`,
        'Use the name of a role, or remove the entry')) continue;
      if (issues.check(isCount(min, 0) && min <= target!.replicas, f, min, `is not between 0 and the role's ${target!.replicas} replicas`, `Use 0 to ${target!.replicas}`)) {
        const i = resolvedRoles.indexOf(target!);
        resolvedRoles[i] = { ...target!, minReplicas: min };
      }
    }
    if (gang.networkTopology) checkTopology(issues, 'gangScheduling.networkTopology', gang.networkTopology);
    if (gang.roleNetworkTopology) checkTopology(issues, 'gangScheduling.roleNetworkTopology', gang.roleNetworkTopology);
  }

  // Rollout: integers or percentages of the group count, as in a Deployment.
  const ro = spec.rollout ?? {};
  const level = ro.level ?? RolloutLevel.GROUP;
  issues.check(Object.values(RolloutLevel).includes(level), 'rolloutStrategy.level', level, 'is not a rollout level', 'Use Group or Role');
  if (level === RolloutLevel.ROLE) {
    issues.check(backend !== WorkloadBackend.LEADER_WORKER_SET, 'rolloutStrategy.level', level,
      'is role-level rolling, which inferkit does with the StatefulSet backend only (a LeaderWorkerSet rolls its instances itself)',
      'Use the StatefulSet backend, or roll whole groups');
    issues.check(ro.maxSurge === undefined || ro.maxSurge === 0, 'rolloutStrategy.maxSurge', ro.maxSurge, 'has no effect with role-level rolling, which replaces instances in place',
      'Remove maxSurge');
  }
  const maxUnavailable = resolveIntOrPercent(issues, 'rolloutStrategy.maxUnavailable', ro.maxUnavailable, 1, replicas, false);
  const maxSurge = resolveIntOrPercent(issues, 'rolloutStrategy.maxSurge', ro.maxSurge, 0, replicas, true);
  issues.check(!(maxUnavailable === 0 && maxSurge === 0), 'rolloutStrategy', { maxUnavailable: ro.maxUnavailable ?? 1, maxSurge: ro.maxSurge ?? 0 },
    'has maxSurge and maxUnavailable both 0, so no group could ever be replaced', 'Allow at least one: maxUnavailable 1 (replace in place) or maxSurge 1 (add a group first)');
  const partition = ro.partition ?? 0;
  if (issues.check(isCount(partition, 0), 'rolloutStrategy.partition', partition, 'is not a group index', 'Use 0 or more')) {
    issues.check(partition === 0 || partition < replicas, 'rolloutStrategy.partition', partition, `is not less than replicas (${replicas}), so no group would ever be updated`,
      `Use a partition from 0 to ${Math.max(0, replicas - 1)}`);
  }

  // Recovery: what the backend cannot honour exactly runs as its nearest behaviour, with a warning.
  const recoveryPolicy = spec.recoveryPolicy ?? (backend === WorkloadBackend.LEADER_WORKER_SET ? RecoveryPolicy.ROLE_RECREATE : RecoveryPolicy.NONE);
  const policy = policyName(api, recoveryPolicy);
  const restartGracePeriodSeconds = spec.restartGracePeriodSeconds ?? 0;
  const validPolicy = issues.check(Object.values(RecoveryPolicy).includes(recoveryPolicy), 'recoveryPolicy', recoveryPolicy, 'is not a recovery policy',
    `Use ${Object.values(RecoveryPolicy).map(p => policyName(api, p)).join(', ')}`);
  const validGrace = issues.check(isCount(restartGracePeriodSeconds, 0), 'restartGracePeriodSeconds', restartGracePeriodSeconds, 'is not a number of seconds', 'Use 0 or more');
  if (validPolicy && backend === WorkloadBackend.STATEFUL_SET && recoveryPolicy !== RecoveryPolicy.NONE) {
    const rebuilt = recoveryPolicy === RecoveryPolicy.ROLE_RECREATE ? 'role instance (entry and workers)' : group;
    const grace = validGrace && restartGracePeriodSeconds > 0 ? ` once it has not recovered for ${restartGracePeriodSeconds} seconds` : '';
    issues.warn('recoveryPolicy', policy,
      `the StatefulSet backend restarts a failed pod in place, where Kthena's controller recreates its whole ${rebuilt}${grace}`,
      'Use the LeaderWorkerSet backend (--backend LeaderWorkerSet), which recreates the whole role instance of a failed pod; or set recoveryPolicy None to accept restarts in place');
  } else if (validPolicy && recoveryPolicy === RecoveryPolicy.INFER_GROUP_RECREATE) {
    const instances = resolvedRoles.reduce((n, r) => n + r.replicas, 0);
    if (instances > 1) {
      issues.warn('recoveryPolicy', policy,
        `the LeaderWorkerSet backend recreates only the role instance of a failed pod, where Kthena's controller recreates the whole ${group} of ${instances} role instances`,
        `Set recoveryPolicy RoleRecreate to accept it, or give each ${group} a single role instance`);
    }
  }
  const lwsRecreates = backend === WorkloadBackend.LEADER_WORKER_SET && recoveryPolicy !== RecoveryPolicy.NONE;
  if (validPolicy && validGrace && lwsRecreates && restartGracePeriodSeconds > 0) {
    issues.warn('restartGracePeriodSeconds', restartGracePeriodSeconds,
      `the LeaderWorkerSet backend recreates a role instance as soon as one of its pods fails, where Kthena's controller first waits ${restartGracePeriodSeconds} seconds for it to recover`,
      'Remove restartGracePeriodSeconds to accept it, or set recoveryPolicy None (failed pods restart in place)');
  }

  issues.check(Object.values(WorkloadBackend).includes(backend), 'backend', backend, 'is not a workload backend', 'Use StatefulSet or LeaderWorkerSet');

  // Every generated name, checked as it would be produced (longest indices give the longest names).
  if (replicas > 0) {
    for (const [idx, r] of resolvedRoles.entries()) {
      const n = roleInstanceNames(spec.name, replicas - 1, r.name, r.replicas - 1);
      const names: GeneratedName[] = [{ kind: 'PodGroup', name: n.group, rule: NameRule.DNS1123_LABEL }];
      if (backend === WorkloadBackend.STATEFUL_SET) {
        names.push(
          { kind: 'entry StatefulSet', name: n.instance, rule: NameRule.DNS1123_LABEL, maxLength: MAX_STATEFULSET_NAME_LENGTH },
          { kind: 'headless Service', name: n.entryPod, rule: NameRule.DNS1035_LABEL },
        );
        if (r.workerReplicas > 0) {
          names.push({ kind: 'worker StatefulSet', name: n.workers, rule: NameRule.DNS1123_LABEL, maxLength: MAX_STATEFULSET_NAME_LENGTH });
          names.push({ kind: 'worker pod', name: `${n.workers}-${r.workerReplicas}`, rule: NameRule.DNS1123_LABEL });
        }
      } else {
        // LWS names its leader StatefulSet after itself and each group's worker StatefulSet `<lws>-<j>`.
        names.push(
          { kind: 'LeaderWorkerSet', name: n.leaderWorkerSet, rule: NameRule.DNS1035_LABEL, maxLength: MAX_STATEFULSET_NAME_LENGTH },
          { kind: 'LeaderWorkerSet worker StatefulSet', name: `${n.leaderWorkerSet}-${r.replicas - 1}`, rule: NameRule.DNS1123_LABEL, maxLength: MAX_STATEFULSET_NAME_LENGTH },
          { kind: 'worker pod', name: `${n.leaderWorkerSet}-${r.replicas - 1}-${r.workerReplicas}`, rule: NameRule.DNS1123_LABEL },
        );
      }
      checkGeneratedNames(issues, idx === 0 ? 'name' : `name (with roles[${idx}].name)`, spec.name, names);
    }
  }

  issues.throwIfAny();
  return {
    name: spec.name,
    replicas,
    schedulerName,
    restartGracePeriodSeconds,
    gang,
    roles: resolvedRoles,
    rollout: { level, maxUnavailable, maxSurge, partition },
    recoveryPolicy,
    backend,
    api,
    warnings: issues.warnings,
  };
}
