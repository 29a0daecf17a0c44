export * from './strategy';
export * from './planner';
