// `inferkit status` against the real test cluster: the table, -o json and yaml (each CR with its seed CRD's status),
// the exit codes pipelines gate on (0 Ready, 3 not), KIND/NAME read from the cluster alone, --watch, and a fleet over
// named kubeconfigs (or one kubeconfig with a context per cluster) with one cluster down. Three ModelInfers are applied
// once and shared: `llm` Ready, `bad` with a worker a KWOK stage keeps in ImagePullBackOff, `slow` whose pods a KWOK
// stage keeps unready for an hour. The errors that never reach a cluster are unit tests (test/cli-status.test.ts).
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { parse, stringify } from 'yaml';
import { mainAsync } from '../../cli/inferkit';
import { NOT_READY_EXIT_CODE, status } from '../../cli/status';
import { GangScheduling, ModelInfer } from '../../index';
import { freePort } from '../harness/cluster';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';

const kubeconfig = process.env[KUBECONFIG_ENV]!;
const kube = Kube.fromKubeconfig(kubeconfig);
const dirs: string[] = [];
afterAll(async () => {
  // The namespaces go, and with them the pods and the L4 GPUs their claims hold, which later test files place on.
  for (const ns of ['cli-status', 'cli-status-fleet']) await kube.delete('v1', 'Namespace', undefined, ns);
  kube.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-cli-status-'));
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

/** A table with its AGE column blanked: the ages of live objects tick between two runs. */
const ageless = (table: string) => table.replace(/ +\d+[smhd]$/gm, ' <age>');

const yamlOf = (objects: readonly KubeObject[]) => objects.map(o => stringify(o)).join('---\n');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await mainAsync(['status', ...argv], s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

/** `inferkit status` until `done` holds of its result (the pods' stages take a moment). */
const runUntil = (what: string, argv: string[], done: (r: { code: number; out: string; err: string }) => boolean) =>
  kube.waitFor(what, async () => {
    const r = await run(...argv);
    return done(r) ? r : undefined;
  }, 90_000, 500);

describe('inferkit status of a ModelInfer', () => {
  const NS = 'cli-status';
  /** A ModelInfer of two entry + worker groups; `annotations` of its pods by StatefulSet name. */
  const groups = (name: string, annotations: (statefulSet: string) => Record<string, string> = () => ({})): KubeObject[] => {
    const chart = new Chart(new App(), 'c', { namespace: NS });
    const template = (container: string) => ({ spec: { containers: [{ name: container, image: 'vllm:v1' }] } });
    new ModelInfer(chart, name, {
      replicas: 2,
      schedulerName: 'default-scheduler',
      gangScheduling: GangScheduling.none(),
      roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
    });
    return chart.toJson().map(o => {
      const extra = o.kind === 'StatefulSet' ? annotations(o.metadata.name) : {};
      if (Object.keys(extra).length === 0) return o;
      const t = o.spec.template;
      return { ...o, spec: { ...o.spec, template: { ...t, metadata: { ...t.metadata, annotations: { ...t.metadata?.annotations, ...extra } } } } };
    });
  };
  const llm = groups('llm');
  const bad = groups('bad', (s): Record<string, string> => (s === 'bad-1-serve-0-w' ? { 'test.inferkit.dev/fail': 'ImagePullBackOff' } : {}));
  const slow = groups('slow', () => ({ 'test.inferkit.dev/ready-delay': '1h' }));
  const input = write({ 'llm.k8s.yaml': yamlOf(llm) })['llm.k8s.yaml'];
  const badInput = write({ 'bad.k8s.yaml': yamlOf(bad) })['bad.k8s.yaml'];

  beforeAll(async () => {
    await kube.apply(restrictedNamespace(NS));
    for (const o of [...llm, ...bad, ...slow]) await kube.apply(o);
    await runUntil('ModelInfer llm Running', ['-f', input, '--kubeconfig', kubeconfig], r => r.code === 0);
  });

  test('all Ready: a kubectl-style table and exit 0', async () => {
    const r = await run('-f', input, '--kubeconfig', kubeconfig);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+NAME\s+PHASE\s+READY\s+REVISION\s+AGE$/);
    expect(lines[1]).toMatch(new RegExp(`^${NS}\\s+modelinfer/llm\\s+Running\\s+2/2\\s+[0-9a-f]{10}\\s+\\d+[smhd]$`));
    expect(lines).toHaveLength(2);
  });

  test(`not Ready: exit ${NOT_READY_EXIT_CODE}, with the reason under the table`, async () => {
    const r = await runUntil('ModelInfer bad Failed', ['-f', badInput, '--kubeconfig', kubeconfig], x => /modelinfer\/bad\s+Failed\s+1\/2/.test(x.out));
    expect(r.code).toBe(NOT_READY_EXIT_CODE);
    expect(r.out).toMatch(/modelinfer\/bad\s+Failed\s+1\/2/);
    expect(r.out).toContain('modelinfer/bad: bad-1: StatefulSet/bad-1-serve-0-w: pod bad-1-serve-0-w-1: container worker ImagePullBackOff: test stage: ImagePullBackOff');
  });

  test('-o json round-trips each CR with exactly its CRD\'s status; -o yaml is the same document', async () => {
    const json = await run('-f', input, '--kubeconfig', kubeconfig, '-o', 'json');
    const yaml = await run('-f', input, '--kubeconfig', kubeconfig, '-o', 'yaml');
    const doc = JSON.parse(json.out);
    expect(doc).toMatchObject({
      apiVersion: 'workload.matrixinfer.ai/v1alpha1',
      kind: 'ModelInfer',
      metadata: { name: 'llm', namespace: NS },
      status: { phase: 'Running', replicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }, { type: 'Progressing' }] },
    });
    expect(Object.keys(doc)).toEqual(['apiVersion', 'kind', 'metadata', 'status']);
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
    const { conditions: c1, ...rest1 } = doc.status;
    const fromYaml = parse(yaml.out);
    const { conditions: c2, ...rest2 } = fromYaml.status;
    expect(rest2).toEqual(rest1);
    expect(c2.map((c: KubeObject) => c.type)).toEqual(c1.map((c: KubeObject) => c.type));
    expect(json.code).toBe(0);
    expect(yaml.code).toBe(0);
  });

  test('KIND/NAME -n NS reads the workload from the cluster alone', async () => {
    const r = await runUntil('ModelInfer slow with its pods created', ['modelinfer/slow', '-n', NS, '--kubeconfig', kubeconfig], x => /modelinfer\/slow\s+Pending\s+0\/2/.test(x.out));
    expect(r.code).toBe(NOT_READY_EXIT_CODE);
    expect(r.out).toMatch(new RegExp(`^${NS}\\s+modelinfer/slow\\s+Pending\\s+0/2`, 'm'));
  });

  test('--watch redraws until stopped', async () => {
    const stop = new AbortController();
    let draws = 0;
    const code = await status(['-f', input, '--kubeconfig', kubeconfig, '--watch'], () => llm, s => {
      if (s.includes('NAMESPACE') && ++draws === 2) stop.abort();
    }, () => undefined, { signal: stop.signal, intervalMs: 10 });
    expect(draws).toBe(2);
    expect(code).toBe(0);
  });
});

describe('inferkit status of a ModelDeployment across clusters', () => {
  // A fleet as examples/manifests/modelplane-fleet.yaml places it (replicas 0 and 2 on us-east-l4, 1 and 3 on
  // us-west-h100), on node pools named as the test cluster's (l4, h100) so that us-east-l4's share runs on it, and in
  // a namespace of its own (examples.int.test.ts counts the claims of ml-team). us-west-h100 is down.
  const seedText = `
apiVersion: modelplane.ai/v1alpha1
kind: InferenceClass
metadata: {name: l4-x4}
spec:
  devices:
    - {name: gpu, driver: gpu.nvidia.com, deviceClassName: gpu.nvidia.com, count: 4, attributes: {productName: {string: NVIDIA L4}}, capacity: {memory: {value: 24Gi}}}
---
apiVersion: modelplane.ai/v1alpha1
kind: InferenceClass
metadata: {name: h100-x8}
spec:
  devices:
    - {name: gpu, driver: gpu.nvidia.com, deviceClassName: gpu.nvidia.com, count: 8, attributes: {productName: {string: NVIDIA H100 80GB HBM3}}, capacity: {memory: {value: 80Gi}}}
---
apiVersion: modelplane.ai/v1alpha1
kind: InferenceCluster
metadata: {name: us-east-l4, labels: {tier: prod}}
spec:
  cluster: {source: Existing, existing: {secretRef: {name: us-east-l4-kubeconfig}}}
  nodePools: [{name: l4, className: l4-x4, nodeCount: 2}]
---
apiVersion: modelplane.ai/v1alpha1
kind: InferenceCluster
metadata: {name: us-west-h100, labels: {tier: prod}}
spec:
  cluster: {source: Existing, existing: {secretRef: {name: us-west-h100-kubeconfig}}}
  nodePools: [{name: h100, className: h100-x8, nodeCount: 1}]
---
apiVersion: modelplane.ai/v1alpha1
kind: ModelDeployment
metadata: {name: qwen3-8b, namespace: cli-status-fleet}
spec:
  replicas: 4
  template:
    metadata: {labels: {app: qwen3-8b}}
    spec:
      clusterSelector: {matchLabels: {tier: prod}}
      engines:
        - name: qwen3-8b
          members:
            - role: Standalone
              nodeSelector:
                devices:
                  - name: gpu
                    count: 1
                    selectors: [{cel: "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('24Gi')) >= 0"}]
              template:
                spec:
                  containers: [{name: engine, image: vllm/vllm-openai:v0.23.0, args: [--model=Qwen/Qwen3-8B]}]
`;

  test('each replica with its cluster, pool and readiness; a cluster that cannot be reached is reported, and the command does not fail', async () => {
    const { seed } = write({ seed: seedText });
    const out = tmp();
    expect((await mainAsync(['synth', '-f', seed, '-o', out], () => undefined, () => undefined))).toBe(0);
    const east = fs.readFileSync(path.join(out, 'us-east-l4', 'modeldeployment-qwen3-8b.k8s.yaml'), 'utf8').split(/^---$/m).map(d => parse(d)).filter(Boolean);
    await kube.apply(restrictedNamespace('cli-status-fleet'));
    for (const o of east) await kube.apply(o);

    // us-west-h100 is down: its kubeconfig reaches a port nothing listens on.
    const closed = await freePort();
    const real = fs.readFileSync(kubeconfig, 'utf8');
    const server = /server: (https:\/\/127\.0\.0\.1:\d+)/.exec(real)![1];
    const files = write({ east: real, west: real.replace(server, `https://127.0.0.1:${closed}`) });
    const argv = ['-f', seed, '--kubeconfig', `us-east-l4=${files.east}`, '--kubeconfig', `us-west-h100=${files.west}`];
    const r = await runUntil('the replicas on us-east-l4 Ready', argv, x => /Degraded\s+2\/4/.test(x.out));
    expect(r.err).toBe('');
    expect(r.code).toBe(NOT_READY_EXIT_CODE);
    expect(r.out).toMatch(/^cli-status-fleet\s+modeldeployment\/qwen3-8b\s+Degraded\s+2\/4/m);
    expect(r.out).toMatch(/^REPLICA\s+CLUSTER\s+POOL\s+READY\nqwen3-8b-0\s+us-east-l4\s+l4\s+True\nqwen3-8b-1\s+us-west-h100\s+h100\s+False\n/m);
    expect(r.out).toMatch(/^qwen3-8b-2\s+us-east-l4\s+l4\s+True$/m);
    expect(r.out).toMatch(/^qwen3-8b-3\s+us-west-h100\s+h100\s+False$/m);
    expect(r.out).toContain(`modeldeployment/qwen3-8b: qwen3-8b-1 (cluster us-west-h100, pool h100): cluster us-west-h100 unreachable: connect ECONNREFUSED 127.0.0.1:${closed}`);

    const json = await run(...argv, '-o', 'json');
    expect(JSON.parse(json.out).status).toMatchObject({ replicas: { total: 4, ready: 2 }, conditions: [{ type: 'Ready', status: 'False', reason: 'Unavailable' }] });

    // One kubeconfig whose contexts are named after the clusters serves them all.
    const cfg = parse(real);
    const { cluster, user } = { cluster: cfg.clusters[0].cluster, user: cfg.users[0].user };
    const contexts = write({
      kubeconfig: stringify({
        'apiVersion': 'v1',
        'kind': 'Config',
        'current-context': 'us-east-l4',
        'clusters': [{ name: 'e', cluster }, { name: 'w', cluster: { ...cluster, server: `https://127.0.0.1:${closed}` } }],
        'users': [{ name: 'u', user }],
        'contexts': [{ name: 'us-east-l4', context: { cluster: 'e', user: 'u' } }, { name: 'us-west-h100', context: { cluster: 'w', user: 'u' } }],
      }),
    });
    const viaContexts = await run('-f', seed, '--kubeconfig', contexts.kubeconfig);
    expect(ageless(viaContexts.out)).toBe(ageless(r.out));

    // The synth output folder, a folder per cluster, reads as the seed CRs do.
    const fromOutput = await run('-f', out, '--kubeconfig', `us-east-l4=${files.east}`, '--kubeconfig', `us-west-h100=${files.west}`);
    expect(ageless(fromOutput.out)).toBe(ageless(r.out));
  });
});
