import * as fc from 'fast-check';
import { expectedWaves, planRollout, RolloutInput, RolloutStep, RolloutStrategy, UnitObservation } from '../../../src';

const DEADLINE = 600_000;

/** An observed unit: `u(2, 'old')` is unit 2 at 'old', ready since 0. */
function u(index: number, revision: string | undefined, ready = true, since = 0): UnitObservation {
  return revision === undefined ? { index, ready, since } : { index, revision, ready, since };
}

function strategy(replicas: number, maxUnavailable: number, maxSurge: number, partition = 0): RolloutStrategy {
  return { replicas, maxUnavailable, maxSurge, partition };
}

function plan(s: RolloutStrategy, units: UnitObservation[], now = 1_000): RolloutStep {
  return planRollout({ desiredRevision: 'new', strategy: s, units, now, progressDeadlineMs: DEADLINE });
}

/** `n` ready units at 'old', indices 0 to n - 1. */
function olds(n: number): UnitObservation[] {
  return Array.from({ length: n }, (_, i) => u(i, 'old'));
}

/** The Act step with these lists, whatever its reason. */
function act(create: number[], update: number[], del: number[]): RolloutStep {
  return { kind: 'Act', create, update, delete: del, reason: expect.any(String) };
}

describe('rule 1: created and updated units are awaited first', () => {
  test.each<[string, UnitObservation[], number, RolloutStep]>([
    ['a regular and a surge unit not ready yet', [u(0, 'new', false, 500), ...olds(3).slice(1), u(3, 'new', false, 200)], 1_000,
      { kind: 'Wait', waitingFor: [0, 3], deadline: 200 + DEADLINE }],
    ['exactly at the deadline is still waiting', [u(0, 'new', false, 0), u(1, 'old'), u(2, 'old')], DEADLINE,
      { kind: 'Wait', waitingFor: [0], deadline: DEADLINE }],
    ['past the deadline: only the overdue units, and the longest wait', [u(0, 'new', false, 0), u(1, 'new', false, 10), u(2, 'new', false, 5_000)], DEADLINE + 100,
      { kind: 'Stuck', units: [0, 1], waitedMs: DEADLINE + 100 }],
    ['a not-ready unit at another revision is not in flight', [u(0, 'old', false), u(1, 'new'), u(2, 'new')], 1_000,
      act([], [0], [])],
  ])('given %s', (_, units, now, expected) => {
    expect(plan(strategy(3, 1, 0), units, now)).toEqual(expected);
  });
});

describe('rule 2: missing regular units are created', () => {
  test('all at once, below the partition too, at the desired revision', () => {
    // given units 0 and 2 of 4 missing, partition 1
    const step = plan(strategy(4, 1, 0, 1), [u(1, 'old'), u(3, 'old')]);
    // then both are created and nothing is updated in the same step
    expect(step).toEqual(act([0, 2], [], []));
  });

  test('stale extra units go in the same step: not-ready ones always, ready ones (highest first) while the floor holds', () => {
    // given 3 regular units, 1 missing, extras 3 (new), 4 (old, ready), 5 (old, not ready), 6 (old, ready); floor 2
    const units = [u(0, 'new'), u(1, 'new'), u(3, 'new'), u(4, 'old'), u(5, 'old', false), u(6, 'old')];
    const step = plan(strategy(3, 1, 1), units);
    // then 4 ready units minus floor 2 lets two ready stale extras go, the not-ready one is free, unit 3 stays
    expect(step).toEqual(act([2], [], [4, 5, 6]));
  });

  test('ready stale extras stay when the floor does not allow', () => {
    // given 3 ready units and floor 3
    const step = plan(strategy(3, 0, 1), [u(0, 'new'), u(1, 'new'), u(3, 'old')]);
    // then the stale extra stays until the created unit is ready
    expect(step).toEqual(act([2], [], []));
    expect(step.kind === 'Act' && step.reason).toBe('create missing units 2 at new');
  });
});

describe('rule 3a: surge units are created before any wave', () => {
  test.each<[string, RolloutStrategy, UnitObservation[], RolloutStep]>([
    ['maxSurge units when more need updating', strategy(4, 0, 2), olds(4), act([4, 5], [], [])],
    ['no more surge units than units to update', strategy(4, 0, 3, 3), olds(4), act([4], [], [])],
    ['at the lowest free indices from replicas up', strategy(3, 0, 2), [...olds(3), u(4, 'new')], act([3], [], [])],
    ['none when enough surge units are at the desired revision', strategy(3, 0, 1), [...olds(3), u(5, 'new')], act([], [0], [])],
    ['none beyond the ceiling when stale extras hold it', strategy(3, 0, 1), [...olds(3), u(3, 'older')], act([], [0], [])],
    ['none with maxSurge 0', strategy(3, 1, 0), olds(3), act([], [0], [])],
  ])('%s', (_, s, units, expected) => {
    expect(plan(s, units)).toEqual(expected);
  });
});

describe('rule 3b: a wave updates what the floor allows', () => {
  test.each<[string, RolloutStrategy, UnitObservation[], RolloutStep]>([
    ['ready units, lowest index first, as many as ready minus floor', strategy(5, 2, 0), olds(5), act([], [0, 1], [])],
    ['surge units widen the budget', strategy(5, 1, 2), [...olds(5), u(5, 'new'), u(6, 'new')], act([], [0, 1, 2], [])],
    ['not-ready units go first and cost nothing', strategy(5, 1, 0), [u(0, 'old'), u(1, 'old'), u(2, 'old', false), u(3, 'old'), u(4, 'old')],
      act([], [2], [])],
    ['a unit of mixed revision needs the update', strategy(3, 1, 0), [u(0, 'new'), u(1, undefined), u(2, 'new')], act([], [1], [])],
    ['units below the partition are never updated', strategy(4, 4, 0, 2), olds(4), act([], [2, 3], [])],
    ['a floor above replicas never goes negative', strategy(3, 5, 0), olds(3), act([], [0, 1, 2], [])],
  ])('%s', (_, s, units, expected) => {
    expect(plan(s, units)).toEqual(expected);
  });

  test('the reason says what moves and why that much', () => {
    const step = plan(strategy(5, 2, 0, 1), [u(0, 'old'), u(1, 'old'), u(2, 'old'), u(3, 'old', false), u(4, 'old')]);
    expect(step).toEqual(act([], [1, 3], []));
    expect(step.kind === 'Act' && step.reason).toBe('wave: update units 1, 3 (2 of 4 left to update, 1 of them not ready already; 4 ready, floor 3)');
  });

  test('when units the rollout does not own break the floor, it waits for them', () => {
    // given unit 0 (below the partition) not ready and no budget left
    const step = plan(strategy(3, 1, 0, 1), [u(0, 'old', false), u(1, 'old'), u(2, 'old')], 5_000);
    expect(step).toEqual({ kind: 'Wait', waitingFor: [0], deadline: 5_000 + DEADLINE });
  });
});

describe('rule 4: extra units are removed once everything is updated', () => {
  test.each<[string, RolloutStrategy, UnitObservation[], RolloutStep]>([
    ['all extras when the floor holds', strategy(2, 0, 2), [u(0, 'new'), u(1, 'new'), u(2, 'new'), u(3, 'new')], act([], [], [2, 3])],
    ['scale-down leftovers at any revision', strategy(2, 1, 0), [u(0, 'new'), u(1, 'new'), u(2, 'old', false), u(3, undefined)], act([], [], [2, 3])],
    ['not-ready extras always, ready ones only while the floor holds', strategy(3, 0, 2, 1),
      [u(0, 'old', false), u(1, 'new'), u(2, 'new'), u(3, 'new'), u(4, 'old', false), u(5, 'new')], act([], [], [4, 5])],
    ['nothing left: done', strategy(3, 1, 1, 1), [u(0, 'old'), u(1, 'new'), u(2, 'new')], { kind: 'Done' }],
    ['done even when a unit below the partition is not ready', strategy(2, 1, 0, 1), [u(0, 'old', false), u(1, 'new')], { kind: 'Done' }],
    ['partition at replicas: nothing to update', strategy(2, 1, 0, 2), [u(0, 'old'), u(1, 'old')], { kind: 'Done' }],
  ])('%s', (_, s, units, expected) => {
    expect(plan(s, units)).toEqual(expected);
  });

  test('when the floor keeps every ready extra, it waits for the units that are not ready', () => {
    const step = plan(strategy(3, 0, 1, 1), [u(0, 'old', false), u(1, 'new'), u(2, 'new'), u(3, 'new')], 7);
    expect(step).toEqual({ kind: 'Wait', waitingFor: [0], deadline: 7 + DEADLINE });
  });
});

describe('invalid input', () => {
  test('maxUnavailable 0 and maxSurge 0 throw, naming both', () => {
    expect(() => plan(strategy(3, 0, 0), olds(3))).toThrow(/maxUnavailable 0 and strategy\.maxSurge 0/);
    expect(() => expectedWaves(strategy(3, 0, 0))).toThrow(/maxUnavailable.*maxSurge/);
  });

  test.each<[string, RolloutStrategy]>([
    ['replicas', strategy(-1, 1, 0)],
    ['maxUnavailable', strategy(3, 1.5, 0)],
    ['maxSurge', strategy(3, 1, -1)],
    ['partition', strategy(3, 1, 0, Number.NaN)],
  ])('a %s that is not a non-negative integer throws', (field, s) => {
    expect(() => plan(s, olds(3))).toThrow(`strategy.${field}`);
  });

  test('a unit observed twice throws', () => {
    expect(() => plan(strategy(3, 1, 0), [...olds(3), u(1, 'new')])).toThrow('unit index 1 is observed twice');
  });

  test('a negative unit index throws', () => {
    expect(() => plan(strategy(3, 1, 0), [u(-1, 'old')])).toThrow('unit index -1');
  });
});

describe('expectedWaves', () => {
  test.each<[RolloutStrategy, number]>([
    [strategy(10, 1, 0), 10],
    [strategy(10, 2, 1), 4],
    [strategy(10, 0, 3, 4), 2],
    [strategy(10, 11, 0), 1],
    [strategy(10, 1, 0, 10), 0],
    [strategy(0, 1, 0), 0],
  ])('%o takes %i waves', (s, waves) => {
    expect(expectedWaves(s)).toBe(waves);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Properties, over a simulated cluster: each Act is applied at once, then one not-ready unit (chosen by fast-check)
// becomes ready and time moves on a little, then the planner is asked again.

interface Snapshot {
  readonly units: UnitObservation[];
  readonly now: number;
  /** Every index updated before this instant, in order. */
  readonly updated: number[];
}

interface Run {
  readonly steps: RolloutStep[];
  readonly last: RolloutStep;
  readonly units: UnitObservation[];
  /** Every index in an update list, in order, duplicates kept. */
  readonly updated: number[];
  /** Every observed instant: after each Act and after each readiness event. */
  readonly snapshots: Snapshot[];
}

interface SimOptions {
  readonly choices: readonly number[];
  /** Indices that, once at the desired revision, never become ready. */
  readonly neverReady?: ReadonlySet<number>;
  readonly progressDeadlineMs?: number;
}

function simulate(s: RolloutStrategy, start: Snapshot, options: SimOptions): Run {
  const { choices, neverReady = new Set<number>(), progressDeadlineMs = 1e12 } = options;
  const units = new Map(start.units.map(x => [x.index, { ...x }]));
  const observe = () => [...units.values()].sort((a, b) => a.index - b.index).map(x => ({ ...x }));
  const steps: RolloutStep[] = [];
  const updated = [...start.updated];
  const snapshots: Snapshot[] = [];
  let now = start.now;
  const bound = 10 * (s.replicas + s.maxSurge) + 50;
  for (let i = 0; i < bound; i++) {
    const step = planRollout({ desiredRevision: 'new', strategy: s, units: observe(), now, progressDeadlineMs });
    steps.push(step);
    if (step.kind === 'Done' || step.kind === 'Stuck') return { steps, last: step, units: observe(), updated, snapshots };
    if (step.kind === 'Act') {
      for (const index of step.delete) units.delete(index);
      for (const index of step.create) units.set(index, { index, revision: 'new', ready: false, since: now });
      for (const index of step.update) units.set(index, { index, revision: 'new', ready: false, since: now });
      updated.push(...step.update);
      snapshots.push({ units: observe(), now, updated: [...updated] });
    }
    const candidates = [...units.values()].filter(x => !x.ready && !neverReady.has(x.index)).sort((a, b) => a.index - b.index);
    if (candidates.length > 0) {
      const chosen = candidates[choices[i % choices.length] % candidates.length];
      units.set(chosen.index, { ...chosen, ready: true, since: now });
      snapshots.push({ units: observe(), now, updated: [...updated] });
      now += 1 + (choices[(i + 1) % choices.length] % 1_000);
    } else if (step.kind === 'Wait') {
      now = step.deadline + 1; // only units that never become ready are left: let the deadline pass
    }
  }
  throw new Error(`rollout of ${JSON.stringify(s)} did not finish in ${bound} steps: ${JSON.stringify(steps.slice(-3))}`);
}

const strategyArb: fc.Arbitrary<RolloutStrategy> = fc.integer({ min: 1, max: 30 }).chain(replicas => fc.record({
  replicas: fc.constant(replicas),
  maxUnavailable: fc.integer({ min: 0, max: replicas + 1 }),
  maxSurge: fc.integer({ min: 0, max: 3 }),
  partition: fc.integer({ min: 0, max: replicas }),
})).filter(s => s.maxUnavailable + s.maxSurge > 0);

const choicesArb = fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 40 });

/** Every unit exists at 'old' and is ready. */
function initial(s: RolloutStrategy): Snapshot {
  return { units: olds(s.replicas), now: 1_000, updated: [] };
}

function available(units: readonly UnitObservation[]): number {
  return units.filter(x => x.ready).length;
}

function duplicates(values: readonly number[]): number[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

/** The end state every finished rollout reaches. */
function expectFinished(s: RolloutStrategy, run: Run): void {
  expect(run.last).toEqual({ kind: 'Done' });
  expect(run.units.map(x => x.index)).toEqual(Array.from({ length: s.replicas }, (_, i) => i));
  for (const x of run.units) {
    expect({ index: x.index, revision: x.revision, ready: x.ready }).toEqual({ index: x.index, revision: x.index < s.partition ? 'old' : 'new', ready: true });
  }
}

describe('properties of a simulated rollout', () => {
  test('available units never drop below replicas - maxUnavailable at any observed instant', () => {
    fc.assert(fc.property(strategyArb, choicesArb, (s, choices) => {
      const run = simulate(s, initial(s), { choices });
      for (const snap of run.snapshots) expect(available(snap.units)).toBeGreaterThanOrEqual(s.replicas - s.maxUnavailable);
    }));
  });

  test('existing units never exceed replicas + maxSurge', () => {
    fc.assert(fc.property(strategyArb, choicesArb, (s, choices) => {
      const run = simulate(s, initial(s), { choices });
      for (const snap of run.snapshots) expect(snap.units.length).toBeLessThanOrEqual(s.replicas + s.maxSurge);
    }));
  });

  test('units below the partition never change revision nor leave', () => {
    fc.assert(fc.property(strategyArb, choicesArb, (s, choices) => {
      const run = simulate(s, initial(s), { choices });
      for (const snap of [...run.snapshots, { units: run.units }]) {
        expect(snap.units.filter(x => x.index < s.partition).map(x => x.revision)).toEqual(Array(s.partition).fill('old'));
      }
    }));
  });

  test('the run ends Done in exactly expectedWaves Acts with updates, every unit updated once', () => {
    fc.assert(fc.property(strategyArb, choicesArb, (s, choices) => {
      const run = simulate(s, initial(s), { choices });
      expectFinished(s, run);
      expect(run.steps.filter(x => x.kind === 'Act' && x.update.length > 0)).toHaveLength(expectedWaves(s));
      expect(duplicates(run.updated)).toEqual([]);
      expect([...run.updated].sort((a, b) => a - b)).toEqual(Array.from({ length: s.replicas - s.partition }, (_, i) => s.partition + i));
    }));
  });

  test('replanning from any observed instant finishes without redoing an update', () => {
    fc.assert(fc.property(strategyArb, choicesArb, choicesArb, fc.nat(), (s, choices, later, pick) => {
      const first = simulate(s, initial(s), { choices });
      fc.pre(first.snapshots.length > 0);
      const snap = first.snapshots[pick % first.snapshots.length];
      const resumed = simulate(s, snap, { choices: later });
      expectFinished(s, resumed);
      expect(duplicates(resumed.updated)).toEqual([]);
      for (const x of resumed.snapshots) {
        expect(available(x.units)).toBeGreaterThanOrEqual(s.replicas - s.maxUnavailable);
        expect(x.units.length).toBeLessThanOrEqual(s.replicas + s.maxSurge);
      }
    }));
  });

  test('the same input, in any unit order, gives a deep-equal step', () => {
    fc.assert(fc.property(strategyArb, choicesArb, fc.nat(), fc.nat(), (s, choices, pick, seed) => {
      const run = simulate(s, initial(s), { choices });
      fc.pre(run.snapshots.length > 0);
      const snap = run.snapshots[pick % run.snapshots.length];
      const input: RolloutInput = { desiredRevision: 'new', strategy: s, units: snap.units, now: snap.now + 5, progressDeadlineMs: 100 };
      const shuffled = snap.units.map((x, i) => ({ x, key: (i * 7919 + seed) % 104729 })).sort((a, b) => a.key - b.key).map(({ x }) => ({ ...x }));
      expect(planRollout({ ...input, strategy: { ...s }, units: shuffled })).toEqual(planRollout(input));
    }));
  });

  test('a unit that never becomes ready is reported Stuck after the deadline; units not updated keep old', () => {
    const withBadUnit = strategyArb.filter(s => s.replicas > s.partition)
      .chain(s => fc.tuple(fc.constant(s), fc.integer({ min: s.partition, max: s.replicas - 1 })));
    fc.assert(fc.property(withBadUnit, choicesArb, ([s, bad], choices) => {
      const run = simulate(s, initial(s), { choices, neverReady: new Set([bad]), progressDeadlineMs: DEADLINE });
      expect(run.last.kind).toBe('Stuck');
      if (run.last.kind !== 'Stuck') return;
      expect(run.last.units).toEqual([bad]);
      expect(run.last.waitedMs).toBeGreaterThan(DEADLINE);
      const updated = new Set(run.updated);
      for (const x of run.units) {
        if (!updated.has(x.index) && x.index < s.replicas) expect(x).toMatchObject({ revision: 'old', ready: true });
      }
      expect(run.units.filter(x => x.revision === 'new' && !x.ready).map(x => x.index)).toEqual([bad]);
    }));
  });
});
