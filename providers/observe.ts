// Live reading for observation: what the rollout executor, `inferkit status` and the components' status read from a
// cluster, through the one Kubernetes client. It never loads Pulumi; the folding is the core's (`src/observe`).
import {
  ClusterObservation, foldStatus, K8sObject, ObservedStatus, RolloutLabels, RolloutSet, UNIT_WORKLOAD_KINDS, WorkloadRef, workloadRefOf,
  workloadSelector,
} from '../src';
import { KubeClient, retrying } from './_kube';

/** Kinds whose objects a unit is made of, in the order the executor deletes them: workloads first. */
export const UNIT_KINDS: ReadonlyArray<readonly [string, string]> = [
  ['apps/v1', 'StatefulSet'], ['apps/v1', 'Deployment'], ['leaderworkerset.x-k8s.io/v1', 'LeaderWorkerSet'],
  ['v1', 'Service'], ['scheduling.volcano.sh/v1beta1', 'PodGroup'],
];

/** Everything live of a rollout set in one cluster: its workloads and pods by the set label, and the namespace's events when asked. */
export async function readLive(kube: KubeClient, set: RolloutSet, withEvents: boolean) {
  const selector = `${RolloutLabels.SET}=${set.set}`;
  // Only the kinds the set's units are made of: a cluster need not serve the others. The lists are read at once.
  const kinds = new Set(set.units.flatMap(u => u.objects.map(o => o.kind)));
  const ofKind = async ([apiVersion, kind]: readonly [string, string]): Promise<K8sObject[]> =>
    (await retrying(() => kube.list(apiVersion, kind, set.namespace, selector))).map(o => ({ ...o, apiVersion, kind }));
  const [workloads, pods, events] = await Promise.all([
    Promise.all(UNIT_KINDS.filter(([, k]) => UNIT_WORKLOAD_KINDS.includes(k) && kinds.has(k)).map(ofKind)).then(lists => lists.flat()),
    retrying(() => kube.list('v1', 'Pod', set.namespace, selector)),
    withEvents ? retrying(() => kube.list('v1', 'Event', set.namespace)) : Promise.resolve([]),
  ]);
  return { workloads, pods, events };
}

/** The kinds a workload's status is folded from, besides pods and events; those a cluster does not serve are skipped. */
const STATUS_KINDS: ReadonlyArray<readonly [string, string]> = [
  ...UNIT_KINDS, ['batch/v1', 'Job'], ['v1', 'PersistentVolumeClaim'], ['keda.sh/v1alpha1', 'ScaledObject'],
];

/**
 * Every live object of one workload in a cluster, with the namespace's events: its pods by {@link workloadSelector},
 * its other objects those of the namespace that {@link workloadRefOf} says are its own.
 */
export async function readWorkload(kube: KubeClient, ref: WorkloadRef): Promise<K8sObject[]> {
  const mine = (o: K8sObject) => {
    const r = workloadRefOf(o);
    return r !== undefined && r.kind === ref.kind && r.name === ref.name;
  };
  const objects: K8sObject[] = [];
  for (const [apiVersion, kind] of STATUS_KINDS) {
    if (!(await kube.serves(apiVersion))) continue;
    objects.push(...(await kube.list(apiVersion, kind, ref.namespace)).map(o => ({ ...o, apiVersion, kind })).filter(mine));
  }
  objects.push(...(await kube.list('v1', 'Pod', ref.namespace, workloadSelector(ref))).map(o => ({ ...o, apiVersion: 'v1', kind: 'Pod' })));
  objects.push(...(await kube.list('v1', 'Event', ref.namespace)).map(o => ({ ...o, apiVersion: 'v1', kind: 'Event' })));
  return objects;
}

/** Reads a workload from each cluster; a cluster that cannot be read is reported as such, not thrown. */
export async function observeWorkload(clients: ReadonlyMap<string, KubeClient>, ref: WorkloadRef): Promise<ClusterObservation[]> {
  return Promise.all([...clients].map(async ([cluster, kube]) => {
    try {
      return { cluster, objects: await readWorkload(kube, ref) };
    } catch (e) {
      return { cluster, error: (e as Error).message };
    }
  }));
}

/** The status of a workload in its clusters: {@link observeWorkload}, folded by the core's `foldStatus`. */
export async function workloadStatus(
  clients: ReadonlyMap<string, KubeClient>, ref: WorkloadRef, expected: readonly K8sObject[] = [],
): Promise<ObservedStatus> {
  return foldStatus(ref, expected, await observeWorkload(clients, ref), Date.now());
}
