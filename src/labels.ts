/**
 * Label and annotation keys. Selector labels are public API: changing one is a breaking change.
 */
export const ModelInferLabels = {
  /** The ModelInfer name (pods). */
  NAME: 'modelinfer.matrixinfer.ai/name',
  /** The InferGroup name, `<mi>-<i>` (pods, services). */
  GROUP_NAME: 'modelinfer.matrixinfer.ai/group-name',
  /** The role name (pods, services). */
  ROLE: 'modelinfer.matrixinfer.ai/role',
  /** The role instance, `<role>-<j>` (pods, services). */
  ROLE_ID: 'modelinfer.matrixinfer.ai/role-id',
  /** Revision hash of the group template (pods). */
  REVISION: 'modelinfer.matrixinfer.ai/revision',
  /** `"true"` on the entry pod, `"false"` on workers (pods). */
  ENTRY: 'modelinfer.matrixinfer.ai/entry',
} as const;

/** Labels stamped on every object inferkit renders. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'inferkit';

/** Volcano: the PodGroup a pod belongs to, and its task within the group. */
export const VolcanoAnnotations = {
  GROUP_NAME: 'scheduling.k8s.io/group-name',
  TASK_SPEC: 'volcano.sh/task-spec',
} as const;

/** The environment contract of a role instance, as Kthena defines it. */
export const RoleEnv = {
  /** Pods in the role instance: entry plus workers. */
  GROUP_SIZE: 'GROUP_SIZE',
  /** `<entry-pod>.<service>.<namespace>`: where workers reach the entry pod. */
  ENTRY_ADDRESS: 'ENTRY_ADDRESS',
  /** 0 for the entry pod, 1..N for workers. */
  WORKER_INDEX: 'WORKER_INDEX',
} as const;

/** Annotations that record the resolved rollout strategy for the Rollout provider and for people. */
export const RolloutAnnotations = {
  MAX_UNAVAILABLE: 'rollout.inferkit.dev/max-unavailable',
  MAX_SURGE: 'rollout.inferkit.dev/max-surge',
  PARTITION: 'rollout.inferkit.dev/partition',
  RECOVERY_POLICY: 'rollout.inferkit.dev/recovery-policy',
  RESTART_GRACE_PERIOD_SECONDS: 'rollout.inferkit.dev/restart-grace-period-seconds',
} as const;

/** The node label naming a node's pool: placement pins replicas to pools by it. Public API. */
export const NODE_POOL_LABEL = 'inferkit.dev/pool';

/**
 * What a placed workload records about the devices it holds, so that the Placement provider's ledger can count
 * other deployments' usage from the objects in a cluster. Public API: stacks of different versions read each other.
 */
export const LedgerLabels = {
  /** The ModelDeployment a workload belongs to (label); the ledger owner is `<namespace>/<value>`. */
  DEPLOYMENT: 'inferkit.dev/deployment',
  /** The node pool the workload's pods run in (label), the same value as the node label {@link NODE_POOL_LABEL}. */
  POOL: NODE_POOL_LABEL,
  /** Devices each pod of the workload claims, by the pool's device name, as JSON such as `{"gpu":8}` (annotation). */
  DEVICES_PER_POD: 'inferkit.dev/devices-per-pod',
} as const;
