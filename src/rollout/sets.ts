// Rollout sets read from rendered objects: which objects make up each unit, the desired revision and the strategy.
// Pure: the same objects give the same sets, so `inferkit rollout` on a synth output and the Pulumi components plan alike.
import { RolloutStrategy } from './strategy';
import { RolloutAnnotations, RolloutLabels } from '../labels';

/** A Kubernetes object as JSON. */
export type K8sObject = Record<string, any>;

/** One unit: an InferGroup of a ModelInfer (or a replica), and every object that belongs to it alone. */
export interface RolloutUnit {
  readonly index: number;
  /** The cluster the unit runs in, for fleets. @default '' (the only cluster) */
  readonly cluster?: string;
  /**
   * The revision this unit is rolled to, where units differ (fleet replicas pinned to different pools).
   *
   * @default - the set's revision
   */
  readonly revision?: string;
  readonly objects: readonly K8sObject[];
}

/** Units rolled together under one availability floor. */
export interface RolloutSet {
  /** `<kind>.<name>`: the value of the `rollout.inferkit.dev/set` label. */
  readonly set: string;
  readonly namespace: string;
  /** The name every unit's object names start with, as `<prefix>-<index>`: how a surge unit is named. */
  readonly prefix: string;
  /** The revision the units are rolled to. */
  readonly revision: string;
  /**
   * What a unit is, in messages: `group`, `role instance`, `replica`.
   *
   * @default 'unit'
   */
  readonly unitKind?: string;
  readonly strategy: RolloutStrategy;
  /** Units 0..replicas-1, in index order. */
  readonly units: readonly RolloutUnit[];
}

/** Kinds whose pods make up a unit. */
export const UNIT_WORKLOAD_KINDS: readonly string[] = ['StatefulSet', 'Deployment', 'LeaderWorkerSet'];

/** The pod template of a workload (the worker template of a LeaderWorkerSet). */
export function podTemplateOf(workload: K8sObject): K8sObject | undefined {
  return workload.kind === 'LeaderWorkerSet' ? workload.spec?.leaderWorkerTemplate?.workerTemplate : workload.spec?.template;
}

function int(value: unknown, what: string, set: string, fallback?: number): number {
  if (value === undefined && fallback !== undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new Error(`Unable to roll ${set}: annotation ${what} is ${JSON.stringify(value)}, not a whole number. Synthesize it again with inferkit.`);
  }
  return n;
}

/**
 * Groups objects into rollout sets by their {@link RolloutLabels} (objects without them are not rolled), reading the
 * strategy from the workloads' {@link RolloutAnnotations}. Throws when a set's workloads disagree on the strategy or the
 * revision, or a unit below `replicas` is missing: a partial synth output must not be rolled as if it were whole.
 */
export function rolloutSets(objects: readonly K8sObject[]): { sets: RolloutSet[]; rest: K8sObject[] } {
  const bySet = new Map<string, K8sObject[]>();
  const rest: K8sObject[] = [];
  for (const o of objects) {
    const set = o?.metadata?.labels?.[RolloutLabels.SET];
    const ns = o?.metadata?.namespace ?? 'default';
    if (typeof set !== 'string' || o.metadata.labels[RolloutLabels.UNIT] === undefined) {
      rest.push(o);
      continue;
    }
    const key = `${ns}/${set}`;
    bySet.set(key, [...bySet.get(key) ?? [], o]);
  }
  const sets = [...bySet.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, objs]) => {
    const [namespace, set] = key.split('/');
    const workloads = objs.filter(o => UNIT_WORKLOAD_KINDS.includes(o.kind));
    if (workloads.length === 0) throw new Error(`Unable to roll ${key}: it has no workload (StatefulSet, Deployment or LeaderWorkerSet).`);
    const one = (what: string, values: unknown[]): unknown => {
      const distinct = [...new Set(values.map(v => JSON.stringify(v)))];
      if (distinct.length !== 1) throw new Error(`Unable to roll ${key}: its workloads disagree on ${what} (${distinct.join(', ')}). Synthesize it again.`);
      return values[0];
    };
    const ann = (k: string) => one(k, workloads.map(w => w.metadata?.annotations?.[k]));
    const strategy: RolloutStrategy = {
      replicas: int(ann(RolloutAnnotations.REPLICAS), RolloutAnnotations.REPLICAS, key),
      maxUnavailable: int(ann(RolloutAnnotations.MAX_UNAVAILABLE), RolloutAnnotations.MAX_UNAVAILABLE, key, 1),
      maxSurge: int(ann(RolloutAnnotations.MAX_SURGE), RolloutAnnotations.MAX_SURGE, key, 0),
      partition: int(ann(RolloutAnnotations.PARTITION), RolloutAnnotations.PARTITION, key, 0),
    };
    const revision = one('the revision label of their pod templates', workloads.map(w => podTemplateOf(w)?.metadata?.labels?.[RolloutLabels.REVISION]));
    if (typeof revision !== 'string') throw new Error(`Unable to roll ${key}: its pod templates have no ${RolloutLabels.REVISION} label. Synthesize it again.`);
    const units: RolloutUnit[] = [];
    for (let i = 0; i < strategy.replicas; i++) {
      const own = objs.filter(o => o.metadata.labels[RolloutLabels.UNIT] === String(i));
      if (!own.some(o => UNIT_WORKLOAD_KINDS.includes(o.kind))) {
        throw new Error(`Unable to roll ${key}: unit ${i} of ${strategy.replicas} has no workload in the input. Give every file of the synth output.`);
      }
      units.push({ index: i, objects: own });
    }
    const extra = objs.find(o => !(Number(o.metadata.labels[RolloutLabels.UNIT]) < strategy.replicas));
    if (extra) {
      throw new Error(`Unable to roll ${key}: ${extra.kind}/${extra.metadata.name} has unit ${JSON.stringify(extra.metadata.labels[RolloutLabels.UNIT])}, `
        + `not below replicas (${strategy.replicas}). Synthesize it again.`);
    }
    const prefix = String(workloads[0].metadata.labels[RolloutLabels.SET]).split('.').slice(1).join('.');
    const unitKind = workloads[0].metadata?.annotations?.[RolloutAnnotations.UNIT_KIND];
    return { set, namespace, prefix, revision, strategy, units, ...(typeof unitKind === 'string' ? { unitKind } : {}) };
  });
  return { sets, rest };
}

/**
 * The objects of unit `to`, made from those of unit `from`: every name, label, annotation and address that says
 * `<prefix>-<from>` says `<prefix>-<to>`, and the unit label says `to`. How surge units are made, and how a unit of any
 * index is made from one rendered unit.
 */
export function renameUnit(objects: readonly K8sObject[], prefix: string, from: number, to: number): K8sObject[] {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // `<prefix>-<from>` as a whole name or the start of one: followed by the end, '-' or '.', and preceded by the start or '.'.
  const pattern = new RegExp(`(^|[.\\s/=])${escaped}-${from}(?=$|[-.\\s,:])`, 'g');
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === 'string') return key === RolloutLabels.UNIT && v === String(from) ? String(to) : v.replace(pattern, `$1${prefix}-${to}`);
    if (Array.isArray(v)) return v.map(x => walk(x));
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return objects.map(o => walk(o) as K8sObject);
}

/** A pod template with more labels. */
function withTemplateLabels(template: K8sObject, labels: Record<string, string>): K8sObject {
  return { ...template, metadata: { ...template.metadata, labels: { ...template.metadata?.labels, ...labels } } };
}

/**
 * Makes each Deployment without rollout labels a set of one unit (`deployment.<name>`), labelled and annotated so that
 * the executor applies it and waits for its own rolling update: how the Model and InferenceService components roll.
 * The revision is a hash of the pod template; the Deployment keeps its own strategy.
 */
export function stampDeployments(objects: readonly K8sObject[], hash: (value: unknown) => string): K8sObject[] {
  return objects.map(o => {
    if (o.kind !== 'Deployment' || o.metadata?.labels?.[RolloutLabels.SET] !== undefined) return o;
    const unit = { [RolloutLabels.SET]: `deployment.${o.metadata.name}`, [RolloutLabels.UNIT]: '0' };
    const template = o.spec?.template ?? {};
    return {
      ...o,
      metadata: {
        ...o.metadata,
        labels: { ...o.metadata.labels, ...unit },
        annotations: { ...o.metadata.annotations, [RolloutAnnotations.REPLICAS]: '1', [RolloutAnnotations.MAX_UNAVAILABLE]: '1', [RolloutAnnotations.MAX_SURGE]: '0', [RolloutAnnotations.PARTITION]: '0' },
      },
      spec: {
        ...o.spec,
        template: withTemplateLabels(template, { ...unit, [RolloutLabels.REVISION]: hash(template) }),
      },
    };
  });
}

/** The workloads of one fleet replica, by cluster, as rendered for it. */
export interface FleetReplicaObjects {
  readonly index: number;
  readonly cluster: string;
  readonly objects: readonly K8sObject[];
}

/**
 * The rollout set of a fleet deployment (`modeldeployment.<name>`): each replica is a unit in its cluster, its objects
 * stamped with the set and unit labels (over those of any construct nested in it), its pod templates with the revision
 * of the replica's own templates. Replicas pinned to different pools differ, so each unit has its own revision.
 */
export function fleetRolloutSet(
  name: string, namespace: string, replicas: readonly FleetReplicaObjects[], strategy: Omit<RolloutStrategy, 'replicas' | 'partition' | 'maxSurge'>,
  hash: (value: unknown) => string,
): RolloutSet {
  const set = `modeldeployment.${name}`;
  const units = [...replicas].sort((a, b) => a.index - b.index).map(r => {
    const templates = r.objects.filter(o => UNIT_WORKLOAD_KINDS.includes(o.kind)).map(o => [o.metadata?.name, podTemplateOf(o)]);
    const revision = hash(templates);
    const unit = { [RolloutLabels.SET]: set, [RolloutLabels.UNIT]: String(r.index) };
    const annotations = {
      [RolloutAnnotations.REPLICAS]: String(replicas.length),
      [RolloutAnnotations.MAX_UNAVAILABLE]: String(strategy.maxUnavailable),
      [RolloutAnnotations.MAX_SURGE]: '0',
      [RolloutAnnotations.PARTITION]: '0',
    };
    const objects = r.objects.map(o => {
      const workload = UNIT_WORKLOAD_KINDS.includes(o.kind);
      const stamped: K8sObject = {
        ...o,
        metadata: {
          ...o.metadata,
          labels: { ...o.metadata?.labels, ...unit },
          ...(workload ? { annotations: { ...o.metadata?.annotations, ...annotations } } : {}),
        },
      };
      if (!workload || o.kind === 'LeaderWorkerSet') return stamped;
      const t = o.spec?.template ?? {};
      return { ...stamped, spec: { ...o.spec, template: withTemplateLabels(t, { ...unit, [RolloutLabels.REVISION]: revision }) } };
    });
    return { index: r.index, cluster: r.cluster, revision, objects };
  });
  return {
    set,
    namespace,
    prefix: name,
    revision: hash(units.map(u => u.revision)),
    unitKind: 'replica',
    strategy: { replicas: replicas.length, maxUnavailable: strategy.maxUnavailable, maxSurge: 0, partition: 0 },
    units,
  };
}
