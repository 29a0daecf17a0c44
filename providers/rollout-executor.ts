// The rollout executor: observes a set's units in the cluster(s), asks the pure planner for the next step, carries it
// out (server-side apply, pod deletion), and repeats until done or stuck. Shared by `inferkit rollout` and the Rollout
// Pulumi resource; it never loads Pulumi. Everything it decides comes from a fresh observation, so an interrupted
// rollout resumes where the cluster is.
import {
  describeUnits, K8sObject, observeUnits, planRollout, podTemplateOf, renameUnit, RolloutLabels, RolloutSet, RolloutStep, RolloutUnit, selfRolling,
  UNIT_WORKLOAD_KINDS, UnitObservation,
} from '../src';
import { KubeClient, KubeError, retrying } from './_kube';
import { readLive, UNIT_KINDS } from './observe';

/** What to do when a wave misses its progress deadline. */
export type OnFailure = 'Halt' | 'Rollback';

export interface ExecuteOptions {
  /** How long a wave may take to become Ready. @default 30 minutes */
  readonly progressDeadlineMs?: number;
  /** Halt: keep every not-yet-updated unit on its revision and fail. Rollback: also return the failed wave to `previous`. @default 'Halt' */
  readonly onFailure?: OnFailure;
  /**
   * The set as it was before (its objects). It lets Rollback return a failed wave, and lets the next wave's templates
   * be applied while the current wave becomes Ready (a halt puts them back).
   * @default - none: Rollback acts as Halt, and each wave's templates are applied when it starts
   */
  readonly previous?: RolloutSet;
  /** One line per wave and per outcome. @default - nothing */
  readonly log?: (line: string) => void;
  /**
   * Time between observations when the pods cannot be watched (a watch refused, or ended by the server early), and
   * between looks while a rolled-back wave becomes Ready. @default 1000
   */
  readonly pollMs?: number;
  /** Field manager of the applies. @default 'inferkit' */
  readonly fieldManager?: string;
}

/** The outcome of a rollout that finished. */
export interface RolloutResult {
  /** Waves that updated units. */
  readonly waves: number;
  /** Units updated, created and deleted. */
  readonly updated: readonly number[];
  readonly created: readonly number[];
  readonly deleted: readonly number[];
  readonly elapsedMs: number;
}

/** A rollout that stopped: the units of the stuck wave and why each is not ready. */
export class RolloutError extends Error {
  constructor(message: string, public readonly units: readonly number[], public readonly report: readonly string[]) {
    super(message);
    this.name = 'RolloutError';
  }
}

const DEFAULT_DEADLINE_MS = 30 * 60_000;

/**
 * Units acted on at once. A wave's units all start together (their readiness delays overlap), while a wave of
 * hundreds stays within what an API server takes without throttling (each unit makes a few requests at a time).
 */
const UNITS_AT_ONCE = 32;

/** Longest wait on the units of a wave alone before the whole set is observed again. */
const FULL_LOOK_MS = 30_000;

/** The clients of a set's clusters, by cluster name ('' for a single cluster). */
export type Clients = ReadonlyMap<string, KubeClient>;

function clientOf(clients: Clients, unit: { cluster?: string } | undefined): KubeClient {
  const c = clients.get(unit?.cluster ?? '') ?? (clients.size === 1 ? [...clients.values()][0] : undefined);
  if (!c) throw new Error(`no client for cluster '${unit?.cluster ?? ''}'`);
  return c;
}

/** The client key of a unit's cluster: the one client when there is one, else the unit's cluster name. */
function clusterKey(clients: Clients, cluster: string | undefined): string {
  return clients.size === 1 ? [...clients.keys()][0] : cluster ?? '';
}

/** Server-side applies of objects, all at once, each retried on a transient failure; the objects as applied. */
function applyAll(kube: KubeClient, objs: readonly K8sObject[], fieldManager: string): Promise<K8sObject[]> {
  return Promise.all(objs.map(o => retrying(() => kube.apply(o, { fieldManager }))));
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Deletes one pod, only if it is still the one observed (its UID, a precondition): a pod of the same name that its
 * StatefulSet has already made again is never touched. Gone or already replaced is not an error.
 */
async function deletePod(kube: KubeClient, pod: K8sObject): Promise<void> {
  const path = await kube.path('v1', 'Pod', pod.metadata.namespace, pod.metadata.name);
  const body = { propagationPolicy: 'Background', preconditions: { uid: pod.metadata.uid } };
  const { status, body: answer } = await retrying(() => kube.request('DELETE', path, body));
  if (status >= 300 && status !== 404 && status !== 409) throw new KubeError(status, answer, `delete Pod/${pod.metadata.name}`);
}

/** An updated unit whose pods are replaced: its StatefulSets as applied, and its pods that run another revision. */
interface Replaced {
  readonly index: number;
  readonly statefulSets: readonly K8sObject[];
  readonly pods: readonly K8sObject[];
}

/**
 * Replaces the pods of updated units that run another revision, each unit's as soon as the StatefulSet controller has
 * observed its new spec (`status.observedGeneration`): it recreates a deleted pod from the spec it has seen, so an
 * earlier delete could bring the old revision back (and the unit would be rolled twice). Units whose StatefulSets the
 * last observation (`known`) shows observed already (their templates were applied ahead) are replaced at once; then
 * one list of the units' StatefulSets per look, however many units. Past `forMs` the pods are replaced anyway.
 */
async function replacePods(kube: KubeClient, set: RolloutSet, units: readonly Replaced[], known: readonly K8sObject[], forMs: number): Promise<void> {
  const until = Date.now() + forMs;
  const deletes: Array<Promise<void>> = [];
  const selector = `${RolloutLabels.SET}=${set.set},${RolloutLabels.UNIT} in (${units.map(u => u.index).join(',')})`;
  let seen = new Map(known.filter(w => w.kind === 'StatefulSet').map(w => [w.metadata.name, w]));
  let waiting = units;
  // Short steps: the controller usually observes within tens of milliseconds, and the wave's pods wait for it.
  for (let wait = 20; ; wait = Math.min(wait * 2, 200)) {
    const observed = (w: K8sObject) => (seen.get(w.metadata.name)?.status?.observedGeneration ?? 0) >= (w.metadata?.generation ?? 0);
    const late = Date.now() > until;
    for (const u of waiting.filter(x => late || x.statefulSets.every(observed))) deletes.push(...u.pods.map(p => deletePod(kube, p)));
    waiting = late ? [] : waiting.filter(x => !x.statefulSets.every(observed));
    if (waiting.length === 0) break;
    await sleep(wait);
    seen = new Map((await retrying(() => kube.list('apps/v1', 'StatefulSet', set.namespace, selector))).map(w => [w.metadata.name, w]));
  }
  await Promise.all(deletes);
}

/** Runs `work` on every item, at most `limit` at once. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>, limit: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

/** Runs a set's rollout to the end; throws {@link RolloutError} when a wave misses its deadline. */
export async function executeRollout(clients: Clients, set: RolloutSet, options: ExecuteOptions = {}): Promise<RolloutResult> {
  const log = options.log ?? (() => undefined);
  const deadline = options.progressDeadlineMs ?? DEFAULT_DEADLINE_MS;
  const pollMs = options.pollMs ?? 1000;
  const fieldManager = options.fieldManager ?? 'inferkit';
  const started = Date.now();
  const actedAt = new Map<number, number>();
  const units = new Map(set.units.map(u => [u.index, u]));
  const clusterOf = (i: number) => units.get(i)?.cluster ?? set.units[set.units.length - 1]?.cluster;
  const clusterName = (i: number) => clusterKey(clients, clusterOf(i));
  const result = { waves: 0, updated: [] as number[], created: [] as number[], deleted: [] as number[] };
  const name = set.unitKind ?? 'unit';
  const unitName = (i: number) => `${set.prefix}-${i}${i >= set.strategy.replicas ? ' (surge)' : ''}`;
  const objectsOf = (i: number): RolloutUnit => {
    const own = units.get(i);
    if (own) return own;
    // A surge unit: made from the last regular unit, in its cluster.
    const from = set.units[set.units.length - 1];
    return { index: i, cluster: from.cluster, objects: renameUnit(from.objects, set.prefix, from.index, i) };
  };
  // Each unit's own desired revision (fleet replicas differ by pool); the planner compares against the set's.
  const desiredOf = (i: number) => units.get(i)?.revision ?? set.revision;
  let lastWaveAt = started;
  const live = new Map<string, Awaited<ReturnType<typeof readLive>>>();
  const workloadsOf = (i: number) => (live.get(clusterName(i))?.workloads ?? []).filter(w => w.metadata?.labels?.[RolloutLabels.UNIT] === String(i));

  // The next wave, prepared while the current one becomes Ready: its units' templates (OnDelete StatefulSets, which
  // restart nothing) applied ahead, so that when the wave starts its pods are replaced at once. Only units that run
  // the previous set's revision are prepared, so that a halt can put their templates back exactly.
  const prepared = new Map<number, readonly K8sObject[]>();
  let preparing: Promise<void> | undefined;
  const previousOf = (i: number) => options.previous?.units.find(u => u.index === i && (u.cluster ?? '') === (objectsOf(i).cluster ?? ''));
  const prepare = async (observed: readonly UnitObservation[], waitingFor: readonly number[]): Promise<void> => {
    const waited = new Set(waitingFor);
    // The step that follows once the units waited for are Ready, as the planner will then decide it.
    const next = planRollout({
      desiredRevision: set.revision,
      strategy: set.strategy,
      units: observed.map(o => (waited.has(o.index) ? { ...o, revision: set.revision, ready: true } : o)),
      now: Date.now(),
      progressDeadlineMs: deadline,
    });
    if (next.kind !== 'Act' || next.create.length > 0 || next.delete.length > 0) return;
    const ahead = next.update.filter(i => {
      const before = previousOf(i);
      const running = observed.find(o => o.index === i)?.revision;
      const own = workloadsOf(i);
      const expected = objectsOf(i).objects.filter(o => UNIT_WORKLOAD_KINDS.includes(o.kind));
      return !prepared.has(i) && before !== undefined && running === (before.revision ?? options.previous!.revision)
        && own.length === expected.length && own.every(w => !selfRolling(w));
    });
    await inParallel(ahead, async i => {
      const kube = clientOf(clients, objectsOf(i));
      prepared.set(i, (await applyAll(kube, objectsOf(i).objects, fieldManager)).filter(a => a.kind === 'StatefulSet'));
    }, UNITS_AT_ONCE);
    if (ahead.length > 0) {
      log(`${set.namespace}/${set.set}: next wave prepared: templates of ${name}s ${ahead.map(unitName).join(', ')} applied; `
        + 'their pods are replaced once the current wave is Ready');
    }
  };
  /** Puts the templates of prepared units back to the previous set's (their pods never left it); the units put back. */
  const unprepare = async (): Promise<number[]> => {
    await preparing?.catch(() => undefined);
    const back = [...prepared.keys()].sort((a, b) => a - b);
    await inParallel(back, async i => {
      await applyAll(clientOf(clients, objectsOf(i)), previousOf(i)!.objects, fieldManager);
      prepared.delete(i);
    }, UNITS_AT_ONCE);
    return back;
  };

  /**
   * Waits until the units waited for look Ready: their pods only, listed and then watched per cluster (each change as
   * it happens), folded against the workloads of the last observation, so that the end of a wave is seen the moment it
   * comes however large the set; then the loop observes everything again and plans from that. Returns at `latest`,
   * and after {@link FULL_LOOK_MS} at the latest (a change outside the rollout is seen then). When a watch is refused
   * or ends early (a resource version too old), returns `pollMs` later, and the loop observes again.
   * `whenMade` is called once every pod of those units exists and is scheduled.
   */
  let watchRefused = false;
  const untilReady = async (waitingFor: readonly number[], latest: number, whenMade: () => void): Promise<void> => {
    const until = Math.min(latest, Date.now() + FULL_LOOK_MS);
    const byCluster = new Map<string, number[]>();
    for (const i of waitingFor) byCluster.set(clusterName(i), [...byCluster.get(clusterName(i)) ?? [], i]);
    const watched = [...byCluster].map(([cluster, indices]) => {
      const mine = new Set(indices.map(String));
      const workloads = (live.get(cluster)?.workloads ?? []).filter(w => mine.has(w.metadata?.labels?.[RolloutLabels.UNIT]));
      return { cluster, indices, workloads, pods: new Map<string, K8sObject>(), ready: false, made: false };
    });
    const stop = new AbortController();
    const judge = (w: typeof watched[number]) => {
      const pods = [...w.pods.values()];
      const seen = new Map(observeUnits(w.workloads, pods, () => started).map(o => [o.index, o]));
      w.ready = w.indices.every(i => seen.get(i)?.ready === true);
      w.made = w.indices.every(i => seen.get(i)?.pods === seen.get(i)?.desiredPods) && pods.every(p => p.spec?.nodeName);
      if (watched.every(x => x.ready)) stop.abort();
      else if (watched.every(x => x.made)) whenMade();
    };
    // A list that fails (after its retries) fails the rollout; the other clusters' watches end with it.
    await Promise.all(watched.map(async w => {
      const kube = clients.get(w.cluster);
      if (!kube || Date.now() >= until) return stop.abort();
      const selector = `${RolloutLabels.SET}=${set.set},${RolloutLabels.UNIT} in (${w.indices.join(',')})`;
      const { items, resourceVersion } = await retrying(() => kube.listAt('v1', 'Pod', set.namespace, selector));
      for (const p of items) w.pods.set(p.metadata.name, p);
      judge(w);
      try {
        await kube.watch('v1', 'Pod', set.namespace, selector, resourceVersion, until - Date.now(), (type, pod) => {
          if (type === 'DELETED') w.pods.delete(pod.metadata.name);
          else w.pods.set(pod.metadata.name, pod);
          judge(w);
          return false;
        }, stop.signal);
      } catch (e) {
        // Refused (or the connection failed): the loop's next observation reads the state instead.
        if (!watchRefused) {
          log(`${set.namespace}/${set.set}: cannot watch pods (${(e as Error).message}); observing every ${pollMs} ms instead `
            + '(grant watch on pods to see the end of each wave as it comes)');
        }
        watchRefused = true;
      }
      // Whatever ended this cluster's watch ends the others': the loop plans from a full observation next.
      stop.abort();
    })).finally(() => stop.abort());
    // Nothing to watch (the units waited for are in no cluster of the clients) is not Ready either: the loop looks again later.
    if (watched.length === 0 || !watched.every(x => x.ready)) await sleep(Math.max(0, Math.min(pollMs, until - Date.now())));
  };

  try {
    for (;;) {
      // A preparation still applying finishes before the cluster is observed (its failure fails the rollout).
      await preparing;
      preparing = undefined;
      const now = Date.now();
      const observed: UnitObservation[] = [];
      live.clear();
      // Units found in a cluster other than their own (a replica placed elsewhere): deleted once the rollout is done.
      const misplaced: Array<[string, number]> = [];
      // Every cluster at once; then each one's units, in the clients' order.
      const read = await Promise.all([...clients].map(([, kube]) => readLive(kube, set, false)));
      for (const [n, [cluster]] of [...clients].entries()) {
        const l = read[n];
        live.set(cluster, l);
        const liveNames = new Set(l.workloads.map(w => `${w.kind}/${w.metadata?.name}`));
        for (const o of observeUnits(l.workloads, l.pods, u => actedAt.get(u) ?? started)) {
          if (clients.size > 1 && (clusterOf(o.index) ?? '') !== cluster) {
            misplaced.push([cluster, o.index]);
            continue;
          }
          // A unit missing one of its workloads (deleted outside the rollout) is broken: updated, which re-applies it.
          const incomplete = (units.get(o.index)?.objects ?? [])
            .some(x => UNIT_WORKLOAD_KINDS.includes(x.kind) && !liveNames.has(`${x.kind}/${x.metadata?.name}`));
          if (incomplete) observed.push({ ...o, revision: undefined, ready: false });
          else observed.push({ ...o, revision: o.revision !== undefined && o.revision === desiredOf(o.index) ? set.revision : o.revision });
        }
      }
      const step: RolloutStep = planRollout({
        desiredRevision: set.revision, strategy: set.strategy, units: observed, now, progressDeadlineMs: deadline,
      });
      if (step.kind === 'Done') {
        await applyStaleTemplates(observed);
        for (const [cluster, i] of misplaced) {
          await deleteUnit(clients.get(cluster)!, set, i);
          log(`${set.namespace}/${set.set}: deleted ${unitName(i)} from ${cluster}, where it no longer runs`);
        }
        log(`${set.namespace}/${set.set}: done, ${result.waves} wave(s) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return { ...result, elapsedMs: Date.now() - started };
      }
      if (step.kind === 'Wait') {
        await untilReady(step.waitingFor, step.deadline, () => {
          if (options.previous && !preparing) {
            preparing = prepare(observed, step.waitingFor);
            // Awaited before the next observation; until then a failure is held, not reported as unhandled.
            preparing.catch(() => undefined);
          }
        });
        continue;
      }
      if (step.kind === 'Stuck') {
        // The whole wave, not only the unit that passed the deadline first.
        const stuck = observed.filter(o => o.revision === set.revision && !o.ready).map(o => o.index).sort((a, b) => a - b);
        const report: string[] = [];
        for (const [cluster, kube] of clients) {
          const l = await readLive(kube, set, true);
          const mine = stuck.filter(u => clusterName(u) === cluster);
          report.push(...describeUnits(mine, l.workloads, l.pods, l.events, unitName));
        }
        const back = await unprepare();
        if (back.length > 0) log(`${set.namespace}/${set.set}: templates of ${name}s ${back.map(unitName).join(', ')}, prepared for the next wave, put back`);
        const waitedS = Math.round(step.waitedMs / 1000);
        const names = stuck.map(unitName).join(', ');
        let rolledBack = '';
        if (options.onFailure === 'Rollback' && options.previous) {
          const failed = stuck.filter(u => u < set.strategy.replicas);
          await rollback(clients, set, options.previous, failed, { ...options, progressDeadlineMs: deadline, log });
          rolledBack = ` ${name[0].toUpperCase()}${name.slice(1)}s ${names} were rolled back to revision ${options.previous.revision} and are Ready.`;
        }
        const message = `Unable to roll ${set.namespace}/${set.set} to revision ${set.revision}: ${names} not Ready after ${waitedS} s `
          + `(progress deadline ${Math.round(deadline / 1000)} s). ${report.join('. ')}.${rolledBack} `
          + 'Every other unit keeps its revision. Fix the cause and run again, or raise the progress deadline.';
        log(message);
        throw new RolloutError(message, stuck, report);
      }
      // Act: the units of a step at once (a bounded number at a time), so that every pod of the wave starts as early as
      // it can. A new (or broken) unit's other objects go before its workloads (its Service and PodGroup exist before
      // its pods); a running unit's all at once, since its pods are replaced only once every apply is done. A prepared
      // unit's objects are applied already.
      const replaced = new Map<string, Replaced[]>();
      await inParallel([...step.create, ...step.update], async i => {
        const unit = objectsOf(i);
        const kube = clientOf(clients, unit);
        const cluster = clusterName(i);
        let statefulSets = prepared.get(i);
        prepared.delete(i);
        if (!statefulSets) {
          const isWorkload = (o: K8sObject) => UNIT_WORKLOAD_KINDS.includes(o.kind);
          const liveNames = new Set((live.get(cluster)?.workloads ?? []).map(w => `${w.kind}/${w.metadata?.name}`));
          const workloads = unit.objects.filter(isWorkload);
          const running = step.update.includes(i) && workloads.every(o => liveNames.has(`${o.kind}/${o.metadata?.name}`));
          const others = unit.objects.filter(o => !isWorkload(o));
          const applied = running
            ? (await Promise.all([applyAll(kube, others, fieldManager), applyAll(kube, workloads, fieldManager)]))[1]
            : await applyAll(kube, others, fieldManager).then(() => applyAll(kube, workloads, fieldManager));
          statefulSets = applied.filter(a => a.kind === 'StatefulSet');
        }
        actedAt.set(i, Date.now());
        if (!step.update.includes(i)) return;
        // OnDelete workloads keep their pods: the ones that run another revision are replaced.
        const pods = (live.get(cluster)?.pods ?? []).filter(p => p.metadata?.labels?.[RolloutLabels.UNIT] === String(i)
          && p.metadata?.labels?.[RolloutLabels.REVISION] !== desiredOf(i) && !p.metadata?.deletionTimestamp);
        replaced.set(cluster, [...replaced.get(cluster) ?? [], { index: i, statefulSets, pods }]);
      }, UNITS_AT_ONCE);
      await Promise.all([...replaced].map(([cluster, us]) => replacePods(clients.get(cluster)!, set, us, live.get(cluster)?.workloads ?? [],
        deadline)));
      for (const i of step.delete) {
        const kube = clientOf(clients, { cluster: clusterOf(i) });
        await deleteUnit(kube, set, i);
        actedAt.delete(i);
      }
      if (step.update.length > 0) {
        result.waves++;
        const ready = observed.filter(o => o.ready).length;
        log(`${set.namespace}/${set.set}: wave ${result.waves}: updating ${name}s ${step.update.map(unitName).join(', ')} `
          + `(${ready}/${set.strategy.replicas} ready, previous wave ${((Date.now() - lastWaveAt) / 1000).toFixed(1)} s)`);
        lastWaveAt = Date.now();
      } else if (step.create.length > 0 || step.delete.length > 0) {
        log(`${set.namespace}/${set.set}: ${step.reason}`);
      }
      result.updated.push(...step.update);
      result.created.push(...step.create);
      result.deleted.push(...step.delete);
    }
  } catch (e) {
    // Whatever stopped the rollout, prepared units keep running their revision under its template (best effort: the
    // cluster may be what failed; a later run re-applies a template its pods do not run).
    if (!(e instanceof RolloutError)) await unprepare().catch(() => undefined);
    throw e;
  }

  /**
   * Units whose pods run the desired revision under a template of another one (a run interrupted between the apply of
   * a template and the replacement of its pods, then run again at the revision the pods have) get their template
   * applied: nothing restarts, and a pod made again later runs the revision its unit is at.
   */
  async function applyStaleTemplates(observed: readonly UnitObservation[]): Promise<void> {
    const stale = observed.filter(o => o.revision === set.revision && units.has(o.index)
      && workloadsOf(o.index).some(w => !selfRolling(w) && podTemplateOf(w)?.metadata?.labels?.[RolloutLabels.REVISION] !== desiredOf(o.index)))
      .map(o => o.index);
    await inParallel(stale, async i => { await applyAll(clientOf(clients, objectsOf(i)), objectsOf(i).objects, fieldManager); }, UNITS_AT_ONCE);
    if (stale.length > 0) {
      log(`${set.namespace}/${set.set}: ${name}s ${stale.map(unitName).join(', ')} run revision ${set.revision} under another template: `
        + 'their templates applied again (no pod restarts)');
    }
  }
}

/** Deletes every object of one unit of a set (found by its labels). */
export async function deleteUnit(kube: KubeClient, set: Pick<RolloutSet, 'set' | 'namespace' | 'units'>, index: number): Promise<void> {
  const selector = `${RolloutLabels.SET}=${set.set},${RolloutLabels.UNIT}=${index}`;
  // Only the kinds the set's units are made of: a cluster need not serve the others.
  const kinds = new Set(set.units.flatMap(u => u.objects.map(o => o.kind)));
  for (const [apiVersion, kind] of UNIT_KINDS.filter(([, k]) => kinds.has(k))) {
    for (const o of await retrying(() => kube.list(apiVersion, kind, set.namespace, selector))) {
      await retrying(() => kube.delete(apiVersion, kind, set.namespace, o.metadata.name));
    }
  }
}

/**
 * Returns units to the previous set's objects and waits until they are Ready again: their pods replaced as a wave's
 * are (once the StatefulSet controller has observed the template put back), then one observation per cluster and look.
 */
async function rollback(clients: Clients, set: RolloutSet, previous: RolloutSet, indices: readonly number[], options: ExecuteOptions): Promise<void> {
  options.log?.(`${set.namespace}/${set.set}: rolling back ${indices.map(i => `${set.prefix}-${i}`).join(', ')} to revision ${previous.revision}`);
  const fieldManager = options.fieldManager ?? 'inferkit';
  // Only the failed units move back; the others were not updated (or keep theirs below the partition).
  const failed = previous.units.filter(u => indices.includes(u.index));
  const revisionOf = (u: RolloutUnit) => u.revision ?? previous.revision;
  const clusterOf = (u: RolloutUnit) => clusterKey(clients, u.cluster);
  const deadline = Date.now() + (options.progressDeadlineMs ?? DEFAULT_DEADLINE_MS);
  const replaced = new Map<string, Replaced[]>();
  await inParallel(failed, async u => {
    const kube = clientOf(clients, u);
    const applied = await applyAll(kube, u.objects, fieldManager);
    const pods = (await retrying(() => kube.list('v1', 'Pod', set.namespace, `${RolloutLabels.SET}=${set.set},${RolloutLabels.UNIT}=${u.index}`)))
      .filter(p => p.metadata?.labels?.[RolloutLabels.REVISION] !== revisionOf(u) && !p.metadata?.deletionTimestamp);
    replaced.set(clusterOf(u), [...replaced.get(clusterOf(u)) ?? [], { index: u.index, statefulSets: applied.filter(a => a.kind === 'StatefulSet'), pods }]);
  }, UNITS_AT_ONCE);
  await Promise.all([...replaced].map(([cluster, us]) => replacePods(clients.get(cluster)!, set, us, [], Math.max(0, deadline - Date.now()))));
  for (;;) {
    let ready = true;
    for (const [cluster, kube] of clients) {
      const mine = failed.filter(u => clusterOf(u) === cluster);
      if (mine.length === 0) continue;
      const l = await readLive(kube, set, false);
      const seen = new Map(observeUnits(l.workloads, l.pods, () => Date.now()).map(o => [o.index, o]));
      ready &&= mine.every(u => seen.get(u.index)?.ready === true && seen.get(u.index)?.revision === revisionOf(u));
    }
    if (ready) return;
    if (Date.now() > deadline) throw new RolloutError(`Unable to roll back ${set.namespace}/${set.set}: the previous revision did not become Ready either.`, indices, []);
    await sleep(options.pollMs ?? 1000);
  }
}
