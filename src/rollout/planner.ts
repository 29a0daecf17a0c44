import { checkStrategy } from './_check';
import { RolloutStrategy } from './strategy';

/** What is observed of one existing unit (an InferGroup, a role instance or a fleet replica). */
export interface UnitObservation {
  /** Position of the unit: below `replicas` it is regular, at or above it is extra. */
  readonly index: number;
  /** Revision the unit runs; `undefined` when its parts run different revisions or it is unknown. */
  readonly revision?: string;
  /** Whether every part of the unit is ready. */
  readonly ready: boolean;
  /** Epoch milliseconds at which the unit's current readiness state began. */
  readonly since: number;
}

/** Everything {@link planRollout} decides from: the target, the budget, and what runs now. */
export interface RolloutInput {
  /** Revision every regular unit at or above the partition should run. */
  readonly desiredRevision: string;
  /** Replicas, budget and partition, already resolved to integers. */
  readonly strategy: RolloutStrategy;
  /** Every existing unit, in any order; a unit absent from the list does not exist. */
  readonly units: readonly UnitObservation[];
  /** Epoch milliseconds of the observation. */
  readonly now: number;
  /** How long a created or updated unit may stay not ready before the rollout is stuck. */
  readonly progressDeadlineMs: number;
}

/**
 * The next step of a rollout. Index lists are sorted ascending.
 *
 * - `Done`: every regular unit from the partition up runs the desired revision, and no extra unit is left.
 * - `Act`: create units (they run the desired revision), update units to it, delete units; then plan again.
 * - `Wait`: observe again when a unit in `waitingFor` becomes ready, or at `deadline` at the latest.
 * - `Stuck`: `units` were created or updated and stayed not ready longer than the progress deadline.
 */
export type RolloutStep =
  | { readonly kind: 'Done' }
  | {
    readonly kind: 'Act';
    /** Indices of units to create at the desired revision. */
    readonly create: readonly number[];
    /** Indices of existing units to move to the desired revision. */
    readonly update: readonly number[];
    /** Indices of units to remove. */
    readonly delete: readonly number[];
    /** What the step does, in plain words, with the numbers that decided it. */
    readonly reason: string;
  }
  | {
    readonly kind: 'Wait';
    /** Indices of the not-ready units the next step depends on. */
    readonly waitingFor: readonly number[];
    /** Epoch milliseconds after which waiting longer is pointless: plan again then at the latest. */
    readonly deadline: number;
  }
  | {
    readonly kind: 'Stuck';
    /** Indices of the units at the desired revision that stayed not ready past the progress deadline. */
    readonly units: readonly number[];
    /** Longest time, in milliseconds, one of them has been not ready. */
    readonly waitedMs: number;
  };

/**
 * Plans the next step that moves units to `desiredRevision` while at least `replicas - maxUnavailable` units stay
 * ready and at most `replicas + maxSurge` units exist. Pure and deterministic: the same input gives the same step,
 * so a rollout interrupted anywhere resumes from a fresh observation without redoing work.
 *
 * The first rule that applies decides:
 * 1. units at the desired revision that are not ready: `Wait` for them, or `Stuck` once one is past the deadline;
 * 2. regular units missing: create them, and delete extra units not at the desired revision as far as the floor allows;
 * 3. regular units from the partition up not at the desired revision: first create surge units (up to `maxSurge`,
 *    no more than there are units to update), then update a wave: the not-ready ones (already unavailable) and as
 *    many ready ones, lowest index first, as the floor allows;
 * 4. extra units left: delete them (not-ready ones always, ready ones while the floor holds); else `Done`.
 *
 * @throws Error when a strategy field is not a non-negative integer, when maxUnavailable and maxSurge are both 0,
 * or when a unit index is negative, fractional or observed twice.
 */
export function planRollout(input: RolloutInput): RolloutStep {
  const { desiredRevision: desired, strategy, now, progressDeadlineMs } = input;
  checkStrategy(strategy);
  const units = checkedUnits(input.units);
  const { replicas, maxUnavailable, maxSurge, partition } = strategy;
  const floor = replicas - maxUnavailable;
  const available = units.filter(u => u.ready).length;
  const extras = units.filter(u => u.index >= replicas);

  // 1. Whatever was created or updated is awaited before anything else moves.
  const inFlight = units.filter(u => u.revision === desired && !u.ready);
  if (inFlight.length > 0) {
    const overdue = inFlight.filter(u => now - u.since > progressDeadlineMs);
    if (overdue.length > 0) {
      return { kind: 'Stuck', units: indices(overdue), waitedMs: Math.max(...overdue.map(u => now - u.since)) };
    }
    return { kind: 'Wait', waitingFor: indices(inFlight), deadline: Math.min(...inFlight.map(u => u.since)) + progressDeadlineMs };
  }

  // 2. A missing regular unit cannot become less available: create it, whatever the budget.
  const existing = new Set(units.map(u => u.index));
  const missing = Array.from({ length: replicas }, (_, i) => i).filter(i => !existing.has(i));
  if (missing.length > 0) {
    const stale = deletable(extras.filter(u => u.revision !== desired), available - floor);
    const reason = `create missing units ${list(missing)} at ${desired}`
      + (stale.length > 0 ? `; delete extra units ${list(stale)} not at ${desired}` : '');
    return { kind: 'Act', create: missing, update: [], delete: stale, reason };
  }

  // 3. Surge units first, then a wave within the floor.
  const needing = units.filter(u => u.index >= partition && u.index < replicas && u.revision !== desired);
  if (needing.length > 0) {
    const surged = extras.filter(u => u.revision === desired).length;
    const room = replicas + maxSurge - units.length; // stale extras count against the ceiling too
    const toCreate = Math.min(Math.min(maxSurge, needing.length) - surged, room);
    if (maxSurge > 0 && toCreate > 0) {
      const create = freeIndices(existing, replicas, toCreate);
      const reason = `surge: create units ${list(create)} at ${desired} before replacing units `
        + `(${needing.length} left to update, maxSurge ${maxSurge})`;
      return { kind: 'Act', create, update: [], delete: [], reason };
    }
    const unready = needing.filter(u => !u.ready);
    const budget = Math.max(0, available - floor);
    const chosen = indices([...unready, ...needing.filter(u => u.ready).slice(0, budget)]);
    if (chosen.length === 0) {
      // The floor is already broken by units the rollout does not own (below the partition, or stale extras).
      return blocked(units, now, progressDeadlineMs);
    }
    const reason = `wave: update units ${list(chosen)} (${chosen.length} of ${needing.length} left to update`
      + (unready.length > 0 ? `, ${unready.length} of them not ready already` : '')
      + `; ${available} ready, floor ${floor})`;
    return { kind: 'Act', create: [], update: chosen, delete: [], reason };
  }

  // 4. Everything is updated: remove surge units and scale-down leftovers.
  if (extras.length === 0) return { kind: 'Done' };
  const remove = deletable(extras, available - floor);
  if (remove.length === 0) return blocked(units, now, progressDeadlineMs);
  const kept = extras.length - remove.length;
  const reason = `clean up: delete extra units ${list(remove)} (${available} ready, floor ${floor}`
    + (kept > 0 ? `; ${kept} kept until more units are ready` : '') + ')';
  return { kind: 'Act', create: [], update: [], delete: remove, reason };
}

/** Sorted copy of the observations; throws on an index that is not a non-negative integer or is seen twice. */
function checkedUnits(units: readonly UnitObservation[]): UnitObservation[] {
  const sorted = [...units].sort((a, b) => a.index - b.index);
  sorted.forEach((u, i) => {
    if (!Number.isInteger(u.index) || u.index < 0) {
      throw new Error(`Unable to plan rollout: unit index ${String(u.index)} is not a non-negative integer. Observe units by their index.`);
    }
    if (i > 0 && sorted[i - 1].index === u.index) {
      throw new Error(`Unable to plan rollout: unit index ${u.index} is observed twice. Fold each unit's objects into one observation.`);
    }
  });
  return sorted;
}

/** Not-ready candidates all (they cost no availability), ready ones from the highest index while `budget` lasts. */
function deletable(candidates: readonly UnitObservation[], budget: number): number[] {
  const ready = candidates.filter(u => u.ready).reverse().slice(0, Math.max(0, budget));
  return indices([...candidates.filter(u => !u.ready), ...ready]);
}

/** Nothing may move until a unit outside the rollout's control becomes ready: wait for those. */
function blocked(units: readonly UnitObservation[], now: number, progressDeadlineMs: number): RolloutStep {
  return { kind: 'Wait', waitingFor: indices(units.filter(u => !u.ready)), deadline: now + progressDeadlineMs };
}

/** The `count` lowest indices from `from` up that no unit uses. */
function freeIndices(used: ReadonlySet<number>, from: number, count: number): number[] {
  const free: number[] = [];
  for (let i = from; free.length < count; i++) if (!used.has(i)) free.push(i);
  return free;
}

function indices(units: readonly UnitObservation[]): number[] {
  return units.map(u => u.index).sort((a, b) => a - b);
}

function list(values: readonly number[]): string {
  return values.join(', ');
}
