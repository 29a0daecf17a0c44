export * from './model-infer';
export * from './gang-scheduling';
export * from './pod-defaults';
