import { checkStrategy } from './_check';

/**
 * How a rollout may move units, with every int-or-percent already resolved to an integer against `replicas`.
 *
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment
 */
export interface RolloutStrategy {
  /** Desired number of units: indices 0 to replicas - 1 are regular, higher indices are extra (surge or leftovers). */
  readonly replicas: number;
  /** How many units may be unavailable at once: at least `replicas - maxUnavailable` units stay ready. */
  readonly maxUnavailable: number;
  /** How many units may exist above `replicas` at once. */
  readonly maxSurge: number;
  /**
   * Units with an index below this are never updated (a missing one is still created).
   *
   * @see https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#partitions
   */
  readonly partition: number;
}

/**
 * Number of waves (plan steps that update units) a rollout of every unit from `partition` to `replicas - 1`
 * takes when all units start ready and each wave is awaited: `ceil((replicas - partition) / (maxUnavailable + maxSurge))`,
 * or 0 when nothing is above the partition.
 *
 * @throws Error when the strategy is invalid (see {@link planRollout}).
 */
export function expectedWaves(strategy: RolloutStrategy): number {
  checkStrategy(strategy);
  const { replicas, partition, maxUnavailable, maxSurge } = strategy;
  return replicas > partition ? Math.ceil((replicas - partition) / (maxUnavailable + maxSurge)) : 0;
}
