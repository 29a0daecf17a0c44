export * from './src';
export * from './constructs';
