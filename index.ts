/**
 * inferkit: cdk8s constructs that compile the CRDs of Kubernetes inference systems (Kthena, FlexInfer, KubeDL,
 * Modelplane) into plain Kubernetes objects, without their controllers.
 *
 * This entry point is the public surface: the constructs, their props and value types, the placement solver, and
 * what loading seed manifests needs. Everything here is named on purpose (`test/public-surface.test.ts` pins the
 * list); the core's helpers stay internal. The Pulumi side is `inferkit/pulumi`.
 *
 * @module inferkit
 */

// Kthena ModelInfer / ModelServing.
export { ModelInfer } from './constructs/model-infer';
export type { FromManifestOptions, ModelInferProps, RoleProps, RolloutStrategyProps } from './constructs/model-infer';
export { GangScheduling, NetworkTopology } from './constructs/gang-scheduling';
export type { VolcanoGangOptions } from './constructs/gang-scheduling';
export { KthenaApi, NetworkTopologyMode, RecoveryPolicy, RolloutLevel, WorkloadBackend } from './src/model-infer';
// What a ModelInfer resolved its props to (`ModelInfer.spec`), and the gang and topology specs behind the value types.
export type { GangSpec, NetworkTopologySpec, ResolvedModelInfer, ResolvedRole, ResolvedRollout } from './src/model-infer';
export { ModelInferLabels, ModelServingLabels, RoleEnv } from './src/labels';
// Kthena registry Model / ModelBooster, AutoscalingPolicy, ModelServer and ModelRoute.
export { KthenaEngine, KthenaModel, LORA_MOUNT_PATH, LoraLoading } from './constructs/kthena-model';
export type { KthenaBackendProps, KthenaModelProps, LoraAdapterProps } from './constructs/kthena-model';
export { AutoscalingPolicy, ScaleTarget, ScalingSelect } from './constructs/autoscaling-policy';
export type { AutoscalingPolicyManifestOptions, AutoscalingPolicyProps, AutoscalingRulesProps, PanicPolicyProps, PolicyMetricProps, ScalingRateProps } from './constructs/autoscaling-policy';
export { MODEL_NAME_HEADER, ModelRoute, ModelServer, StringMatch } from './constructs/model-route';
export type { ModelMatchProps, ModelRouteProps, ModelRouteRuleProps, ModelServerProps, RouteTargetProps } from './constructs/model-route';
export type { ModelInferAutoscalingProps } from './constructs/_simple-model-infer';
export type { PrometheusSource } from './constructs/_autoscaler';

// FlexInfer Model.
export { CacheStrategy, Model, ModelLabels } from './constructs/model';
export type {
  LiteLlmProps, ModelCapabilitiesProps, ModelFileCacheProps, ModelGpuProps, ModelProps, ModelSizingProps, ModelWorkload, SecretKeyRef,
  ServerlessProps,
} from './constructs/model';
export { ModelSource, SourceKind } from './src/model-source';
export { Accelerator, GpuVendor } from './src/accelerator';
export type { GpuVendorChoice } from './src/compatibility';

// KubeDL Inference.
export { InferenceLabels, InferenceService } from './constructs/inference-service';
export type {
  BatchingProps, GatewayRef, InferenceManifestOptions, InferenceServiceProps, ModelImageProps, PredictorAutoScaleProps, PredictorProps,
} from './constructs/inference-service';

// Modelplane ModelDeployment, ModelReplica, ModelCache and serving.
export { ModelDeployment, Placement } from './constructs/model-deployment';
export type {
  DeploymentDeviceRequestProps, DeploymentEngineProps, DeploymentMemberProps, ModelDeploymentProps, RenderedReplica, ServingProps,
} from './constructs/model-deployment';
export { EnginePhase, MemberRole, ModelReplica, ModelReplicaLabels, ServingMode } from './constructs/model-replica';
export type { DeviceRequestProps, EngineMemberProps, EngineProps, ModelReplicaManifestOptions, ModelReplicaProps } from './constructs/model-replica';
export { ModelCache } from './constructs/model-cache';
export type { CacheMountOptions, CacheSecretRef, ModelCacheProps } from './constructs/model-cache';
export { InferencePool, InferencePoolLabels, SchedulingMode } from './constructs/inference-pool';
export type { GatewayParentProps, InferencePoolProps, PrefillDecodeProps } from './constructs/inference-pool';
export { LedgerLabels, NODE_POOL_LABEL } from './src/labels';

// Shared by the constructs.
export { KubernetesVersion } from './src/kubernetes-version';
export type { PodDefaults } from './constructs/pod-defaults';
export type { ObjectMetadataProps } from './constructs/_metadata';
export { Warnings } from './constructs/warnings';
export { SpecError } from './src/errors';
export type { SpecIssue } from './src/errors';

// The placement solver.
export { place } from './src/placement/solver';
export type {
  AssignmentState, ClusterSelector, ClusterSelectorRequirement, ClusterTaint, ClusterToleration, DeviceAttributeValue, DeviceRequestDemand,
  EngineDemand, FleetCluster, FleetDevice, FleetInventory, FleetNodePool, LedgerEntry, MemberAssignment, MemberDemand, PlacementDemand,
  PlacementRejection, PlacementResult, RejectionReason, ReplicaAssignment, TaintEffect, UnplacedReplica,
} from './src/placement/inventory';

// Loading seed manifests: each construct's `fromManifest`, and what tells the documents apart.
export type { Manifest } from './src/manifests';
export { isSimpleModelInfer, MODEL_INFER_KINDS } from './src/manifests';
export { FLEXINFER_MODEL_KIND } from './src/flexinfer-manifest';
export { AUTOSCALING_POLICY_BINDING_KIND, AUTOSCALING_POLICY_KINDS, KTHENA_MODEL_KIND, MODEL_BOOSTER_KIND } from './src/kthena-registry-manifest';
export { MODEL_ROUTE_KINDS, MODEL_SERVER_KINDS } from './src/kthena-networking-manifest';
export { INFERENCE_KIND, MODEL_VERSION_KIND } from './src/inference-manifest';
export type { LoadedModelVersion } from './src/inference-manifest';
export {
  INFERENCE_CLASS_KIND, INFERENCE_CLUSTER_KIND, MODEL_CACHE_KIND, MODEL_DEPLOYMENT_KIND, MODEL_REPLICA_KIND,
} from './src/modelplane-manifest';
export type { ModelDeploymentFleetManifests } from './src/modelplane-manifest';
