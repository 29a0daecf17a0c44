import { RolloutStrategy } from './strategy';

const FIELDS = ['replicas', 'maxUnavailable', 'maxSurge', 'partition'] as const;

/**
 * Throws when a resolved strategy cannot drive a rollout: a field that is not a non-negative integer, or
 * maxUnavailable and maxSurge both 0 (no unit could ever be replaced without breaking the floor or the ceiling).
 */
export function checkStrategy(strategy: RolloutStrategy): void {
  for (const field of FIELDS) {
    const value = strategy[field];
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`Unable to plan rollout: strategy.${field} ${String(value)} is not a non-negative integer. Resolve it to 0 or more before planning.`);
    }
  }
  if (strategy.maxUnavailable === 0 && strategy.maxSurge === 0) {
    throw new Error('Unable to plan rollout: strategy.maxUnavailable 0 and strategy.maxSurge 0 leave no room to replace any unit. '
      + 'Allow at least one: maxUnavailable 1 (replace in place) or maxSurge 1 (add a unit first).');
  }
}
