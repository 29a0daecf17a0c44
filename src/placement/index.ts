export * from './inventory';
export * from './cel';
export * from './solver';
