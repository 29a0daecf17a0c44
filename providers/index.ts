// inferkit/pulumi: the Pulumi side. A `cdk8s synth` pipeline never loads this entry point.
export * from './placement';
export * from './model-deployment';
export type { ClusterConnection, LiveCluster } from './inventory';
export * from './rollout';
export * from './components';
export { RolloutError } from './rollout-executor';
export type { OnFailure, RolloutResult } from './rollout-executor';
