export * from './strategy';
export * from './planner';
export * from './sets';
export * from './waves';
