// The ModelDeployment component with Inputs, on the real Pulumi engine and a real cluster: the replica count and the
// image come from another resource's outputs. `up` places and rolls with the resolved values; a preview in which the
// count is not known yet places nothing (the Placement's outputs stay unknown, no cluster is read, nothing is written);
// a count refused once resolved fails `up` with synth's message before anything reaches the cluster.
//
// The fleet's kubeconfig points at a proxy in front of the cluster's API server that records every request, so the
// test sees what the engine and the providers read and write.
import * as fs from 'fs';
import * as https from 'https';
import * as path from 'path';
import * as pulumi from '@pulumi/pulumi';
import { EngineEvent } from '@pulumi/pulumi/automation';
import { unknownValue } from '@pulumi/pulumi/runtime/rpc';
import { ModelDeployment } from '../../providers';
import { TestCluster } from '../harness/cluster';
import { installFixtures, NodePool, restrictedNamespace } from '../harness/fixtures';
import { Kube, KubeObject } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

const NAMESPACE = 'inputs';
const l4: NodePool = {
  name: 'l4',
  nodes: 1,
  labels: { 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-L4' },
  capacity: { cpu: '48', memory: '192Gi', pods: '110' },
  devices: { count: 4, productName: 'NVIDIA L4', memory: '24Gi' },
};

/** What the source resource gives: known only once it is created or updated (its outputs are unknown at preview). */
interface Given { readonly replicas: number; readonly image: string }

// A resource of another provider in the same program, as a model registry or a config resource would be.
const sourceProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: 'source', outs: { given: inputs.given, replicas: inputs.given.replicas, image: inputs.given.image } };
  },
  async diff(_id, olds, news) {
    return { changes: JSON.stringify(olds.given) !== JSON.stringify(news.given) };
  },
  async update(_id, _olds, news) {
    return { outs: { given: news.given, replicas: news.given.replicas, image: news.given.image } };
  },
};
class Source extends pulumi.dynamic.Resource {
  public readonly replicas!: pulumi.Output<number>;
  public readonly image!: pulumi.Output<string>;
  constructor(name: string, given: Given) {
    super(sourceProvider, name, { given, replicas: undefined, image: undefined }, {}, 'test', 'Source');
  }
}

let cluster: TestCluster;
let kube: Kube;
let proxy: https.Server;
/** The fleet's kubeconfig: the cluster's, through the recording proxy. */
let kubeconfig: string;
/** Every request through the proxy, as `METHOD path?query`. */
const requests: string[] = [];

beforeAll(async () => {
  cluster = await TestCluster.start({ name: 'inferkit-jest-inputs' });
  kube = cluster.client();
  await installFixtures(kube, { pools: [l4], crds: false });
  await kube.apply(restrictedNamespace(NAMESPACE));
  // The proxy serves the API server's own certificate (valid for 127.0.0.1), so the kubeconfig's CA verifies it.
  const ca = fs.readFileSync(path.join(cluster.dir, 'ca.crt'));
  const target = new URL(cluster.server);
  proxy = https.createServer({ cert: fs.readFileSync(path.join(cluster.dir, 'apiserver.crt')), key: fs.readFileSync(path.join(cluster.dir, 'apiserver.key')) }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const upstream = https.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, ca }, r => {
      res.writeHead(r.statusCode!, r.headers);
      r.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>(r => proxy.listen(0, '127.0.0.1', r));
  kubeconfig = fs.readFileSync(cluster.kubeconfig, 'utf8').replace(cluster.server, `https://127.0.0.1:${(proxy.address() as { port: number }).port}`);
}, 300_000);

afterAll(async () => {
  // The replicas hold GPUs: their namespace goes with them.
  await kube?.delete('v1', 'Namespace', undefined, NAMESPACE).catch(() => undefined);
  kube?.close();
  proxy?.closeAllConnections();
  proxy?.close();
  await cluster?.stop();
});

/** A one-GPU engine whose replica count and image come from `source`'s outputs (and the cluster's label from another's). */
const program = (name: string, given: Given, zone?: string) => async () => {
  const source = new Source(`${name}-source`, given);
  const labels = zone === undefined ? undefined : { zone: new Source(`${name}-zone`, { replicas: 0, image: zone }).image };
  const md = new ModelDeployment(name, {
    namespace: NAMESPACE,
    replicas: source.replicas,
    images: { engine: source.image },
    engines: [{
      name: 'e',
      members: [{ deviceRequests: [{ name: 'gpu' }], template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } } }],
    }],
    clusters: [{ name: 'east', kubeconfig, labels }],
  });
  return { replicas: md.replicas };
};

async function readyPods(deployment: string, count: number): Promise<KubeObject[]> {
  return kube.waitFor(`${count} Ready pods of ${deployment}`, async () => {
    const pods = await kube.list('v1', 'Pod', NAMESPACE, `inferkit.dev/deployment=${deployment}`);
    const ready = pods.filter(p => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === count && pods.length === count ? ready : undefined;
  }, 120_000);
}

/** The events of one resource (by the end of its URN), of the kinds given. */
function eventsOf(events: EngineEvent[], name: string) {
  return events.flatMap(e => [e.resourcePreEvent?.metadata, e.resOutputsEvent?.metadata]).filter(m => m?.urn.endsWith(`::${name}`));
}

/** The replicas' Deployments, by name, with their resourceVersions: what a write would change. */
async function deployments(): Promise<Record<string, string>> {
  const list = await kube.list('apps/v1', 'Deployment', NAMESPACE);
  return Object.fromEntries(list.map(d => [d.metadata.name, d.metadata.resourceVersion]));
}

/** Requests that read a cluster's inventory or workloads (the placement's reads), or write anything. */
const placementReads = /\/(nodes|resourceslices|resourceclaims|pods|deployments|statefulsets)\b/;
const writes = (list: string[]) => list.filter(r => !r.startsWith('GET '));

describe('ModelDeployment with Inputs from another resource, on the real Pulumi engine', () => {
  test('up places and rolls with the resolved count and image; a preview of an unknown count places nothing and reads no cluster', async () => {
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'inputs', program: program('qwen', { replicas: 2, image: 'vllm/vllm-openai:v0.12.0' }) });
    try {
      // Given: the count (2) and the image come from the source's outputs, known once it is created.
      requests.length = 0;
      const up = await s.stack.up();
      expect(up.summary.result).toBe('succeeded');
      expect((up.outputs.replicas.value as Array<Record<string, unknown>>).map(r => [r.index, r.cluster, r.state])).toEqual([[0, 'east', 'Placed'], [1, 'east', 'Placed']]);
      // The Placement read the live cluster, through the proxy; the replicas run the image of the output.
      expect(requests).toContainEqual(expect.stringMatching(/^GET \/api\/v1\/nodes/));
      const pods = await readyPods('qwen', 2);
      expect(pods.map(p => p.spec.containers[0].image)).toEqual(['vllm/vllm-openai:v0.12.0', 'vllm/vllm-openai:v0.12.0']);
      expect(Object.keys(await deployments()).sort()).toEqual(['qwen-0-e', 'qwen-1-e']);
      const service = await kube.get('v1', 'Service', NAMESPACE, 'qwen');

      // When the source changes (3 replicas), its outputs are unknown at preview, so the count is.
      const next = await s.withProgram(program('qwen', { replicas: 3, image: 'vllm/vllm-openai:v0.12.0' }));
      const before = await deployments();
      requests.length = 0;
      const events: EngineEvent[] = [];
      const preview = await next.preview({ onEvent: e => events.push(e) });
      // Then the Placement is an update whose demand is unknown and whose assignments are not computed...
      const placement = eventsOf(events, 'qwen-placement');
      expect(placement.map(m => m!.op)).toEqual(['update', 'update']);
      for (const m of placement) {
        expect(m!.new!.inputs.demand).toBe(unknownValue);
        expect(m!.new!.outputs?.assignments).toBeUndefined();
      }
      expect(preview.stdout).toContain('qwen-placement update [diff: ~demand]');
      // ...the deployment's replicas output is unknown...
      const stackOutputs = eventsOf(events, 'inputs-dev').map(m => m!.new?.outputs).filter(o => o && 'replicas' in o);
      expect(stackOutputs.at(-1)!.replicas).toBe(unknownValue);
      // ...no inventory or workload was read (the k8s provider's discovery is all there is), nothing was written.
      expect(requests.filter(r => placementReads.test(r))).toEqual([]);
      expect(writes(requests)).toEqual([]);
      expect(await deployments()).toEqual(before);
      // The ConfigGroup of the cluster's Service has unknown objects: Pulumi warns that its preview is incomplete.
      expect(preview.stdout).toContain('kubernetes:yaml/v2:ConfigGroup:qwen-east -- Required input properties have unknown values. Preview is incomplete.');

      // The update resolves the count: the third replica is placed, the first two are kept, the Service is not touched.
      const scaled = await next.up();
      expect(scaled.summary.result).toBe('succeeded');
      expect((scaled.outputs.replicas.value as Array<Record<string, unknown>>).map(r => [r.index, r.cluster, r.state]))
        .toEqual([[0, 'east', 'Retained'], [1, 'east', 'Retained'], [2, 'east', 'Placed']]);
      expect((await readyPods('qwen', 3)).map(p => p.spec.containers[0].image)).toEqual(Array(3).fill('vllm/vllm-openai:v0.12.0'));
      const after = await deployments();
      expect([after['qwen-0-e'], after['qwen-1-e']]).toEqual([before['qwen-0-e'], before['qwen-1-e']]);
      expect((await kube.get('v1', 'Service', NAMESPACE, 'qwen'))?.metadata.uid).toBe(service!.metadata.uid);

      // A cluster's label from a resource new in this preview: the count is known and the same, the cluster is not.
      requests.length = 0;
      events.length = 0;
      const labelled = await (await s.withProgram(program('qwen', { replicas: 3, image: 'vllm/vllm-openai:v0.12.0' }, 'a'))).preview({ onEvent: e => events.push(e) });
      expect(labelled.stdout).toContain('qwen-placement update [diff: ~clusters]');
      for (const m of eventsOf(events, 'qwen-placement')) expect(m!.new!.outputs?.assignments).toBeUndefined();
      expect(requests.filter(r => placementReads.test(r))).toEqual([]);
      expect(writes(requests)).toEqual([]);

      expect((await next.destroy()).summary.result).toBe('succeeded');
      await s.stack.workspace.removeStack('dev');
    } finally {
      s.dispose();
    }
  });

  test('a replica count refused once resolved fails the preview when known then, and the update otherwise, before anything reaches the cluster', async () => {
    const message = 'Unable to synthesize ModelDeployment/inputs/bad: replicas -1 is not a whole number of replicas. Use 0 to 1000 replicas.';
    // Known at preview (an Output already resolved, as from config): the preview fails.
    const known = await PulumiStack.create({
      stackName: 'dev',
      projectName: 'known',
      program: async () => {
        new ModelDeployment('bad', {
          namespace: NAMESPACE,
          replicas: pulumi.output(-1),
          engines: [{ name: 'e', members: [{ deviceRequests: [{ name: 'gpu' }], template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } } }] }],
          clusters: [{ name: 'east', kubeconfig }],
        });
      },
    });
    try {
      const failed = await known.stack.preview().then(() => undefined, (e: Error) => e);
      expect(failed?.message).toContain(`Placement resource 'bad-placement': property replicas value {<nil>} has a problem: ${message}`);
    } finally {
      known.dispose();
    }

    // From a resource created in the update: the preview cannot judge it (nor place anything); the update refuses it.
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'bad', program: program('bad', { replicas: -1, image: 'vllm/vllm-openai:v0.12.0' }) });
    try {
      const preview = await s.stack.preview();
      expect(preview.changeSummary).toMatchObject({ create: expect.any(Number) });
      requests.length = 0;
      // The Placement's check refuses the resolved demand, with synth's message, and the engine stops there.
      const failed = await s.stack.up().then(() => undefined, (e: Error) => e);
      expect(failed?.message).toContain(`pulumi-nodejs:dynamic/inferkit:Placement resource 'bad-placement': property replicas value {<nil>} has a problem: ${message}`);
      // Nothing was written to the cluster, and the stack holds no placement, rollout or object of the deployment.
      expect(writes(requests)).toEqual([]);
      const named = async (apiVersion: string, kind: string) => (await kube.list(apiVersion, kind, NAMESPACE)).map(o => o.metadata.name).filter((n: string) => n.startsWith('bad'));
      expect([...await named('v1', 'Service'), ...await named('apps/v1', 'Deployment')]).toEqual([]);
      const types = ((await s.stack.exportStack()).deployment.resources ?? []).map((r: { type: string }) => r.type) as string[];
      expect(types.filter(t => /Placement|Rollout|WorkloadStatus|ConfigGroup|core\/v1/.test(t))).toEqual([]);
      expect(types).toContain('pulumi-nodejs:dynamic/test:Source');
      expect((await s.stack.destroy()).summary.result).toBe('succeeded');
      await s.stack.workspace.removeStack('dev');
    } finally {
      s.dispose();
    }
  });
});
