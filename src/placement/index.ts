export * from './inventory';
export * from './cel';
export * from './solver';
export * from './cluster-objects';
