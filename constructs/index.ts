export * from './model-infer';
export * from './gang-scheduling';
export * from './pod-defaults';
export * from './inference-service';
export type { ObjectMetadataProps } from './_metadata';
export * from './model';
export * from './model-replica';
