export * from './units';
export * from './status';
