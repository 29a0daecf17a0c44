// Rollout speed on the real control plane (KWOK pods Ready after a fixed delay): for N groups of an entry and a
// worker, an image change rolled by the executor, its waves and wall time against the lower bound
// ceil(N / (maxUnavailable + maxSurge)) x readiness delay (target: within 10 %), and API requests per group.
// Run: npx ts-node --transpile-only bench/rollout.bench.ts (needs `bash test/cluster/build.sh`).
import * as fs from 'fs';
import { App, Chart } from 'cdk8s';
import { GangScheduling, ModelInfer } from '../index';
import { KubeClient, KubeResponse } from '../providers/_kube';
import { executeRollout } from '../providers/rollout-executor';
import { expectedWaves, rolloutSets, RolloutSet } from '../src';
import { TestCluster } from '../test/harness/cluster';
import { installFixtures, restrictedNamespace } from '../test/harness/fixtures';
import { Kube } from '../test/harness/kube';

const DELAY_MS = 3000;
const SIZES = (process.env.ROLLOUT_BENCH_SIZES ?? '8,32,128').split(',').map(Number);

/** A client that counts its requests. */
class CountingClient extends KubeClient {
  public requests = 0;
  public override request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse> {
    this.requests++;
    return super.request(method, path, body, contentType);
  }
}

function set(namespace: string, groups: number, image: string): RolloutSet {
  const app = new App();
  const chart = new Chart(app, 'c', { namespace });
  const template = (name: string) => ({ metadata: { annotations: { 'test.inferkit.dev/ready-delay': `${DELAY_MS}ms` } }, spec: { containers: [{ name, image }] } });
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

async function main(): Promise<void> {
  const cluster = await TestCluster.start({ name: 'inferkit-bench', controllerQps: 500 });
  // A benchmark stopped by a signal still stops its cluster.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void cluster.stop().then(() => process.exit(130)); });
  const rows: string[][] = [];
  let over = false;
  try {
    const kube = cluster.client();
    await installFixtures(kube, { crds: false });
    for (const n of SIZES) {
      const ns = `bench-${n}`;
      await kube.apply(restrictedNamespace(ns));
      const client = CountingClient.fromKubeconfigYaml(fs.readFileSync(cluster.kubeconfig, 'utf8')) as CountingClient;
      const clients = new Map([['', client as KubeClient]]);
      await executeRollout(clients, set(ns, n, 'vllm:v1'), { pollMs: 200 });
      client.requests = 0;
      const target = set(ns, n, 'vllm:v2');
      const result = await executeRollout(clients, target, { pollMs: 200 });
      const waves = expectedWaves(target.strategy);
      const bound = waves * DELAY_MS;
      const ratio = result.elapsedMs / bound;
      over ||= ratio > 1.1;
      rows.push([String(n), `${result.waves}/${waves}`, (result.elapsedMs / 1000).toFixed(1), (bound / 1000).toFixed(1), ratio.toFixed(2), (client.requests / n).toFixed(1)]);
      client.close();
    }
    (kube as Kube).close();
  } finally {
    await cluster.stop();
  }
  const head = ['groups', 'waves (run/plan)', 'wall s', 'bound s', 'wall/bound', 'API requests/group'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  console.log(`Rollout of N entry+worker groups, maxUnavailable 25 %, pods Ready ${DELAY_MS} ms after they start (KWOK)`);
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  console.log(over ? 'some rollouts took more than 110 % of the lower bound' : 'every rollout within 110 % of the lower bound');
}

void main().catch(e => {
  console.error(e);
  process.exitCode = 1;
});
