/**
 * The `WorkloadStatus` dynamic resource: the status each seed system's controller would show on its CR (phase, ready
 * and desired counts, conditions, the reasons it is not Ready), observed from the cluster(s) during `pulumi up` and
 * again on `pulumi refresh`. `up` fails while a workload is not Ready, unless `skipAwait`. A thin shell over the core's
 * `foldStatus` and `providers/observe` (the cluster I/O), which it loads by absolute path when it runs.
 */
import { createHash } from 'crypto';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { canonicalJson, groupWorkloads } from '../src';
import type { K8sObject, ObservedStatus, WorkloadRef } from '../src';

/** Inputs of a {@link WorkloadStatus}. */
export interface WorkloadStatusArgs {
  /** The workloads, each with its rendered objects: what should run. */
  readonly workloads: pulumi.Input<Array<{ readonly ref: WorkloadRef; readonly objects: K8sObject[] }>>;
  /** A kubeconfig per cluster the workloads run in, by cluster name ('' for a single cluster). Kept secret. */
  readonly kubeconfigs: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Do not wait for the workloads to be Ready: observe them once and succeed whatever their status.
   *
   * @default false
   */
  readonly skipAwait?: pulumi.Input<boolean>;
  /**
   * How long `up` waits for every workload to be Ready before it fails with their reasons.
   *
   * @default 1800 (the rollouts' progress deadline)
   */
  readonly timeoutSeconds?: pulumi.Input<number>;
}

type Workloads = Array<{ ref: WorkloadRef; objects: K8sObject[] }>;

interface Inputs {
  /** The workloads as canonical JSON text (an array in states written by earlier versions). */
  workloads: string | Workloads;
  kubeconfigs: Record<string, string>;
  skipAwait?: boolean;
  timeoutSeconds?: number;
}

// Absolute paths, resolved where this module is (lib/ when installed, the sources under ts-node).
const OBSERVE_MODULE = path.join(__dirname, 'observe');
const KUBE_MODULE = path.join(__dirname, '_kube');
const CORE_MODULE = path.join(__dirname, '..', 'src');

/* eslint-disable @typescript-eslint/no-require-imports -- loaded when the provider runs, by absolute path (see the top) */
/** The workloads of the inputs or state. */
function workloadsOf(inputs: Pick<Inputs, 'workloads'>): Workloads {
  return (require(CORE_MODULE) as typeof import('../src')).fromStoredText(inputs.workloads, []);
}

/** Observes every workload once. */
async function observe(inputs: Inputs): Promise<ObservedStatus[]> {
  const observer = require(OBSERVE_MODULE) as typeof import('./observe');
  const kube = require(KUBE_MODULE) as typeof import('./_kube');
  const clients = new Map(Object.entries(inputs.kubeconfigs).map(([c, k]) => [c, kube.KubeClient.fromKubeconfigYaml(k)]));
  try {
    const statuses = await Promise.all(workloadsOf(inputs).map(w => observer.workloadStatus(clients, w.ref, w.objects)));
    // Plain JSON for the state: no undefined fields.
    return JSON.parse(JSON.stringify(statuses));
  } finally {
    for (const c of clients.values()) c.close();
  }
}

/** Observes until every workload is Ready (or once, with `skipAwait`); throws with the reasons at the timeout. */
async function observeReady(inputs: Inputs, pollMs: number): Promise<ObservedStatus[]> {
  const deadline = Date.now() + (inputs.timeoutSeconds ?? 1800) * 1000;
  for (;;) {
    const statuses = await observe(inputs);
    if (inputs.skipAwait || statuses.every(s => s.ready)) return statuses;
    if (Date.now() >= deadline) {
      const stuck = statuses.filter(s => !s.ready);
      throw new Error(stuck.map(s => `Unable to bring up ${s.ref.kind}/${s.ref.namespace}/${s.ref.name}: ${s.phase}, ${s.readyCount}/${s.desired} Ready after `
        + `${inputs.timeoutSeconds ?? 1800} s: ${s.reasons.join('; ')}.`).join('\n') + '\nFix the cause and run again, raise timeoutSeconds, or set skipAwait.');
    }
    await new Promise(r => setTimeout(r, pollMs));
  }
}

/** The dynamic provider. Exported for tests; programs use {@link WorkloadStatus}. `pollMs` paces the wait. */
export function statusProvider(pollMs = 2000): pulumi.dynamic.ResourceProvider {
  return {
    async check(_olds, news) {
      const failures: pulumi.dynamic.CheckFailure[] = [];
      const t = news.timeoutSeconds;
      const known = (v: unknown) => v !== undefined && v !== (require('@pulumi/pulumi/runtime/rpc') as { unknownValue: string }).unknownValue;
      if (known(t) && !(Number.isInteger(t) && t > 0)) {
        failures.push({ property: 'timeoutSeconds', reason: `timeoutSeconds ${JSON.stringify(t)} is not a positive whole number of seconds. Give, for example, 1800.` });
      }
      return { inputs: news, failures };
    },

    async diff(_id, olds: Inputs, news: Inputs) {
      const { changedInputs } = require(CORE_MODULE) as typeof import('../src');
      const changed = changedInputs({ ...olds }, { ...news }, ['skipAwait', 'timeoutSeconds', 'kubeconfigs'], ['workloads']);
      return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },

    async create(inputs: Inputs) {
      const statuses = await observeReady(inputs, pollMs);
      const id = createHash('sha256').update(workloadsOf(inputs).map(w => `${w.ref.kind}/${w.ref.namespace}/${w.ref.name}`).join(',')).digest('hex').slice(0, 16);
      return { id, outs: { ...inputs, statuses } };
    },

    async update(_id, _olds: Inputs, news: Inputs) {
      return { outs: { ...news, statuses: await observeReady(news, pollMs) } };
    },

    // Refresh observes the clusters again: the outputs show what runs now, Ready or not.
    async read(id, props: Inputs) {
      return { id, props: { ...props, statuses: await observe(props) } };
    },

    // Nothing of its own in the clusters: the workloads belong to the resources that applied them.
    async delete() {
      return;
    },
  };
}
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * The status of workloads as their seed systems would show it, observed from their clusters: on create and update it
 * waits until every workload is Ready (or fails after `timeoutSeconds` with each one's reasons), and `pulumi refresh`
 * observes them again. The ModelInfer, Model, InferenceService and ModelDeployment components make one.
 */
export class WorkloadStatus extends pulumi.dynamic.Resource {
  /** Each workload's status, in the order given. */
  public readonly statuses!: pulumi.Output<ObservedStatus[]>;

  constructor(name: string, args: WorkloadStatusArgs, opts?: pulumi.CustomResourceOptions) {
    super(statusProvider(), name, {
      // One string property: the engine passes and compares it at once, where hundreds of objects as nested
      // properties cost seconds of every preview.
      workloads: pulumi.output(args.workloads).apply(w => canonicalJson(w)),
      // Secret whatever the caller passed: inputs are kept in the state.
      kubeconfigs: pulumi.secret(args.kubeconfigs),
      skipAwait: args.skipAwait,
      timeoutSeconds: args.timeoutSeconds,
      statuses: undefined,
    }, opts, 'inferkit', 'WorkloadStatus');
  }
}

/**
 * The status of the one workload a component renders (from its objects), observed after `dependsOn` by a
 * {@link WorkloadStatus} parented to the component: what the components output as `status`.
 */
export function componentStatus(
  parent: pulumi.Resource, name: string, objects: pulumi.Output<K8sObject[]>, kubeconfigs: pulumi.Input<Record<string, pulumi.Input<string>>>,
  options: Pick<WorkloadStatusArgs, 'skipAwait' | 'timeoutSeconds'>, dependsOn: pulumi.Resource[],
): pulumi.Output<ObservedStatus> {
  const workloads = objects.apply(groupWorkloads);
  const resource = new WorkloadStatus(`${name}-status`, { workloads, kubeconfigs, ...options }, { parent, dependsOn });
  return resource.statuses.apply(s => s[0]);
}
