// The status fold: the live objects of one seed workload (a Kthena ModelInfer or ModelServing, a FlexInfer Model, a
// KubeDL Inference, a Modelplane ModelDeployment or ModelReplica), read from one or more clusters, to the `status` its
// seed system's controller would write on the CR, with the reasons it is not Ready. Pure: `inferkit status`, the
// rollout executor and the Pulumi components read the clusters and call it.
import { describePods, desiredPodsOf, podReady } from './units';
import { FLEXINFER_MODEL_KIND } from '../flexinfer-manifest';
import { INFERENCE_KIND } from '../inference-manifest';
import { ModelInferLabels, ModelServingLabels } from '../labels';
import { MODEL_INFER_KINDS } from '../manifests';
import { MODEL_DEPLOYMENT_KIND, MODEL_REPLICA_KIND } from '../modelplane-manifest';
import { K8sObject, podTemplateOf, UNIT_WORKLOAD_KINDS } from '../rollout/sets';

/**
 * The labels the constructs stamp that say which seed workload an object belongs to, besides Kthena's (`ModelInferLabels`,
 * `ModelServingLabels`). They are the constructs' public selector labels (`ModelLabels`, `InferenceLabels`,
 * `ModelReplicaLabels`, `LedgerLabels`);
 * repeated here because the core imports nothing above it, and pinned equal to them by a test.
 */
export const WorkloadLabels = {
  /** FlexInfer Model (objects and pods). */
  MODEL: 'model.inferkit.dev/name',
  /** KubeDL Inference (objects and pods). */
  INFERENCE: 'serving.kubedl.io/inference',
  /** KubeDL predictor (objects and pods). */
  PREDICTOR: 'serving.kubedl.io/predictor',
  /** Modelplane ModelDeployment, or ModelReplica (objects and pods). */
  DEPLOYMENT: 'inferkit.dev/deployment',
  /** Modelplane replica (objects and pods). */
  REPLICA: 'modelplane.ai/replica',
  /** Modelplane cluster of a replica's objects. */
  CLUSTER: 'modelplane.ai/cluster',
  /** Node pool of a replica's pods. */
  POOL: 'inferkit.dev/pool',
} as const;

/** The seed kinds whose status inferkit folds. */
export type SeedKind = 'ModelInfer' | 'ModelServing' | 'Model' | 'Inference' | 'ModelDeployment' | 'ModelReplica';

const API_VERSIONS: Record<SeedKind, string> = {
  ModelInfer: MODEL_INFER_KINDS[0].apiVersion,
  ModelServing: MODEL_INFER_KINDS[1].apiVersion,
  Model: FLEXINFER_MODEL_KIND.apiVersion,
  Inference: INFERENCE_KIND.apiVersion,
  ModelDeployment: MODEL_DEPLOYMENT_KIND.apiVersion,
  ModelReplica: MODEL_REPLICA_KIND.apiVersion,
};

/** The seed kinds, for parsing `KIND/NAME`. */
export const SEED_KINDS: readonly SeedKind[] = Object.keys(API_VERSIONS) as SeedKind[];

/** One seed workload: the CR it stands for. */
export interface WorkloadRef {
  readonly kind: SeedKind;
  /** The seed CRD's group version, such as `workload.serving.volcano.sh/v1alpha1`. */
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
}

/** A workload reference of a kind. */
export function workloadRef(kind: SeedKind, namespace: string, name: string): WorkloadRef {
  return { kind, apiVersion: API_VERSIONS[kind], namespace, name };
}

/** `Kind/namespace/name`, as the CLI prints it. */
export function workloadKey(ref: WorkloadRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** The Kthena workload name of an object: its name label (on itself, its selector or its pod template), or its group's. */
function kthenaName(o: K8sObject, keys: typeof ModelInferLabels | typeof ModelServingLabels): string | undefined {
  const name = [o?.metadata?.labels, o?.spec?.selector?.matchLabels, podTemplateOf(o ?? {})?.metadata?.labels].map(l => l?.[keys.NAME]).find(n => typeof n === 'string');
  return name ?? /^(.+)-\d+$/.exec(o?.metadata?.labels?.[keys.GROUP_NAME] ?? '')?.[1];
}

/** The seed workload an object of a synth output or a cluster belongs to, from its labels; undefined for none. */
export function workloadRefOf(o: K8sObject): WorkloadRef | undefined {
  const labels: Record<string, string> = o?.metadata?.labels ?? {};
  const namespace = o?.metadata?.namespace ?? 'default';
  // A simple ModelInfer renders a Model's Deployment (its pods carry the ModelInfer's name too): a Model.
  if (!labels[WorkloadLabels.MODEL]) {
    const serving = kthenaName(o, ModelServingLabels);
    if (serving) return workloadRef('ModelServing', namespace, serving);
    const infer = kthenaName(o, ModelInferLabels);
    if (infer) return workloadRef('ModelInfer', namespace, infer);
  }
  if (labels[WorkloadLabels.INFERENCE]) return workloadRef('Inference', namespace, labels[WorkloadLabels.INFERENCE]);
  if (labels[WorkloadLabels.MODEL]) return workloadRef('Model', namespace, labels[WorkloadLabels.MODEL]);
  const deployment = labels[WorkloadLabels.DEPLOYMENT];
  if (deployment) {
    // A ModelReplica is placed as a deployment of its own, named after the replica.
    return workloadRef(labels[WorkloadLabels.REPLICA] === deployment ? 'ModelReplica' : 'ModelDeployment', namespace, deployment);
  }
  return undefined;
}

/** The label selector of a workload's pods in a cluster (its other objects are told by {@link workloadRefOf}). */
export function workloadSelector(ref: WorkloadRef): string {
  switch (ref.kind) {
    case 'ModelInfer': return `${ModelInferLabels.NAME}=${ref.name}`;
    case 'ModelServing': return `${ModelServingLabels.NAME}=${ref.name}`;
    case 'Model': return `${WorkloadLabels.MODEL}=${ref.name}`;
    case 'Inference': return `${WorkloadLabels.INFERENCE}=${ref.name}`;
    default: return `${WorkloadLabels.DEPLOYMENT}=${ref.name}`;
  }
}

/** The objects of a synth output grouped by the workload they belong to, in input order; objects of none are left out. */
export function groupWorkloads(objects: readonly K8sObject[]): Array<{ ref: WorkloadRef; objects: K8sObject[] }> {
  const byKey = new Map<string, { ref: WorkloadRef; objects: K8sObject[] }>();
  for (const o of objects) {
    const ref = workloadRefOf(o);
    if (!ref) continue;
    const key = workloadKey(ref);
    if (!byKey.has(key)) byKey.set(key, { ref, objects: [] });
    byKey.get(key)!.objects.push(o);
  }
  return [...byKey.values()];
}

/** What was read from one cluster: its objects of the workload (pods, workloads, PodGroups, Jobs, Services, events...), or why it could not be read. */
export interface ClusterObservation {
  /** The cluster's name; '' for the only cluster. */
  readonly cluster: string;
  /** Every live object of the workload in the cluster, and the namespace's events. @default - none: see `error` */
  readonly objects?: readonly K8sObject[];
  /** Why the cluster could not be read. @default - it was read */
  readonly error?: string;
}

/** A Modelplane replica as `inferkit status` lists it. */
export interface ReplicaStatus {
  readonly name: string;
  readonly cluster: string;
  /** The node pool the replica is pinned to. @default - not pinned */
  readonly pool?: string;
  readonly ready: boolean;
  /** Why it is not Ready. @default - it is Ready */
  readonly reason?: string;
}

/** The status of one workload: what `inferkit status` prints and the Pulumi components output. */
export interface ObservedStatus {
  readonly ref: WorkloadRef;
  /** The phase the seed system shows (Kthena: Pending, Running, Failed; FlexInfer: Idle, Pending, Loading, Ready, Preempted, Failed). */
  readonly phase: string;
  /** Whether every desired group, pod, predictor or replica is Ready (a model scaled to zero is). */
  readonly ready: boolean;
  /** Ready units: groups (Kthena), pods (FlexInfer, KubeDL) or replicas (Modelplane). */
  readonly readyCount: number;
  /** Desired units. */
  readonly desired: number;
  /** The revision the units are rolled to. @default - none (the workload has no revision) */
  readonly revision?: string;
  /** When the oldest live object of the workload was created (RFC 3339). @default - nothing is live */
  readonly createdAt?: string;
  /** Why it is not Ready, one line each; when it is Ready, empty, or why it runs no pod (a model scaled to zero). */
  readonly reasons: readonly string[];
  /** The `status` object of the seed system's CRD, as its controller would write it. */
  readonly status: Record<string, unknown>;
  /** The conditions of `status`; empty for a seed CRD without conditions (KubeDL's Inference). */
  readonly conditions: readonly Condition[];
  /** Modelplane: each replica with its cluster, pool and readiness. @default - not a Modelplane workload */
  readonly replicas?: readonly ReplicaStatus[];
}

/** What a kind's fold returns: the status without the conditions lifted out of it. */
type Folded = Omit<ObservedStatus, 'conditions'>;

/** A condition as the seed CRDs define it (metav1.Condition). */
export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
}

const FAILED_REASONS = new Set([
  'ImagePullBackOff', 'ErrImagePull', 'InvalidImageName', 'CrashLoopBackOff', 'CreateContainerConfigError', 'CreateContainerError',
  'RunContainerError', 'OOMKilled', 'JobFailed', 'Error',
]);

const time = (t: unknown): number | undefined => (typeof t === 'string' && !Number.isNaN(Date.parse(t)) ? Date.parse(t) : undefined);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A CamelCase reason for a pod that is not Ready (a condition's `reason`), from its containers and conditions. */
export function podReason(pod: K8sObject): string {
  for (const c of [...pod.status?.initContainerStatuses ?? [], ...pod.status?.containerStatuses ?? []] as K8sObject[]) {
    const waiting = c.state?.waiting?.reason;
    if (waiting && waiting !== 'ContainerCreating' && waiting !== 'PodInitializing') return waiting;
    const terminated = c.lastState?.terminated ?? c.state?.terminated;
    if (terminated && terminated.exitCode !== 0 && terminated.reason) return terminated.reason;
  }
  const scheduled = (pod.status?.conditions ?? []).find((c: K8sObject) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') return scheduled.reason ?? 'Unschedulable';
  if (!pod.spec?.nodeName) return 'NotScheduled';
  return 'PodNotReady';
}

const isJobPod = (p: K8sObject) => p.metadata?.labels?.['batch.kubernetes.io/job-name'] !== undefined || p.metadata?.labels?.['job-name'] !== undefined;

/** The pods of a workload: those its selector matches (a LeaderWorkerSet's by its name label), Job pods excluded. */
function podsOf(workload: K8sObject, pods: readonly K8sObject[]): K8sObject[] {
  const match: Record<string, string> = workload.kind === 'LeaderWorkerSet'
    ? { 'leaderworkerset.sigs.k8s.io/name': workload.metadata.name }
    : workload.spec?.selector?.matchLabels ?? {};
  if (Object.keys(match).length === 0) return [];
  return pods.filter(p => !isJobPod(p) && Object.entries(match).every(([k, v]) => p.metadata?.labels?.[k] === v));
}

/** The live objects of one cluster, sorted out. */
interface Live {
  readonly cluster: string;
  readonly workloads: K8sObject[];
  readonly pods: K8sObject[];
  readonly events: K8sObject[];
  readonly all: readonly K8sObject[];
}

function sortOut(o: ClusterObservation): Live {
  const all = o.objects ?? [];
  return {
    cluster: o.cluster,
    workloads: all.filter(x => UNIT_WORKLOAD_KINDS.includes(x.kind)),
    pods: all.filter(x => x.kind === 'Pod'),
    events: all.filter(x => x.kind === 'Event'),
    all,
  };
}

const named = (objects: readonly K8sObject[], kind: string, name: string) => objects.find(o => o.kind === kind && o.metadata?.name === name);

/** Why the given expected workloads (and their pods) are not Ready, from one cluster's live objects. */
function explainWorkloads(expected: readonly K8sObject[], live: Live): { reasons: string[]; reason?: string; ready: number; desired: number } {
  const reasons: string[] = [];
  let reason: string | undefined;
  let ready = 0;
  let desired = 0;
  for (const e of expected) {
    const w = named(live.workloads, e.kind, e.metadata.name);
    if (!w) {
      desired += desiredPodsOf(e);
      reasons.push(`${e.kind}/${e.metadata.name} not found in the cluster${live.cluster ? ` ${live.cluster}` : ''}: apply the synth output`);
      reason ??= 'NotApplied';
      continue;
    }
    const pods = podsOf(w, live.pods);
    desired += desiredPodsOf(w);
    ready += pods.filter(p => !p.metadata?.deletionTimestamp && podReady(p)).length;
    const parts = describePods([w], pods, live.events);
    if (parts.length > 0) {
      reasons.push(`${w.kind}/${w.metadata.name}: ${parts.join('; ')}`);
      const bad = pods.find(p => !p.metadata?.deletionTimestamp && !podReady(p));
      reason ??= bad ? podReason(bad) : 'PodsNotCreated';
    }
  }
  return { reasons, reason, ready: Math.min(ready, desired), desired };
}

/** The PodGroups of the given names that Volcano has not admitted, with why. */
function podGroupReasons(names: readonly string[], live: Live): string[] {
  return names.flatMap(name => {
    const pg = named(live.all, 'PodGroup', name);
    if (!pg) return [];
    const phase = pg.status?.phase;
    if (phase === 'Running' || phase === 'Completed') return [];
    if (!phase) return [`PodGroup ${name} has no phase: no Volcano scheduler has seen it (install Volcano, or use another gang backend)`];
    const why = ((pg.status?.conditions ?? []) as K8sObject[]).filter(c => c.status !== 'True' || c.type === 'Unschedulable')
      .map(c => `${c.reason ?? c.type}${c.message ? `: ${c.message}` : ''}`);
    return [`PodGroup ${name} is ${phase}${why.length ? ` (${why.join('; ')})` : ''}`];
  });
}

function condition(type: string, ok: boolean, reason: string, message: string, since: number): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message: message.slice(0, 32768), lastTransitionTime: iso(since) };
}

/** The latest time a live object of the list changed readiness: a condition's lastTransitionTime, or its creation. */
function latest(objects: readonly K8sObject[], fallback: number): number {
  const stamps = objects.flatMap(o => [time(o.metadata?.creationTimestamp),
    ...((o.status?.conditions ?? []) as K8sObject[]).map(c => time(c.lastTransitionTime))]).filter((t): t is number => t !== undefined);
  return stamps.length ? Math.max(...stamps) : fallback;
}

function createdAt(lives: readonly Live[]): string | undefined {
  const stamps = lives.flatMap(l => l.all.filter(o => o.kind !== 'Event' && o.kind !== 'Pod').map(o => time(o.metadata?.creationTimestamp)))
    .filter((t): t is number => t !== undefined);
  return stamps.length ? iso(Math.min(...stamps)) : undefined;
}

/** Lines joined as sentences, without doubling the full stop of a line that has one (a scheduler message). */
const sentences = (lines: readonly string[]) => lines.map(l => l.replace(/\.+$/, '')).join('. ');

const unreachable = (o: ClusterObservation) => `cluster ${o.cluster || '(default)'} unreachable: ${o.error}`;

/**
 * Folds the live objects of one workload into its status. `expected` are its rendered objects (a synth output), which
 * say what should exist; when empty, what is live is taken as expected (`inferkit status KIND/NAME`). `now` dates the
 * conditions when nothing live does.
 */
export function foldStatus(
  ref: WorkloadRef, expected: readonly K8sObject[], observations: readonly ClusterObservation[], now: number,
): ObservedStatus {
  const lives = observations.filter(o => o.error === undefined).map(sortOut);
  const errors = observations.filter(o => o.error !== undefined).map(unreachable);
  const base = expected.length > 0 ? expected : lives.flatMap(l => l.all.filter(o => o.kind !== 'Pod' && o.kind !== 'Event'));
  const folded = ((): Folded => {
    switch (ref.kind) {
      case 'ModelInfer':
      case 'ModelServing': return foldGroups(ref, base, lives[0] ?? sortOut({ cluster: '' }), errors, now);
      case 'Model': return foldModel(ref, base, lives[0] ?? sortOut({ cluster: '' }), errors, now);
      case 'Inference': return foldInference(ref, base, lives[0] ?? sortOut({ cluster: '' }), errors);
      default: return foldReplicas(ref, base, observations, now);
    }
  })();
  return { ...folded, conditions: (folded.status.conditions ?? []) as Condition[] };
}

/** Kthena: one unit per InferGroup (ServingGroup), found by its group-name label whatever the rollout sets are. */
function foldGroups(ref: WorkloadRef, expected: readonly K8sObject[], live: Live, errors: string[], now: number): Folded {
  const keys = ref.kind === 'ModelServing' ? ModelServingLabels : ModelInferLabels;
  const groupOf = (o: K8sObject): number | undefined => {
    const m = /-(\d+)$/.exec(o.metadata?.labels?.[keys.GROUP_NAME] ?? '');
    return m ? Number(m[1]) : undefined;
  };
  const expectedWorkloads = expected.filter(o => UNIT_WORKLOAD_KINDS.includes(o.kind) && groupOf(o) !== undefined);
  const groups = [...new Set(expectedWorkloads.map(o => groupOf(o)!))].sort((x, y) => x - y);
  const desired = groups.length;
  const revisionOf = (labels: Record<string, string> | undefined) => labels?.[keys.REVISION];
  const revision = expectedWorkloads.map(w => revisionOf(podTemplateOf(w)?.metadata?.labels)).find(r => typeof r === 'string');
  const livePods = live.pods.filter(p => !p.metadata?.deletionTimestamp);
  // The revision a group runs: its pods' (one revision, none missing), or undefined while they differ.
  const running = (i: number): string | undefined => {
    const revisions = new Set(livePods.filter(p => groupOf(p) === i).map(p => revisionOf(p.metadata?.labels)));
    return revisions.size === 1 ? [...revisions][0] : undefined;
  };
  const existing = groups.filter(i => live.workloads.some(w => groupOf(w) === i));
  const reasons: string[] = [...errors];
  let reason: string | undefined = errors.length ? 'ClusterUnreachable' : undefined;
  const ready: number[] = [];
  for (const i of groups) {
    if (errors.length > 0) break;
    const explained = explainWorkloads(expectedWorkloads.filter(w => groupOf(w) === i), live);
    const gangs = podGroupReasons(expected.filter(o => o.kind === 'PodGroup' && groupOf(o) === i).map(o => o.metadata.name), live);
    const lines = [...gangs, ...explained.reasons];
    if (lines.length === 0 && explained.ready >= explained.desired) {
      ready.push(i);
      continue;
    }
    reasons.push(`${ref.name}-${i}: ${lines.length ? lines.join('; ') : 'not ready'}`);
    reason ??= gangs.length ? 'PodGroupPending' : explained.reason ?? 'GroupNotReady';
  }
  const updated = existing.filter(i => running(i) === revision);
  const counts = new Map<string, number>();
  for (const i of existing) {
    const r = running(i);
    if (r) counts.set(r, (counts.get(r) ?? 0) + 1);
  }
  // The revision most groups run; in a tie, the one being replaced.
  const current = [...counts.entries()].sort((a, b) => b[1] - a[1] || Number(a[0] === revision) - Number(b[0] === revision))[0]?.[0] ?? revision;
  const isReady = reasons.length === 0 && ready.length >= desired;
  const phase = isReady ? 'Running' : reason && FAILED_REASONS.has(reason) ? 'Failed' : 'Pending';
  const since = latest([...live.workloads, ...live.pods], now);
  const conditions: Condition[] = [
    condition('Available', isReady, isReady ? 'AllGroupsReady' : reason ?? 'GroupsNotReady',
      isReady ? `${ready.length}/${desired} groups Ready` : `${ready.length}/${desired} groups Ready. ${sentences(reasons)}`, since),
    condition('Progressing', updated.length < desired, updated.length < desired ? 'UpdateInProgress' : 'AllGroupsUpdated',
      `${updated.length}/${desired} groups at revision ${revision ?? '(none)'}`, since),
  ];
  const status: Record<string, unknown> = {
    replicas: existing.length,
    currentReplicas: existing.filter(i => running(i) === current).length,
    updatedReplicas: updated.length,
    availableReplicas: ready.length,
    conditions,
    // ModelInfer's documented status (`phase`, `readyReplicas`) beside its CRD's fields; ModelServing's has neither.
    ...(ref.kind === 'ModelInfer' ? { phase, readyReplicas: ready.length } : {
      ...(current ? { currentRevision: current } : {}),
      ...(revision ? { updateRevision: revision } : {}),
      labelSelector: `${ModelServingLabels.NAME}=${ref.name}`,
    }),
  };
  return { ref, phase, ready: isReady, readyCount: ready.length, desired, revision, createdAt: createdAt([live]), reasons, status };
}

/** The FlexInfer loading substage of a pod that is not Ready. */
function loadingSubstage(pod: K8sObject | undefined): string | undefined {
  if (!pod?.spec?.nodeName) return undefined;
  const containers = (pod.status?.containerStatuses ?? []) as K8sObject[];
  if (containers.some(c => /Pull/.test(c.state?.waiting?.reason ?? ''))) return 'ImagePulling';
  if (((pod.status?.initContainerStatuses ?? []) as K8sObject[]).some(c => !c.state?.terminated)) return 'Initializing';
  if (containers.some(c => c.state?.running && c.started === false)) return 'LoadingWeights';
  return containers.every(c => c.state?.running) && containers.length > 0 ? 'HealthCheckPending' : 'Initializing';
}

/** FlexInfer: the model's Deployment, its prefetch Job and cache claim, its Service and its autoscaler. */
function foldModel(ref: WorkloadRef, expected: readonly K8sObject[], live: Live, errors: string[], now: number): Folded {
  const deployments = expected.filter(o => o.kind === 'Deployment');
  const explained = explainWorkloads(deployments, live);
  const reasons = [...errors];
  let reason: string | undefined = errors.length ? 'ClusterUnreachable' : undefined;
  // The prefetch Job: its failure is the model's.
  const jobSpec = expected.find(o => o.kind === 'Job');
  const job = jobSpec ? named(live.all, 'Job', jobSpec.metadata.name) : undefined;
  const jobFailed = ((job?.status?.conditions ?? []) as K8sObject[]).find(c => c.type === 'Failed' && c.status === 'True');
  const jobDone = ((job?.status?.conditions ?? []) as K8sObject[]).some(c => c.type === 'Complete' && c.status === 'True');
  const jobPhase = !job ? undefined : jobFailed ? 'Failed' : jobDone ? 'Succeeded' : job.status?.active ? 'Running' : 'Pending';
  if (jobFailed) {
    const jobPods = live.pods.filter(p => p.metadata?.labels?.['batch.kubernetes.io/job-name'] === job!.metadata.name || p.metadata?.labels?.['job-name'] === job!.metadata.name);
    const last = describePods([], jobPods.slice(-1), live.events);
    reasons.push(`prefetch Job ${job!.metadata.name} failed: ${jobFailed.reason ?? 'Failed'}${jobFailed.message ? `: ${jobFailed.message}` : ''}${last.length ? ` (${last.join('; ')})` : ''}`);
    reason = 'JobFailed';
  }
  // Scaled to zero by its autoscaler: waiting for traffic, not a fault.
  const scaler = expected.find(o => o.kind === 'ScaledObject');
  const liveDeployments = deployments.map(d => named(live.workloads, 'Deployment', d.metadata.name)).filter((d): d is K8sObject => !!d);
  const scaledToZero = scaler !== undefined && liveDeployments.length > 0 && liveDeployments.every(d => (d.spec?.replicas ?? 1) === 0);
  if (!scaledToZero && errors.length === 0) {
    reasons.push(...explained.reasons);
    reason ??= explained.reason;
  }
  const isReady = reasons.length === 0 && (scaledToZero || explained.ready >= explained.desired);
  const notReadyPod = liveDeployments.flatMap(d => podsOf(d, live.pods)).find(p => !p.metadata?.deletionTimestamp && !podReady(p));
  const preempted = ((notReadyPod?.status?.conditions ?? []) as K8sObject[]).some(c => c.type === 'DisruptionTarget' && c.reason === 'PreemptionByScheduler');
  let phase: string;
  if (scaledToZero && reasons.length === 0) phase = 'Idle';
  else if (isReady) phase = 'Ready';
  else if (reason && FAILED_REASONS.has(reason)) phase = 'Failed';
  else if (preempted) phase = 'Preempted';
  else if (notReadyPod?.spec?.nodeName || (jobPhase === 'Running')) phase = 'Loading';
  else phase = 'Pending';
  if (scaledToZero && reasons.length === 0) reasons.push(`scaled to zero by ScaledObject ${scaler.metadata.name}: waiting for traffic`);
  const service = named(expected, 'Service', ref.name);
  const port = service?.spec?.ports?.[0]?.port;
  const claim = expected.find(o => o.kind === 'PersistentVolumeClaim');
  const since = latest([...live.workloads, ...live.pods], now);
  const message = isReady ? (scaledToZero ? reasons[0] : `${explained.ready}/${explained.desired} pods Ready`) : sentences(reasons);
  const substage = phase === 'Loading' ? loadingSubstage(notReadyPod) : undefined;
  const status: Record<string, unknown> = {
    phase,
    message,
    ...(service ? { endpoint: `http://${ref.name}.${ref.namespace}.svc.cluster.local${port ? `:${port}` : ''}` } : {}),
    ...(substage ? { loadingSubstage: substage } : {}),
    ...(claim || job ? {
      cache: {
        ...(claim ? { pvcName: claim.metadata.name } : {}),
        ...(jobSpec ? { jobName: jobSpec.metadata.name } : {}),
        ...(jobPhase ? { jobPhase } : {}),
        ready: jobSpec ? jobPhase === 'Succeeded' : claim !== undefined && named(live.all, 'PersistentVolumeClaim', claim.metadata.name) !== undefined,
        ...(jobFailed ? { message: reasons.find(r => r.startsWith('prefetch Job')) } : {}),
      },
    } : {}),
    conditions: [condition('Ready', isReady, isReady ? (scaledToZero ? 'ScaledToZero' : 'PodsReady') : reason ?? 'PodsNotReady', message || phase, since)],
  };
  return {
    ref,
    phase,
    ready: isReady,
    readyCount: explained.ready,
    desired: scaledToZero ? 0 : explained.desired,
    createdAt: createdAt([live]),
    reasons,
    status,
  };
}

/** KubeDL: one predictor per Deployment, traffic from the HTTPRoute's weights. */
function foldInference(ref: WorkloadRef, expected: readonly K8sObject[], live: Live, errors: string[]): Folded {
  const route = expected.find(o => o.kind === 'HTTPRoute');
  const backends = ((route?.spec?.rules ?? []) as K8sObject[]).flatMap(r => (r.backendRefs ?? []) as K8sObject[]);
  const total = backends.reduce((n, b) => n + (b.weight ?? 1), 0);
  const reasons = [...errors];
  let reason: string | undefined = errors.length ? 'ClusterUnreachable' : undefined;
  let ready = 0;
  let desired = 0;
  const predictorStatuses = expected.filter(o => o.kind === 'Deployment').map(d => {
    const e = errors.length ? { reasons: [], ready: 0, desired: desiredPodsOf(d), reason: undefined } : explainWorkloads([d], live);
    reasons.push(...e.reasons);
    reason ??= e.reason;
    ready += e.ready;
    desired += e.desired;
    const predictor = d.metadata?.labels?.[WorkloadLabels.PREDICTOR] ?? d.metadata.name;
    const service = expected.find(o => o.kind === 'Service' && o.metadata?.labels?.[WorkloadLabels.PREDICTOR] === predictor);
    const backend = service ? backends.find(b => b.name === service.metadata.name) : undefined;
    return {
      name: predictor,
      endpoint: service ? `${service.metadata.name}.${ref.namespace}` : '',
      replicas: e.desired,
      readyReplicas: e.ready,
      ...(backend && total > 0 ? { trafficPercent: Math.round(((backend.weight ?? 1) * 100) / total) } : {}),
    };
  });
  const isReady = reasons.length === 0 && ready >= desired;
  const phase = isReady ? 'Running' : reason && FAILED_REASONS.has(reason) ? 'Failed' : 'Pending';
  const entry = named(expected, 'Service', ref.name);
  return {
    ref,
    phase,
    ready: isReady,
    readyCount: ready,
    desired,
    createdAt: createdAt([live]),
    reasons,
    status: { ...(entry ? { inferenceEndpoint: `${ref.name}.${ref.namespace}` } : {}), predictorStatuses },
  };
}

/** Modelplane: one unit per replica, each in its cluster; a cluster that cannot be read makes its replicas unknown. */
function foldReplicas(ref: WorkloadRef, expected: readonly K8sObject[], observations: readonly ClusterObservation[], now: number): Folded {
  const clusterOf = (o: K8sObject) => o.metadata?.labels?.[WorkloadLabels.CLUSTER] ?? '';
  const byName = new Map<string, K8sObject[]>();
  for (const w of expected.filter(o => UNIT_WORKLOAD_KINDS.includes(o.kind) && o.metadata?.labels?.[WorkloadLabels.REPLICA])) {
    const name = w.metadata.labels[WorkloadLabels.REPLICA];
    byName.set(name, [...byName.get(name) ?? [], w]);
  }
  const lives = observations.filter(o => o.error === undefined).map(sortOut);
  const sorted = [...byName.entries()].sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }));
  const replicas: ReplicaStatus[] = sorted.map(([name, workloads]) => {
    const cluster = clusterOf(workloads[0]);
    const pool = workloads.map(w => podTemplateOf(w)?.metadata?.labels?.[WorkloadLabels.POOL]).find(p => typeof p === 'string');
    const obs = observations.find(o => o.cluster === cluster) ?? (observations.length === 1 ? observations[0] : undefined);
    if (!obs) return { name, cluster, pool, ready: false, reason: `cluster ${cluster} not given: add its kubeconfig` };
    if (obs.error !== undefined) return { name, cluster, pool, ready: false, reason: unreachable(obs) };
    const e = explainWorkloads(workloads, sortOut(obs));
    const ok = e.reasons.length === 0 && e.ready >= e.desired;
    return { name, cluster, pool, ready: ok, ...(ok ? {} : { reason: e.reasons.join('; ') }) };
  });
  const ready = replicas.filter(r => r.ready).length;
  const isReady = ready === replicas.length;
  const reasons = replicas.filter(r => !r.ready).map(r => `${r.name} (cluster ${r.cluster || '(default)'}${r.pool ? `, pool ${r.pool}` : ''}): ${r.reason}`);
  const anyUnreachable = replicas.some(r => !r.ready && r.reason?.startsWith('cluster '));
  const phase = isReady ? 'Ready' : ready > 0 ? 'Degraded' : 'Pending';
  const since = latest(lives.flatMap(l => [...l.workloads, ...l.pods]), now);
  // Crossplane's Ready condition, as on every composite resource.
  const conditions = [condition('Ready', isReady, isReady ? 'Available' : anyUnreachable ? 'Unavailable' : 'Creating',
    isReady ? `${ready}/${replicas.length} replicas Ready` : `${ready}/${replicas.length} replicas Ready. ${sentences(reasons)}`, since)];
  const status: Record<string, unknown> = ref.kind === 'ModelDeployment' ? { replicas: { total: replicas.length, ready }, conditions } : { conditions };
  return { ref, phase, ready: isReady, readyCount: ready, desired: replicas.length, createdAt: createdAt(lives), reasons, status, replicas };
}
