// Rollout speed on the real control plane (KWOK pods Ready after a fixed delay): for N groups of an entry and a
// worker, an image change rolled by the executor, its waves and wall time against the lower bound
// ceil(N / (maxUnavailable + maxSurge)) x readiness delay (target: within 10 %), the overhead per wave in ms, and API
// requests per group. The executor runs as the Rollout resource runs it, with the set it replaces (each wave's
// templates are applied during the wave before). Each size runs with a 30 s readiness delay (a small model server's
// start; GPU models take minutes) and a 3 s one, which shows the fixed cost per wave magnified: replacing a wave's pods
// takes the one machine's control plane (KWOK's deletion, the StatefulSet controller, the scheduler) about 1 s for 64
// pods on 2 cores. Then the providers' overhead on a no-op `pulumi preview` of the fleet example at 10, 50 and 200
// replicas, in ms per resource, against a stack of as many plain ConfigMaps (the engine's own cost per resource).
// Run: npx ts-node --transpile-only bench/rollout.bench.ts (needs `bash test/cluster/build.sh`).
import * as fs from 'fs';
import * as k8s from '@pulumi/kubernetes';
import { App, Chart } from 'cdk8s';
import { fleetProgram } from '../examples/pulumi/fleet';
import { GangScheduling, ModelInfer } from '../index';
import { KubeClient, KubeResponse } from '../providers/_kube';
import { executeRollout } from '../providers/rollout-executor';
import { expectedWaves, rolloutSets, RolloutSet } from '../src';
import { TestCluster } from '../test/harness/cluster';
import { installFixtures, NODE_POOLS, restrictedNamespace } from '../test/harness/fixtures';
import { Kube } from '../test/harness/kube';
import { PulumiStack } from '../test/harness/pulumi';

const DELAYS_MS = (process.env.ROLLOUT_BENCH_DELAYS_MS ?? '30000,3000').split(',').map(Number);
const SIZES = (process.env.ROLLOUT_BENCH_SIZES ?? '8,32,128').split(',').map(Number);
const PREVIEW_SIZES = (process.env.PREVIEW_BENCH_SIZES ?? '10,50,200').split(',').filter(Boolean).map(Number);

/** A client that counts its requests. */
class CountingClient extends KubeClient {
  public requests = 0;
  public override request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse> {
    this.requests++;
    return super.request(method, path, body, contentType);
  }
}

function set(namespace: string, groups: number, image: string, delayMs: number): RolloutSet {
  const app = new App();
  const chart = new Chart(app, 'c', { namespace });
  const template = (name: string) => ({ metadata: { annotations: { 'test.inferkit.dev/ready-delay': `${delayMs}ms` } }, spec: { containers: [{ name, image }] } });
  new ModelInfer(chart, 'llm', {
    replicas: groups,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    // A quarter of the groups per wave: 4 waves whatever N.
    rolloutStrategy: { maxUnavailable: '25%', maxSurge: 0 },
    roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
  });
  return rolloutSets(chart.toJson()).sets[0];
}

/** Prints a table with right-aligned columns. */
function table(title: string, head: string[], rows: string[][]): void {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(`\n${title}`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

/** Waves and wall time of an image change of N groups, against ceil(N / (maxUnavailable + maxSurge)) x the readiness delay. */
async function rolloutRows(cluster: TestCluster, kube: Kube): Promise<{ rows: string[][]; over: Map<number, number[]> }> {
  const rows: string[][] = [];
  // Per readiness delay, the sizes over 110 % of the bound.
  const over = new Map<number, number[]>(DELAYS_MS.map(d => [d, []]));
  for (const delayMs of DELAYS_MS) {
    for (const n of SIZES) {
      const ns = `bench-${n}-${delayMs}`;
      await kube.apply(restrictedNamespace(ns));
      const client = CountingClient.fromKubeconfigYaml(fs.readFileSync(cluster.kubeconfig, 'utf8')) as CountingClient;
      const clients = new Map([['', client as KubeClient]]);
      const first = set(ns, n, 'vllm:v1', delayMs);
      await executeRollout(clients, first, { pollMs: 200 });
      client.requests = 0;
      const target = set(ns, n, 'vllm:v2', delayMs);
      // As the Rollout resource runs it: with the set it replaces, so that each wave is prepared during the one before.
      const result = await executeRollout(clients, target, { pollMs: 200, previous: first });
      const waves = expectedWaves(target.strategy);
      const bound = waves * delayMs;
      const ratio = result.elapsedMs / bound;
      if (ratio > 1.1) over.get(delayMs)!.push(n);
      // Pods the StatefulSets made in the rollout, per group: 2 (an entry and a worker) when none was replaced twice.
      const made = (await kube.list('v1', 'Event', ns)).filter(e => e.reason === 'SuccessfulCreate' && e.involvedObject?.kind === 'StatefulSet')
        .reduce((sum, e) => sum + (e.count ?? 1), 0) - 2 * n;
      rows.push([String(delayMs / 1000), String(n), `${result.waves}/${waves}`, (result.elapsedMs / 1000).toFixed(1), (bound / 1000).toFixed(1), ratio.toFixed(2),
        ratio <= 1.1 ? 'yes' : 'no', String(Math.round((result.elapsedMs - bound) / waves)), (made / n).toFixed(2), (client.requests / n).toFixed(1)]);
      client.close();
      // The next rollout gets the machine to itself: its pods gone first.
      await kube.delete('v1', 'Namespace', undefined, ns);
      await kube.waitFor(`namespace ${ns} gone`, async () => ((await kube.get('v1', 'Namespace', undefined, ns)) ? undefined : true), 300_000);
    }
  }
  return { rows, over };
}

/** Median wall time of `runs` calls. */
async function median(runs: number, f: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = Date.now();
    await f();
    times.push(Date.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/**
 * The no-op `pulumi preview` of the fleet example (Placement, Rollout, ConfigGroups) at each size, in ms per resource,
 * against a baseline stack of as many plain @pulumi/kubernetes ConfigMaps in the same run.
 */
async function previewRows(cluster: TestCluster, kube: Kube): Promise<string[][]> {
  const kubeconfig = fs.readFileSync(cluster.kubeconfig, 'utf8');
  const rows: string[][] = [];
  for (const n of PREVIEW_SIZES) {
    const ns = `fleet-${n}`;
    await kube.apply(restrictedNamespace(ns));
    const fleet = await PulumiStack.create({ stackName: 'bench', projectName: `fleet-${n}`, program: async () => fleetProgram([{ name: 'bench', kubeconfig }], ns, n) });
    const baseline = await PulumiStack.create({
      stackName: 'bench',
      projectName: `baseline-${n}`,
      program: async () => {
        const provider = new k8s.Provider('bench', { kubeconfig });
        for (let i = 0; i < n; i++) new k8s.core.v1.ConfigMap(`cm-${i}`, { metadata: { name: `cm-${i}`, namespace: ns }, data: { i: String(i) } }, { provider });
      },
    });
    try {
      await fleet.stack.up();
      await baseline.stack.up();
      const count = async (st: PulumiStack) => (await st.stack.exportStack()).deployment.resources.length;
      const [fleetResources, baseResources] = [await count(fleet), await count(baseline)];
      const fleetMs = await median(3, () => fleet.stack.preview());
      const baseMs = await median(3, () => baseline.stack.preview());
      rows.push([String(n), String(fleetResources), String(fleetMs), (fleetMs / fleetResources).toFixed(1), (fleetMs / n).toFixed(1),
        String(baseResources), String(baseMs), (baseMs / baseResources).toFixed(1)]);
      await fleet.stack.destroy();
      await baseline.stack.destroy();
    } finally {
      fleet.dispose();
      baseline.dispose();
    }
  }
  return rows;
}

async function main(): Promise<void> {
  const cluster = await TestCluster.start({ name: 'inferkit-bench', controllerQps: 500, controllerWorkers: 32 });
  // A benchmark stopped by a signal still stops its cluster.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void cluster.stop().then(() => process.exit(130)); });
  let rollout: { rows: string[][]; over: Map<number, number[]> };
  let preview: string[][];
  try {
    const kube = cluster.client();
    // GPU nodes with DRA devices for the fleet's largest size (one GPU per replica), and room (110 pods a node) for
    // every pod of the largest rollout.
    const nodes = Math.max(Math.ceil(Math.max(...PREVIEW_SIZES, 1) / 8) + 1, Math.ceil((2 * Math.max(...SIZES)) / 100) + 1);
    await installFixtures(kube, { crds: false, pools: [{ ...NODE_POOLS[0], nodes }] });
    rollout = await rolloutRows(cluster, kube);
    preview = await previewRows(cluster, kube);
    kube.close();
  } finally {
    await cluster.stop();
  }
  table('Rollout of N entry+worker groups, maxUnavailable 25 %, pods Ready a fixed delay after they start (KWOK)',
    ['delay s', 'groups', 'waves (run/plan)', 'wall s', 'bound s', 'wall/bound', 'within 10 %', 'overhead ms/wave', 'pods made/group', 'API requests/group'],
    rollout.rows);
  for (const [delayMs, sizes] of rollout.over) {
    console.log(`${delayMs / 1000} s readiness delay: ${sizes.length === 0 ? 'every size within 110 % of the lower bound' : `over 110 % at ${sizes.join(', ')} groups`}`);
  }
  table('No-op pulumi preview of the fleet example (ModelDeployment: Placement, ConfigGroup, Rollout), median of 3, against as many ConfigMaps',
    ['replicas', 'fleet resources', 'preview ms', 'ms/resource', 'ms/replica', 'ConfigMaps stack resources', 'preview ms', 'ms/resource'], preview);
}

void main().catch(e => {
  console.error(e);
  process.exitCode = 1;
});
