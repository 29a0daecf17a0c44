// `inferkit status` against a fake API server: the table, -o json and yaml (each CR with its seed CRD's status),
// the exit codes pipelines gate on, --watch, KIND/NAME, a fleet over named kubeconfigs with one cluster down, and
// the errors of a missing or invalid kubeconfig.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { parse, stringify } from 'yaml';
import { FakeApiServer } from './_fake-apiserver';
import { mainAsync } from '../cli/inferkit';
import { formatAge, NOT_READY_EXIT_CODE, status } from '../cli/status';
import { GangScheduling, ModelInfer } from '../index';
import { K8sObject } from '../src';
import { live, podsOf, PodState } from './src/observe/_live';

const dirs: string[] = [];
const servers: FakeApiServer[] = [];
afterAll(async () => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  await Promise.all(servers.map(s => s.stop()));
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-status-'));
  dirs.push(d);
  return d;
}

/** Writes files into a new folder; returns their paths. */
function write(files: Record<string, string>): Record<string, string> {
  const d = tmp();
  return Object.fromEntries(Object.entries(files).map(([name, text]) => {
    fs.mkdirSync(path.dirname(path.join(d, name)), { recursive: true });
    fs.writeFileSync(path.join(d, name), text);
    return [name, path.join(d, name)];
  }));
}

/** The synth output of a ModelInfer of two entry + worker groups. */
function groups(): K8sObject[] {
  const chart = new Chart(new App(), 'c', { namespace: 'ml' });
  const template = (name: string) => ({ spec: { containers: [{ name, image: 'vllm:v1' }] } });
  new ModelInfer(chart, 'llm', {
    replicas: 2,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
  });
  return chart.toJson();
}

/** A cluster running `objects`' workloads with pods in the state given. */
function running(objects: readonly K8sObject[], state: (workload: string) => PodState): K8sObject[] {
  const workloads = objects.filter(o => o.kind === 'StatefulSet' || o.kind === 'Deployment').map(o => live(o));
  return [...workloads, ...workloads.flatMap(w => podsOf(w, state(w.metadata.name)))];
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await mainAsync(['status', ...argv], s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

async function cluster(objects: readonly K8sObject[]): Promise<FakeApiServer> {
  const s = await FakeApiServer.start(objects);
  servers.push(s);
  return s;
}

describe('inferkit status of a ModelInfer', () => {
  const objects = groups();
  const input = write({ 'llm.k8s.yaml': objects.map(o => stringify(o)).join('---\n') })['llm.k8s.yaml'];

  test('all Ready: a kubectl-style table and exit 0', async () => {
    const api = await cluster(running(objects, () => 'ready'));
    const { kubeconfig } = write({ kubeconfig: api.kubeconfig });
    const r = await run('-f', input, '--kubeconfig', kubeconfig);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+PHASE\s+READY\s+REVISION\s+AGE$/);
    expect(lines[1]).toMatch(/^ml\s+modelinfer\/llm\s+Running\s+2\/2\s+[0-9a-f]{10}\s+\d+[smhd]$/);
    expect(lines).toHaveLength(2);
  });

  test(`not Ready: exit ${NOT_READY_EXIT_CODE}, with the reason under the table`, async () => {
    const api = await cluster(running(objects, w => (w === 'llm-1-serve-0-w' ? { waiting: 'ImagePullBackOff', message: 'Back-off pulling image "vllm:v1"' } : 'ready')));
    const { kubeconfig } = write({ kubeconfig: api.kubeconfig });
    const r = await run('-f', input, '--kubeconfig', kubeconfig);
    expect(r.code).toBe(NOT_READY_EXIT_CODE);
    expect(r.out).toMatch(/modelinfer\/llm\s+Failed\s+1\/2/);
    expect(r.out).toContain('modelinfer/llm: llm-1: StatefulSet/llm-1-serve-0-w: pod llm-1-serve-0-w-0: container worker ImagePullBackOff: Back-off pulling image "vllm:v1"');
  });

  test('-o json round-trips each CR with exactly its CRD\'s status; -o yaml is the same document', async () => {
    const api = await cluster(running(objects, () => 'ready'));
    const { kubeconfig } = write({ kubeconfig: api.kubeconfig });
    const json = await run('-f', input, '--kubeconfig', kubeconfig, '-o', 'json');
    const yaml = await run('-f', input, '--kubeconfig', kubeconfig, '-o', 'yaml');
    const doc = JSON.parse(json.out);
    expect(doc).toMatchObject({
      apiVersion: 'workload.matrixinfer.ai/v1alpha1',
      kind: 'ModelInfer',
      metadata: { name: 'llm', namespace: 'ml' },
      status: { phase: 'Running', replicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing' }] },
    });
    expect(Object.keys(doc)).toEqual(['apiVersion', 'kind', 'metadata', 'status']);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    const { conditions: c1, ...rest1 } = doc.status;
    const fromYaml = parse(yaml.out);
    const { conditions: c2, ...rest2 } = fromYaml.status;
    expect(rest2).toEqual(rest1);
    expect(c2.map((c: K8sObject) => c.type)).toEqual(c1.map((c: K8sObject) => c.type));
    expect(json.code).toBe(0);
  });

  test('KIND/NAME -n NS reads the workload from the cluster alone', async () => {
    const api = await cluster(running(objects, () => 'running'));
    const { kubeconfig } = write({ kubeconfig: api.kubeconfig });
    const r = await run('modelinfer/llm', '-n', 'ml', '--kubeconfig', kubeconfig);
    expect(r.code).toBe(NOT_READY_EXIT_CODE);
    expect(r.out).toMatch(/^ml\s+modelinfer\/llm\s+Pending\s+0\/2/m);
  });

  test('--watch redraws until stopped', async () => {
    const api = await cluster(running(objects, () => 'ready'));
    const { kubeconfig } = write({ kubeconfig: api.kubeconfig });
    const stop = new AbortController();
    let draws = 0;
    const code = await status(['-f', input, '--kubeconfig', kubeconfig, '--watch'], () => objects, s => {
      if (s.includes('NAMESPACE') && ++draws === 2) stop.abort();
    }, () => undefined, { signal: stop.signal, intervalMs: 10 });
    expect(draws).toBe(2);
    expect(code).toBe(0);
  });
});

describe('inferkit status of a ModelDeployment across clusters', () => {
  test('each replica with its cluster, pool and readiness; a cluster that cannot be reached is reported, and the command does not fail', async () => {
    // Modelplane's fleet: replicas 0 and 2 on us-east-l4, 1 and 3 on us-west-h100, as `synth -o` writes them.
    const seed = path.join(__dirname, '../examples/manifests/modelplane-fleet.yaml');
    const out = tmp();
    expect((await mainAsync(['synth', '-f', seed, '-o', out], () => undefined, () => undefined))).toBe(0);
    const east = fs.readFileSync(path.join(out, 'us-east-l4', 'modeldeployment-qwen3-8b.k8s.yaml'), 'utf8').split(/^---$/m).map(d => parse(d)).filter(Boolean);
    const api = await cluster(running(east, () => 'ready'));
    // A port nothing listens on.
    const closed = await new Promise<number>(r => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const files = write({ east: api.kubeconfig, west: FakeApiServer.kubeconfigFor(closed) });
    const argv = ['-f', seed, '--kubeconfig', `us-east-l4=${files.east}`, '--kubeconfig', `us-west-h100=${files.west}`];
    const r = await run(...argv);
    expect(r.code).toBe(NOT_READY_EXIT_CODE);
    expect(r.out).toMatch(/^ml-team\s+modeldeployment\/qwen3-8b\s+Degraded\s+2\/4/m);
    expect(r.out).toMatch(/^REPLICA\s+CLUSTER\s+POOL\s+READY\nqwen3-8b-0\s+us-east-l4\s+gpu-l4\s+True\nqwen3-8b-1\s+us-west-h100\s+gpu-h100\s+False\n/m);
    expect(r.out).toMatch(/^qwen3-8b-3\s+us-west-h100\s+gpu-h100\s+False$/m);
    expect(r.out).toContain(`modeldeployment/qwen3-8b: qwen3-8b-1 (cluster us-west-h100, pool gpu-h100): cluster us-west-h100 unreachable: connect ECONNREFUSED 127.0.0.1:${closed}`);

    const json = await run(...argv, '-o', 'json');
    expect(JSON.parse(json.out).status).toMatchObject({ replicas: { total: 4, ready: 2 }, conditions: [{ type: 'Ready', status: 'False', reason: 'Unavailable' }] });

    // One kubeconfig whose contexts are named after the clusters serves them all.
    const contexts = write({
      kubeconfig: [
        'apiVersion: v1', 'kind: Config', 'current-context: us-east-l4',
        'clusters:',
        `- {name: e, cluster: {server: "https://127.0.0.1:${api.port}", insecure-skip-tls-verify: true}}`,
        `- {name: w, cluster: {server: "https://127.0.0.1:${closed}", insecure-skip-tls-verify: true}}`,
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: us-east-l4, context: {cluster: e, user: u}}, {name: us-west-h100, context: {cluster: w, user: u}}]',
      ].join('\n'),
    });
    const viaContexts = await run('-f', seed, '--kubeconfig', contexts.kubeconfig);
    expect(viaContexts.out).toBe(r.out);

    // The synth output folder, a folder per cluster, reads as the seed CRs do.
    const fromOutput = await run('-f', out, '--kubeconfig', `us-east-l4=${files.east}`, '--kubeconfig', `us-west-h100=${files.west}`);
    expect(fromOutput.out).toBe(r.out);
  });
});

describe('inferkit status errors', () => {
  const input = write({ 'llm.k8s.yaml': groups().map(o => stringify(o)).join('---\n') })['llm.k8s.yaml'];

  test('a missing kubeconfig is named, exit 1', async () => {
    const r = await run('-f', input, '--kubeconfig', '/nonexistent/kubeconfig');
    expect(r).toEqual({ code: 1, out: '', err: 'error: --kubeconfig /nonexistent/kubeconfig: no such file. Give the path of a kubeconfig file.\n' });
  });

  test.each([
    ['not YAML', 'a: [', /^error: --kubeconfig \S+: Unable to read the kubeconfig: it is not YAML \(/],
    ['without a current context', 'clusters: []', /^error: --kubeconfig \S+: Unable to read the kubeconfig: it has no current-context\. Set current-context, or name a context\.\n$/],
  ])('an invalid kubeconfig (%s) is refused with what is wrong, exit 1', async (_, text, message) => {
    const { kubeconfig } = write({ kubeconfig: text });
    const r = await run('-f', input, '--kubeconfig', kubeconfig);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
  });

  test.each([
    [['-f', 'x.yaml'], 'no cluster: give --kubeconfig <file>'],
    [['--kubeconfig', 'k'], 'no input: give -f <file.yaml|dir>, or KIND/NAME'],
    [['Pod/x', '--kubeconfig', 'k'], '\'Pod/x\' is not KIND/NAME: KIND is one of ModelInfer, ModelServing, Model, Inference, ModelDeployment, ModelReplica, for example ModelInfer/llama'],
    [['-f', 'x.yaml', '-o', 'wide', '--kubeconfig', 'k'], '-o \'wide\' is not an output format: use table, json or yaml'],
    [['-f', 'x.yaml', '--kubeconfig', 'a=k', '--kubeconfig', 'a=j'], '--kubeconfig a=j: cluster a is given twice; give one kubeconfig per cluster as <cluster>=<file>'],
    [['-f', 'x.yaml', '--kubeconfig', 'k', '--kubeconfig', 'a=j'], 'with several kubeconfigs, name the cluster of each: --kubeconfig <cluster>=<file>'],
  ])('usage error %j: exit 2 with the usage', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err.startsWith(`${message}\n\nUsage: inferkit status`)).toBe(true);
  });

  test('an input without any seed workload is an error, exit 1', async () => {
    const { cm, kubeconfig } = write({ cm: stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), kubeconfig: FakeApiServer.kubeconfigFor(1) });
    const r = await run('-f', cm, '--kubeconfig', kubeconfig);
    expect(r).toEqual({ code: 1, out: '', err: 'nothing to report: the input has no ModelInfer, ModelServing, Model, Inference, ModelDeployment or ModelReplica\n' });
  });

  test.each([[undefined, '<none>'], ['2026-11-28T08:00:00Z', '90s'], ['2026-11-28T07:00:00Z', '61m'], ['2026-11-27T08:00:00Z', '24h'], ['2026-11-20T08:00:00Z', '8d']])(
    'age of %s is %s, as kubectl prints it', (createdAt, age) => {
      expect(formatAge(createdAt, Date.parse('2026-11-28T08:01:30Z'))).toBe(age);
    });
});
