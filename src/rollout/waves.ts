import { planRollout, UnitObservation } from './planner';
import { RolloutStrategy } from './strategy';

/** The steps a rollout would take if every unit it touches became Ready at once: what `inferkit rollout --dry-run` prints. */
export interface WavePlan {
  /** Surge units created before the first wave. */
  readonly surge: readonly number[];
  /** Missing units created. */
  readonly created: readonly number[];
  /** The units each wave updates, in order. */
  readonly waves: ReadonlyArray<readonly number[]>;
  /** Units deleted at the end (surge units, and units above replicas). */
  readonly deleted: readonly number[];
}

/**
 * Plans a whole rollout from an observed state by running the planner with every unit it touches becoming Ready
 * before the next step. Pure: the same units give the same waves.
 */
export function planWaves(desiredRevision: string, strategy: RolloutStrategy, observed: readonly UnitObservation[]): WavePlan {
  const units = new Map(observed.map(u => [u.index, { ...u }]));
  const plan = { surge: [] as number[], created: [] as number[], waves: [] as number[][], deleted: [] as number[] };
  // Each step changes at least one unit, and every unit changes at most twice: a generous bound for a pure loop.
  for (let steps = 0; steps < 4 * (strategy.replicas + strategy.maxSurge + observed.length) + 8; steps++) {
    const step = planRollout({ desiredRevision, strategy, units: [...units.values()], now: 0, progressDeadlineMs: 1 });
    if (step.kind === 'Done') return plan;
    if (step.kind !== 'Act') {
      // Only units outside the rollout can hold it up here (it makes its own units Ready): mark them Ready to go on.
      const waiting = step.kind === 'Wait' ? step.waitingFor : step.units;
      if (waiting.length === 0) return plan;
      for (const i of waiting) units.set(i, { ...units.get(i)!, ready: true });
      continue;
    }
    for (const i of step.create) {
      (i >= strategy.replicas ? plan.surge : plan.created).push(i);
      units.set(i, { index: i, revision: desiredRevision, ready: true, since: 0 });
    }
    if (step.update.length > 0) plan.waves.push([...step.update]);
    for (const i of step.update) units.set(i, { index: i, revision: desiredRevision, ready: true, since: 0 });
    for (const i of step.delete) {
      plan.deleted.push(i);
      units.delete(i);
    }
  }
  throw new Error('Unable to plan the rollout: it does not converge. This is a bug in inferkit; please report it with the input.');
}
