// The observation fold: live objects of a rollout set (workloads, pods, events) to the state of each unit, and to the
// reasons a unit is not ready. Pure; the executor, `inferkit status` and the components read the cluster and call it.
import { RolloutLabels } from '../labels';
import { K8sObject, podTemplateOf } from '../rollout/sets';

/** What is observed of one unit: the planner's input, with the unit's pods for reports. */
export interface ObservedUnit {
  readonly index: number;
  /** The revision the unit runs; undefined while its pods run different revisions. */
  readonly revision?: string;
  readonly ready: boolean;
  /** Epoch ms since when the unit is in its current readiness state (its latest pod change). */
  readonly since: number;
  /** Pods the unit's workloads want. */
  readonly desiredPods: number;
  /** Pods that exist and are not being deleted. */
  readonly pods: number;
  /** Of those, the Ready ones. */
  readonly readyPods: number;
}

function time(t: unknown): number | undefined {
  if (typeof t !== 'string') return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Whether a pod's Ready condition is True. */
export function podReady(pod: K8sObject): boolean {
  return (pod.status?.conditions ?? []).some((c: K8sObject) => c.type === 'Ready' && c.status === 'True');
}

/** Pods a workload wants: its replicas (times the group size for a LeaderWorkerSet). */
export function desiredPodsOf(workload: K8sObject): number {
  const replicas = workload.spec?.replicas ?? 1;
  return workload.kind === 'LeaderWorkerSet' ? replicas * (workload.spec?.leaderWorkerTemplate?.size ?? 1) : replicas;
}

/**
 * Whether a workload replaces its pods itself when its template changes (a Deployment, a LeaderWorkerSet, a
 * StatefulSet with RollingUpdate). Those units run the revision of their template; an `OnDelete` StatefulSet's unit
 * runs the revision of its pods, which the executor replaces.
 */
export function selfRolling(workload: K8sObject): boolean {
  return !(workload.kind === 'StatefulSet' && workload.spec?.updateStrategy?.type === 'OnDelete');
}

const unitOf = (o: K8sObject): number | undefined => {
  const v = o.metadata?.labels?.[RolloutLabels.UNIT];
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
};

/**
 * Folds the live workloads and pods of one set into the state of each unit that exists (has a workload).
 * `fallbackSince(unit)` is used when a unit has no pod to date its state by (its pods were just deleted, or cannot be
 * created): the time the executor acted on it, or when it started observing.
 */
export function observeUnits(workloads: readonly K8sObject[], pods: readonly K8sObject[], fallbackSince: (unit: number) => number): ObservedUnit[] {
  const units = [...new Set(workloads.map(unitOf).filter((u): u is number => u !== undefined))].sort((a, b) => a - b);
  return units.map(index => {
    const own = workloads.filter(w => unitOf(w) === index);
    const mine = pods.filter(p => unitOf(p) === index);
    const live = mine.filter(p => !p.metadata?.deletionTimestamp);
    const desiredPods = own.reduce((n, w) => n + desiredPodsOf(w), 0);
    const templateRevisions = new Set(own.map(w => podTemplateOf(w)?.metadata?.labels?.[RolloutLabels.REVISION]));
    const podRevisions = new Set(live.map(p => p.metadata?.labels?.[RolloutLabels.REVISION]));
    const template = templateRevisions.size === 1 ? [...templateRevisions][0] : undefined;
    let revision: string | undefined;
    if (own.some(selfRolling)) {
      // The template is what runs once the workload's own rollout is over; until then old pods still count against it.
      revision = template;
    } else if (live.length === 0) {
      revision = template;
    } else if (podRevisions.size === 1) {
      const running = [...podRevisions][0];
      // Missing pods come back from the template: a unit whose pods agree with each other but not with it is mixed.
      revision = live.length === desiredPods || running === template ? running : undefined;
    }
    const readyPods = live.filter(podReady).length;
    const ready = revision !== undefined && live.length === desiredPods && mine.length === live.length && readyPods === desiredPods
      && live.every(p => p.metadata?.labels?.[RolloutLabels.REVISION] === revision);
    const stamps = mine.flatMap(p => [
      time(p.metadata?.creationTimestamp),
      time(p.metadata?.deletionTimestamp),
      time((p.status?.conditions ?? []).find((c: K8sObject) => c.type === 'Ready')?.lastTransitionTime),
    ]).filter((t): t is number => t !== undefined);
    const since = Math.max(fallbackSince(index), ...stamps);
    return { index, revision, ready, since, desiredPods, pods: live.length, readyPods };
  });
}

/** Why a pod is not ready, in a few words from its conditions and container states; undefined when it is Ready. */
export function podProblem(pod: K8sObject): string | undefined {
  if (pod.metadata?.deletionTimestamp) return 'being deleted';
  if (podReady(pod)) return undefined;
  const reasons: string[] = [];
  for (const c of [...pod.status?.initContainerStatuses ?? [], ...pod.status?.containerStatuses ?? []] as K8sObject[]) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating' && waiting.reason !== 'PodInitializing') {
      reasons.push(`container ${c.name} ${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`);
    }
    const terminated = c.lastState?.terminated ?? c.state?.terminated;
    if (terminated && terminated.exitCode !== 0 && terminated.reason) reasons.push(`container ${c.name} ${terminated.reason} (exit ${terminated.exitCode})`);
  }
  for (const c of (pod.status?.conditions ?? []) as K8sObject[]) {
    // Ready and ContainersReady only echo the containers' reasons, when there are any.
    const echo = reasons.length > 0 && (c.type === 'Ready' || c.type === 'ContainersReady');
    if (c.status !== 'True' && !echo && (c.reason || c.message)) reasons.push(`${c.type} ${c.status}${c.reason ? ` ${c.reason}` : ''}${c.message ? `: ${c.message}` : ''}`);
  }
  if (reasons.length === 0) reasons.push(pod.spec?.nodeName ? `${pod.status?.phase ?? 'Pending'}, not Ready` : 'not scheduled yet');
  return [...new Set(reasons)].join('; ');
}

/**
 * What is wrong with the given workloads and their pods, one part each, from the pods and the events of the pods and
 * workloads (Unschedulable with the scheduler's message, ImagePullBackOff, CrashLoopBackOff with the last termination
 * reason, FailedCreate from admission, a DRA claim not allocated). Empty when every pod is Ready and none is missing.
 */
export function describePods(workloads: readonly K8sObject[], pods: readonly K8sObject[], events: readonly K8sObject[]): string[] {
  const eventsOf = (kind: string, name: string): string[] => events
    .filter(e => e.involvedObject?.kind === kind && e.involvedObject?.name === name && e.type === 'Warning')
    .sort((a, b) => (time(a.lastTimestamp ?? a.eventTime) ?? 0) - (time(b.lastTimestamp ?? b.eventTime) ?? 0))
    .slice(-2).map(e => `${e.reason}: ${e.message}`);
  const parts: string[] = [];
  for (const p of [...pods].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))) {
    const problem = podProblem(p);
    if (!problem) continue;
    const ev = eventsOf('Pod', p.metadata.name);
    parts.push(`pod ${p.metadata.name}: ${problem}${ev.length ? ` (events: ${ev.join('; ')})` : ''}`);
  }
  const missing = workloads.reduce((n, w) => n + desiredPodsOf(w), 0) - pods.filter(p => !p.metadata?.deletionTimestamp).length;
  if (missing > 0) {
    const ev = workloads.flatMap(w => eventsOf(w.kind, w.metadata.name));
    parts.push(`${missing} pod(s) not created${ev.length ? ` (events: ${ev.join('; ')})` : ''}`);
  }
  return parts;
}

/**
 * What is wrong with the given units, one line each ({@link describePods} of the unit's workloads and pods): the text
 * of a stuck rollout's report.
 */
export function describeUnits(
  units: readonly number[], workloads: readonly K8sObject[], pods: readonly K8sObject[], events: readonly K8sObject[],
  unitName: (u: number) => string,
): string[] {
  return units.map(u => {
    const parts = describePods(workloads.filter(w => unitOf(w) === u), pods.filter(p => unitOf(p) === u), events);
    return `${unitName(u)}: ${parts.length ? parts.join('; ') : 'not ready'}`;
  });
}
