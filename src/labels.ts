/**
 * Label and annotation keys. Selector labels are public API: changing one is a breaking change.
 */

/** The pod labels of Kthena's ModelInfer era (`workload.matrixinfer.ai`), which the ModelInfer construct carries by default. */
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

/**
 * The pod labels of Kthena's current API (`workload.serving.volcano.sh` ModelServing), as its controller sets them, so
 * that a ModelServing's own affinity rules and routers (a ModelServer's `workloadSelector`) select inferkit's pods.
 */
export const ModelServingLabels = {
  /** The ModelServing name (pods). */
  NAME: 'modelserving.volcano.sh/name',
  /** The ServingGroup name, `<ms>-<i>` (pods, services). */
  GROUP_NAME: 'modelserving.volcano.sh/group-name',
  /** The role name (pods, services). */
  ROLE: 'modelserving.volcano.sh/role',
  /** The role instance, `<role>-<j>` (pods, services). */
  ROLE_ID: 'modelserving.volcano.sh/role-id',
  /** Revision hash of the group template (pods). */
  REVISION: 'modelserving.volcano.sh/revision',
  /** `"true"` on the entry pod; workers do not carry it, as under Kthena's controller (pods). */
  ENTRY: 'modelserving.volcano.sh/entry',
  /** Hash of the role's templates (pods). */
  ROLE_TEMPLATE_HASH: 'modelserving.volcano.sh/role-template-hash',
} as const;

/** The pod label keys of one Kthena API generation: {@link ModelInferLabels} or {@link ModelServingLabels}. */
export interface KthenaLabelKeys {
  readonly NAME: string;
  readonly GROUP_NAME: string;
  readonly ROLE: string;
  readonly ROLE_ID: string;
  readonly REVISION: string;
  readonly ENTRY: string;
  /** Only the current API labels pods with their role's template hash. */
  readonly ROLE_TEMPLATE_HASH?: string;
}

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

/**
 * What the rollout executor (`inferkit rollout`, the `Rollout` Pulumi resource) reads from rendered objects. Public
 * API: a synth output applied by a pipeline is rolled by `inferkit rollout` from these alone.
 */
export const RolloutLabels = {
  /** The rolled set an object belongs to (label on every per-unit object and pod template): `<kind>.<name>`, lower case. */
  SET: 'rollout.inferkit.dev/set',
  /** The unit's index: the InferGroup (or replica) the object belongs to (label on objects and pod templates). */
  UNIT: 'rollout.inferkit.dev/unit',
  /** The revision of the pod template (label on pod templates): a unit runs the revision its pods carry. */
  REVISION: 'rollout.inferkit.dev/revision',
} as const;

/** The resolved rollout strategy, on every per-unit workload: what `inferkit rollout` honours. */
export const RolloutAnnotations = {
  /** Units of the set: the index of a unit at or above it is a surge unit. */
  REPLICAS: 'rollout.inferkit.dev/replicas',
  MAX_UNAVAILABLE: 'rollout.inferkit.dev/max-unavailable',
  MAX_SURGE: 'rollout.inferkit.dev/max-surge',
  PARTITION: 'rollout.inferkit.dev/partition',
  /** What a unit is, for messages: `group`, `role instance`, `replica`. */
  UNIT_KIND: 'rollout.inferkit.dev/unit-kind',
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
