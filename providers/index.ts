/**
 * The Pulumi side: components that render inferkit's constructs and apply them, and the dynamic resources that place
 * replicas and roll groups during `pulumi up`. A `cdk8s synth` pipeline never loads this entry point.
 *
 * @module inferkit/pulumi
 */
export { Placement } from './placement';
export type { PlacementArgs, PlacementCluster } from './placement';
export * from './model-deployment';
export type { ClusterConnection, LiveCluster } from './inventory';
export { Rollout } from './rollout';
export type { RolloutArgs } from './rollout';
export type { K8sObject, RolloutSet, RolloutUnit, RolloutStrategy } from '../src';
export * from './components';
export { RolloutError } from './rollout-executor';
export type { OnFailure, RolloutResult } from './rollout-executor';
export { WorkloadStatus } from './status';
export type { WorkloadStatusArgs } from './status';
export type { Condition, ObservedStatus, ReplicaStatus, SeedKind, WorkloadRef } from '../src';
