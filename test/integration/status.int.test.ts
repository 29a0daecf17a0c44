// `inferkit status` on real clusters: an applied ModelInfer folded into Kthena's status (Running, a group whose pods
// ask for more GPUs than any node has, a pod a KWOK stage keeps unready), a FlexInfer Model whose prefetch Job fails,
// and a ModelDeployment over two real control planes and a third cluster that cannot be reached.
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Size } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { stringify } from 'yaml';
import { groupsObjects, groupsProps } from './_rollout-helpers';
import { mainAsync } from '../../cli/inferkit';
import { NOT_READY_EXIT_CODE } from '../../cli/status';
import { CacheStrategy, FleetDevice, GangScheduling, Model, ModelDeployment, ModelInfer, Placement } from '../../index';
import { ModelInfer as ModelInferComponent } from '../../providers';
import { TestCluster } from '../harness/cluster';
import { installFixtures, NodePool, restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

const kubeconfig = process.env[KUBECONFIG_ENV]!;
const kube = Kube.fromKubeconfig(kubeconfig);
const dirs: string[] = [];
const extra: TestCluster[] = [];
afterAll(async () => {
  kube.close();
  await Promise.all(extra.map(c => c.stop()));
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const NS = 'status';
beforeAll(async () => {
  await kube.apply(restrictedNamespace(NS));
});

/** Writes objects as a synth output folder (by cluster when given). */
function synthOutput(objects: Record<string, readonly KubeObject[]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-status-'));
  dirs.push(dir);
  for (const [file, objs] of Object.entries(objects)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), objs.map(o => stringify(o)).join('---\n'));
  }
  return dir;
}

async function status(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await mainAsync(['status', ...argv], s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

/** `inferkit status -o json` of a synth output, until `done` holds of its document. */
async function statusUntil(dir: string, what: string, done: (doc: KubeObject) => boolean, kubeconfigs = ['--kubeconfig', kubeconfig]) {
  return kube.waitFor(what, async () => {
    const r = await status('-f', dir, ...kubeconfigs, '-o', 'json');
    if (r.err) throw new Error(r.err);
    const doc = JSON.parse(r.out);
    return done(doc) ? { ...r, doc } : undefined;
  }, 90_000, 500);
}

const apply = async (objects: readonly KubeObject[], client = kube) => {
  for (const o of objects) await client.apply(o);
};

describe('a ModelInfer of 2 InferGroups', () => {
  test('Running with readyReplicas 2 once every pod is Ready; exit 0', async () => {
    const objects = groupsObjects({ namespace: NS, name: 'up', replicas: 2, image: 'registry.example/vllm:v1' });
    await apply(objects);
    const dir = synthOutput({ 'up.k8s.yaml': objects });
    const { doc, code } = await statusUntil(dir, 'ModelInfer up Running', d => d.status.phase === 'Running');
    expect(code).toBe(0);
    expect(doc).toMatchObject({ kind: 'ModelInfer', metadata: { name: 'up', namespace: NS } });
    expect(doc.status).toMatchObject({ phase: 'Running', replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 });
    expect(doc.status.conditions[0]).toMatchObject({ type: 'Available', status: 'True', reason: 'AllGroupsReady' });
    const table = await status('-f', dir, '--kubeconfig', kubeconfig);
    expect(table.out).toMatch(new RegExp(`^${NS}\\s+modelinfer/up\\s+Running\\s+2/2\\s+[0-9a-f]{10}\\s+\\d+s$`, 'm'));
  });

  test('pods that request more GPUs than any node has: Pending, with a condition quoting the scheduler', async () => {
    const chart = new Chart(new App(), 'c', { namespace: NS });
    const template = (name: string) => ({
      metadata: { annotations: { 'test.inferkit.dev/ready-delay': '1s' } },
      spec: { containers: [{ name, image: 'registry.example/vllm:v1', resources: { limits: { 'nvidia.com/gpu': k8s.Quantity.fromNumber(16) } } }] },
    });
    new ModelInfer(chart, 'huge', {
      replicas: 2,
      schedulerName: 'default-scheduler',
      gangScheduling: GangScheduling.none(),
      roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
    });
    const objects = chart.toJson();
    await apply(objects);
    const dir = synthOutput({ 'huge.k8s.yaml': objects });
    const { doc, code } = await statusUntil(dir, 'ModelInfer huge Unschedulable', d => d.status.conditions?.[0]?.reason === 'Unschedulable');
    expect(code).toBe(NOT_READY_EXIT_CODE);
    expect(doc.status).toMatchObject({ phase: 'Pending', readyReplicas: 0 });
    expect(doc.status.conditions[0]).toMatchObject({ type: 'Available', status: 'False', reason: 'Unschedulable' });
    expect(doc.status.conditions[0].message).toMatch(/pod huge-0-serve-0-0: PodScheduled False Unschedulable: 0\/\d+ nodes are available: .*Insufficient nvidia\.com\/gpu/);
  });

  test('a pod a KWOK stage keeps unready: readyReplicas one less, and the pod named with its reason', async () => {
    const objects = groupsObjects({ namespace: NS, name: 'half', replicas: 2, image: 'registry.example/vllm:v1' }).map(o => (
      o.kind === 'StatefulSet' && o.metadata.name === 'half-1-serve-0-w'
        ? { ...o, spec: { ...o.spec, template: { ...o.spec.template, metadata: { ...o.spec.template.metadata, annotations: { ...o.spec.template.metadata?.annotations, 'test.inferkit.dev/fail': 'CrashLoopBackOff' } } } } }
        : o));
    await apply(objects);
    const dir = synthOutput({ 'half.k8s.yaml': objects });
    const { doc, code } = await statusUntil(dir, 'ModelInfer half with one group Ready', d => d.status.readyReplicas === 1 && d.status.phase === 'Failed');
    expect(code).toBe(NOT_READY_EXIT_CODE);
    expect(doc.status).toMatchObject({ replicas: 2, readyReplicas: 1, availableReplicas: 1 });
    expect(doc.status.conditions[0]).toMatchObject({ status: 'False', reason: 'CrashLoopBackOff' });
    const table = await status('-f', dir, '--kubeconfig', kubeconfig);
    expect(table.out).toMatch(/modelinfer\/half\s+Failed\s+1\/2/);
    expect(table.out).toMatch(/modelinfer\/half: half-1: StatefulSet\/half-1-serve-0-w: pod half-1-serve-0-w-\d: container worker CrashLoopBackOff: test stage: CrashLoopBackOff/);
  });
});

describe('a FlexInfer Model', () => {
  test('whose prefetch Job fails reports the Job\'s failure', async () => {
    const chart = new Chart(new App(), 'c', { namespace: NS });
    new Model(chart, 'gguf', {
      backend: 'llama.cpp',
      source: 'hf://bartowski/Llama-3.2-3B-Instruct-GGUF',
      gpu: { product: 'L4' },
      cache: { strategy: CacheStrategy.SHARED_PVC, size: Size.gibibytes(20) },
      config: { ggufFile: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf' },
    });
    // The Job controller fails a Job past its deadline: the prefetch never finishes here (no storage provisioner).
    const objects = chart.toJson().map(o => (o.kind === 'Job' ? { ...o, spec: { ...o.spec, activeDeadlineSeconds: 2 } } : o));
    await apply(objects);
    const dir = synthOutput({ 'gguf.k8s.yaml': objects });
    const { doc, code } = await statusUntil(dir, 'Model gguf Failed', d => d.status.phase === 'Failed');
    expect(code).toBe(NOT_READY_EXIT_CODE);
    expect(doc).toMatchObject({ apiVersion: 'ai.flexinfer/v1alpha2', kind: 'Model' });
    expect(doc.status.cache).toMatchObject({ jobName: 'gguf-prefetch', jobPhase: 'Failed', ready: false, pvcName: expect.any(String) });
    expect(doc.status.message).toMatch(/^prefetch Job gguf-prefetch failed: DeadlineExceeded: Job was active longer than specified deadline/);
    expect(doc.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'JobFailed' });
  });
});

describe('a ModelDeployment across clusters', () => {
  const l4: NodePool = {
    name: 'l4',
    nodes: 1,
    labels: { 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-L4' },
    capacity: { cpu: '48', memory: '192Gi', pods: '110' },
    devices: { count: 4, productName: 'NVIDIA L4', memory: '24Gi' },
  };
  const gpu: FleetDevice = { name: 'gpu', driver: 'gpu.nvidia.com', deviceClassName: 'gpu.nvidia.com', count: 4, attributes: { productName: 'NVIDIA L4' }, capacity: { memory: '24Gi' } };

  test('lists each replica with its cluster, pool and readiness; an unreachable cluster is reported, and the command does not fail', async () => {
    const east = await TestCluster.start({ name: 'inferkit-jest-status-east' });
    extra.push(east);
    const eastKube = east.client();
    try {
      await installFixtures(eastKube, { pools: [l4], crds: false });
      await eastKube.apply(restrictedNamespace(NS));
      const md = new ModelDeployment(new App(), 'md', {
        name: 'chat',
        namespace: NS,
        replicas: 3,
        engines: [{ name: 'chat', members: [{ deviceRequests: [{ name: 'gpu' }], template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } } }] }],
        placement: Placement.solve({ clusters: ['central', 'east', 'west'].map(name => ({ name, nodePools: [{ name: 'l4', nodes: 1, devicesPerNode: [gpu] }] })) }),
      });
      const objects = Object.fromEntries(md.clusters.map(c => [c, md.clusterChart(c).toJson()]));
      expect(Object.keys(objects).sort()).toEqual(['central', 'east', 'west']);
      await apply(objects.central);
      await apply(objects.east, eastKube);
      const dir = synthOutput(Object.fromEntries(Object.entries(objects).map(([c, o]) => [`${c}/chat.k8s.yaml`, o])));
      const closed = await new Promise<number>(r => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as net.AddressInfo).port;
          s.close(() => r(p));
        });
      });
      const westConfig = path.join(dir, 'west.kubeconfig');
      fs.writeFileSync(westConfig, fs.readFileSync(east.kubeconfig, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${closed}`));
      const kubeconfigs = ['--kubeconfig', `central=${kubeconfig}`, '--kubeconfig', `east=${east.kubeconfig}`, '--kubeconfig', `west=${westConfig}`];
      const { doc, code } = await statusUntil(dir, 'the replicas on central and east Ready', d => d.status.replicas.ready === 2, kubeconfigs);
      expect(code).toBe(NOT_READY_EXIT_CODE);
      expect(doc).toMatchObject({ apiVersion: 'modelplane.ai/v1alpha1', kind: 'ModelDeployment', status: { replicas: { total: 3, ready: 2 } } });
      expect(doc.status.conditions[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'Unavailable' });
      const table = await status('-f', dir, ...kubeconfigs);
      expect(table.err).toBe('');
      expect(table.out).toMatch(new RegExp(`^${NS}\\s+modeldeployment/chat\\s+Degraded\\s+2/3`, 'm'));
      for (const c of ['central', 'east']) expect(table.out).toMatch(new RegExp(`^chat-\\d\\s+${c}\\s+l4\\s+True$`, 'm'));
      expect(table.out).toMatch(/^chat-\d\s+west\s+l4\s+False$/m);
      expect(table.out).toMatch(new RegExp(`cluster west unreachable: connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}`));
    } finally {
      eastKube.close();
    }
  }, 300_000);
});

describe('the ModelInfer Pulumi component on the real engine', () => {
  test('outputs Kthena\'s status after up, refresh observes it again, and the next up repairs a group that lost a workload', async () => {
    const ns = 'status-pulumi';
    await kube.apply(restrictedNamespace(ns));
    const program = (progressDeadlineSeconds = 120) => async () => {
      const mi = new ModelInferComponent('llm', {
        ...groupsProps({ namespace: ns, name: 'llm', replicas: 2, image: 'registry.example/vllm:v1' }),
        kubeconfig: fs.readFileSync(kubeconfig, 'utf8'),
        progressDeadlineSeconds,
      });
      return { status: mi.status };
    };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'status', program: program() });
    try {
      const up = await s.stack.up();
      expect(up.summary.result).toBe('succeeded');
      const out = up.outputs.status.value;
      expect(out).toMatchObject({ ref: { kind: 'ModelInfer', namespace: ns, name: 'llm' }, phase: 'Running', ready: true, readyCount: 2, desired: 2 });
      expect(out.status).toMatchObject({ phase: 'Running', replicas: 2, readyReplicas: 2 });
      expect(out.conditions[0]).toMatchObject({ type: 'Available', status: 'True' });

      // A group's worker goes away behind Pulumi's back: refresh shows it.
      await kube.delete('apps/v1', 'StatefulSet', ns, 'llm-1-serve-0-w');
      const refresh = await s.stack.refresh();
      expect(refresh.summary.result).toBe('succeeded');
      const state = await s.stack.exportStack();
      const resource = state.deployment.resources.find((r: KubeObject) => String(r.urn).endsWith('::llm-status'));
      expect(resource.outputs.statuses[0]).toMatchObject({ phase: 'Pending', ready: false, readyCount: 1, status: { readyReplicas: 1 } });
      expect(resource.outputs.statuses[0].reasons).toEqual(['llm-1: StatefulSet/llm-1-serve-0-w not found in the cluster: apply the synth output']);

      const preview = await s.stack.preview();
      expect(preview.changeSummary?.update ?? 0).toBe(0);

      // The next up that runs the Rollout re-applies the group's missing workload, and reports success only once the
      // status is Ready again. (An up that cannot get there fails: test/integration/status-provider.int.test.ts.)
      const next = await s.withProgram(program(60));
      const repaired = await next.up();
      expect(repaired.summary.result).toBe('succeeded');
      expect(repaired.outputs.status.value).toMatchObject({ phase: 'Running', ready: true, readyCount: 2, desired: 2 });
      expect(await kube.get('apps/v1', 'StatefulSet', ns, 'llm-1-serve-0-w')).toBeDefined();
      await next.destroy();
    } finally {
      s.dispose();
    }
  });
});
