// Shared by the rollout tests: a ModelInfer of N entry+worker groups on the default scheduler, and a watcher that
// samples its pods every 100 ms to check the availability floor and count restarts.
import * as fs from 'fs';
import { App, Chart } from 'cdk8s';
import { GangScheduling, ModelInfer } from '../../index';
import { ModelInfer as ModelInferComponent } from '../../providers';
import { Kube, KubeObject } from '../harness/kube';

export const isReady = (p: KubeObject) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');

export interface GroupsProps {
  readonly namespace: string;
  readonly name: string;
  readonly replicas: number;
  readonly image: string;
  readonly maxUnavailable?: number;
  readonly maxSurge?: number;
  readonly partition?: number;
  /** Pod annotations: the KWOK stages' `test.inferkit.dev/ready-delay` and `test.inferkit.dev/fail`. */
  readonly podAnnotations?: Record<string, string>;
}

/** The construct props of the test ModelInfer. */
export function groupsProps(p: GroupsProps) {
  const template = (name: string) => ({
    metadata: { annotations: { 'test.inferkit.dev/ready-delay': '1s', ...p.podAnnotations } },
    spec: { containers: [{ name, image: p.image }] },
  });
  return {
    name: p.name,
    namespace: p.namespace,
    replicas: p.replicas,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    rolloutStrategy: { maxUnavailable: p.maxUnavailable ?? 1, maxSurge: p.maxSurge ?? 0, partition: p.partition ?? 0 },
    roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
  };
}

/** The rendered objects of the test ModelInfer. */
export function groupsObjects(p: GroupsProps): KubeObject[] {
  const app = new App();
  const chart = new Chart(app, 'c', { namespace: p.namespace });
  new ModelInfer(chart, p.name, groupsProps(p));
  return chart.toJson();
}

/** Samples the pods of a ModelInfer until stopped. */
export class GroupWatcher {
  /** Per sample: the groups whose two pods are Ready. */
  public readonly samples: Array<{ ready: Set<number>; pods: KubeObject[] }> = [];
  /** Pod UIDs seen per group. */
  public readonly uids = new Map<number, Set<string>>();
  /** Images seen on group pods, by group. */
  public readonly images = new Map<number, Set<string>>();
  private stopped = false;
  private loop?: Promise<void>;

  constructor(private readonly kube: Kube, private readonly namespace: string, private readonly name: string) {}

  public start(): this {
    this.loop = (async () => {
      while (!this.stopped) {
        const pods = await this.kube.list('v1', 'Pod', this.namespace, `modelinfer.matrixinfer.ai/name=${this.name}`);
        const byGroup = new Map<number, KubeObject[]>();
        for (const p of pods) {
          const g = Number(p.metadata.labels['rollout.inferkit.dev/unit']);
          byGroup.set(g, [...byGroup.get(g) ?? [], p]);
          if (!p.metadata.deletionTimestamp) {
            this.uids.set(g, (this.uids.get(g) ?? new Set()).add(p.metadata.uid));
            this.images.set(g, (this.images.get(g) ?? new Set()).add(p.spec.containers[0].image));
          }
        }
        const ready = new Set([...byGroup].filter(([, ps]) => ps.length === 2 && ps.every(isReady)).map(([g]) => g));
        this.samples.push({ ready, pods });
        await new Promise(r => setTimeout(r, 100));
      }
    })();
    return this;
  }

  public async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** The fewest regular groups (index below `replicas`, or surge ones) Ready at once. */
  public minReady(): number {
    return Math.min(...this.samples.map(s => s.ready.size));
  }

  /** How many times the pods of a group were replaced (2 pods per group). */
  public restarts(group: number): number {
    return Math.max(0, ((this.uids.get(group)?.size ?? 0) - 2) / 2);
  }
}

/** Waits until every group of a ModelInfer runs `image` and is Ready. */
export async function waitAllReady(kube: Kube, namespace: string, name: string, groups: number): Promise<KubeObject[]> {
  return kube.waitFor(`${groups} Ready groups of ${name}`, async () => {
    const pods = (await kube.list('v1', 'Pod', namespace, `modelinfer.matrixinfer.ai/name=${name}`)).filter(p => !p.metadata.deletionTimestamp);
    return pods.length === 2 * groups && pods.every(isReady) ? pods : undefined;
  }, 120_000);
}

/** A Pulumi program of the test ModelInfer as the inferkit/pulumi component. */
export function modelInferProgram(kubeconfigFile: string, p: GroupsProps, extra: { onFailure?: 'Halt' | 'Rollback'; progressDeadlineSeconds?: number } = {}) {
  return async () => {
    const mi = new ModelInferComponent('llm', {
      ...groupsProps(p), kubeconfig: fs.readFileSync(kubeconfigFile, 'utf8'), progressDeadlineSeconds: extra.progressDeadlineSeconds ?? 120, onFailure: extra.onFailure,
    });
    return { revision: mi.revision };
  };
}
