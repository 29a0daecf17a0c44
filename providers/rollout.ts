/**
 * The `Rollout` dynamic resource: applies the per-unit objects of a rollout set (the InferGroups of a ModelInfer, the
 * replicas of a fleet, a Deployment) during `pulumi up`, wave by wave within the set's availability budget, and fails
 * the update with a report when a wave misses its progress deadline. A thin shell over `src/rollout` (the planner) and
 * `providers/rollout-executor` (the cluster I/O), which it loads by absolute path when it runs.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { canonicalJson } from '../src';
import type { RolloutSet } from '../src';
import type { OnFailure } from './rollout-executor';

/** Inputs of a {@link Rollout}. */
export interface RolloutArgs {
  /** The sets to roll, one after the other: their units' objects, desired revisions and strategies. */
  readonly sets: pulumi.Input<RolloutSet[]>;
  /** A kubeconfig per cluster the units run in, by cluster name ('' for a single cluster). Kept secret. */
  readonly kubeconfigs: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * How long one wave may take to become Ready.
   *
   * @default 1800 (GPU models load weights for minutes)
   */
  readonly progressDeadlineSeconds?: pulumi.Input<number>;
  /**
   * What happens when a wave misses its deadline: `Halt` keeps every not-yet-updated unit on its revision and fails
   * the update; `Rollback` also returns the failed wave to the previous revision and waits until it is Ready.
   *
   * @default 'Halt'
   */
  readonly onFailure?: pulumi.Input<OnFailure>;
}

interface Inputs {
  /** The sets as canonical JSON text (an array in states written by earlier versions). */
  sets: string | RolloutSet[];
  kubeconfigs: Record<string, string>;
  progressDeadlineSeconds?: number;
  onFailure?: OnFailure;
}

// Absolute paths, resolved where this module is (lib/ when installed, the sources under ts-node).
const EXECUTOR_MODULE = path.join(__dirname, 'rollout-executor');
const KUBE_MODULE = path.join(__dirname, '_kube');
const CORE_MODULE = path.join(__dirname, '..', 'src');
const ENGINE_LOG_MODULE = path.join(__dirname, '_engine-log');

/** The sets of the inputs or state. */
function setsOf(inputs: Pick<Inputs, 'sets'>): RolloutSet[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when the provider runs (see the top)
  return (require(CORE_MODULE) as typeof import('../src')).fromStoredText(inputs.sets, []);
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded when the provider runs, by absolute path (see the top) */
async function run(inputs: Inputs, previous: readonly RolloutSet[]): Promise<void> {
  const executor = require(EXECUTOR_MODULE) as typeof import('./rollout-executor');
  const kube = require(KUBE_MODULE) as typeof import('./_kube');
  const clients = new Map(Object.entries(inputs.kubeconfigs).map(([c, k]) => [c, kube.KubeClient.fromKubeconfigYaml(k)]));
  try {
    (require(ENGINE_LOG_MODULE) as typeof import('./_engine-log')).connectEngineLog();
    for (const warning of [...new Set([...clients.values()].flatMap(c => c.warnings))]) void pulumi.log.warn(warning);
    for (const set of setsOf(inputs)) {
      await executor.executeRollout(clients, set, {
        progressDeadlineMs: (inputs.progressDeadlineSeconds ?? 1800) * 1000,
        onFailure: inputs.onFailure ?? 'Halt',
        previous: previous.find(p => p.set === set.set && p.namespace === set.namespace),
        log: line => { void pulumi.log.info(line); },
      });
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
}

/** The dynamic provider. Exported for tests; programs use {@link Rollout}. */
export const rolloutProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news) {
    const core = require(CORE_MODULE) as typeof import('../src');
    const failures: pulumi.dynamic.CheckFailure[] = [];
    // Pulumi's placeholder for a value not known at preview.
    const known = (v: unknown) => v !== undefined && v !== (require('@pulumi/pulumi/runtime/rpc') as { unknownValue: string }).unknownValue;
    // At preview the sets may be unknown (they depend on a placement): checked once known.
    for (const set of (known(news.sets) ? setsOf(news as Inputs) : []) as RolloutSet[]) {
      if (!set || typeof set !== 'object' || !set.strategy || typeof set.strategy !== 'object') continue;
      try {
        core.expectedWaves(set.strategy);
      } catch (e) {
        failures.push({ property: 'set', reason: `Unable to roll ${set.namespace}/${set.set}: ${(e as Error).message}` });
      }
    }
    const deadline = news.progressDeadlineSeconds;
    if (known(deadline) && !(Number.isInteger(deadline) && deadline > 0)) {
      failures.push({ property: 'progressDeadlineSeconds', reason: `progressDeadlineSeconds ${JSON.stringify(deadline)} is not a positive whole number of seconds. Give, for example, 1800.` });
    }
    if (known(news.onFailure) && news.onFailure !== 'Halt' && news.onFailure !== 'Rollback') {
      failures.push({ property: 'onFailure', reason: `onFailure ${JSON.stringify(news.onFailure)} is not Halt or Rollback.` });
    }
    return { inputs: news, failures };
  },

  async diff(_id, olds: Inputs, news: Inputs) {
    const { changedInputs } = require(CORE_MODULE) as typeof import('../src');
    const changed = changedInputs({ ...olds }, { ...news }, ['progressDeadlineSeconds', 'onFailure', 'kubeconfigs'], ['sets']);
    return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
  },

  async create(inputs: Inputs) {
    await run(inputs, []);
    return { id: createHash('sha256').update(setsOf(inputs).map(s => `${s.namespace}/${s.set}`).join(',')).digest('hex').slice(0, 16), outs: inputs };
  },

  async update(_id, olds: Inputs, news: Inputs) {
    await run(news, setsOf(olds));
    // Once the new sets are rolled: units of sets no longer given, or now in another cluster (a cluster removed from
    // the fleet included, reached through the old kubeconfig), are deleted where they were.
    await remove(olds, news);
    return { outs: news };
  },

  // The set's objects are what the resource applied; refresh keeps them (the cluster's state is observed on each run).
  async read(id, props) {
    return { id, props };
  },

  async delete(_id, olds: Inputs) {
    await remove(olds);
  },
};

/** Deletes every unit of the old sets (surge units left by an interrupted rollout included) that `kept` does not run in the same cluster. */
async function remove(olds: Inputs, kept?: Inputs): Promise<void> {
  const executor = require(EXECUTOR_MODULE) as typeof import('./rollout-executor');
  const kube = require(KUBE_MODULE) as typeof import('./_kube');
  const single = (i: Inputs) => Object.keys(i.kubeconfigs).length === 1;
  const keptSets = kept ? setsOf(kept) : [];
  const stays = (set: RolloutSet, index: number, cluster: string): boolean => {
    const now = keptSets.find(s => s.set === set.set && s.namespace === set.namespace);
    const unit = now?.units.find(u => u.index === index);
    return !!unit && (single(kept!) && single(olds) ? true : (unit.cluster ?? '') === cluster);
  };
  for (const [cluster, kubeconfig] of Object.entries(olds.kubeconfigs)) {
    const client = kube.KubeClient.fromKubeconfigYaml(kubeconfig);
    try {
      for (const set of setsOf(olds)) {
        const here = new Set(set.units.filter(u => single(olds) || (u.cluster ?? '') === cluster).map(u => u.index));
        for (let i = 0; i < set.strategy.replicas + set.strategy.maxSurge; i++) {
          if ((here.has(i) || i >= set.strategy.replicas) && !stays(set, i, cluster)) await executor.deleteUnit(client, set, i);
        }
      }
    } finally {
      client.close();
    }
  }
}

/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Rolls a set of units during `pulumi up`: on create every unit is applied at once and awaited; on update, waves of
 * at most `maxUnavailable + maxSurge` units (surge units first, when `maxSurge` > 0), each awaited until every pod is
 * Ready, never fewer than `replicas - maxUnavailable` units Ready, units below `partition` untouched. One log line per
 * wave. Each run starts from what the cluster runs, so an interrupted `pulumi up` resumes where it stopped.
 */
export class Rollout extends pulumi.dynamic.Resource {
  /**
   * The sets as last rolled, as canonical JSON text: one string property, which the engine passes and compares at once
   * where hundreds of objects as nested properties cost seconds of every preview.
   */
  public readonly sets!: pulumi.Output<string>;

  constructor(name: string, args: RolloutArgs, opts?: pulumi.CustomResourceOptions) {
    super(rolloutProvider, name, {
      sets: pulumi.output(args.sets).apply(sets => canonicalJson(sets)),
      // Secret whatever the caller passed: inputs are kept in the state.
      kubeconfigs: pulumi.secret(args.kubeconfigs),
      progressDeadlineSeconds: args.progressDeadlineSeconds,
      onFailure: args.onFailure,
    }, opts, 'inferkit', 'Rollout');
  }
}
