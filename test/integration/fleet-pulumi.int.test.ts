// `pulumi up` of a ModelDeployment over three real clusters (separate control planes): the Placement resource reads
// each cluster's live inventory, the component applies each cluster's share through its own Kubernetes provider, the
// real kube-scheduler allocates the DRA claims and KWOK runs the pods to Ready. A second `up` changes nothing;
// removing a cluster from the fleet places only its replica again.
import * as fs from 'fs';
import { fleetProgram } from '../../examples/pulumi/fleet';
import { ModelDeployment } from '../../providers';
import { TestCluster } from '../harness/cluster';
import { installFixtures, NodePool, restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

const NAMESPACE = 'fleet';
const l4: NodePool = {
  name: 'l4',
  nodes: 1,
  labels: { 'nvidia.com/gpu.present': 'true', 'nvidia.com/gpu.product': 'NVIDIA-L4' },
  capacity: { cpu: '48', memory: '192Gi', pods: '110' },
  devices: { count: 4, productName: 'NVIDIA L4', memory: '24Gi' },
};

const clusters: Record<string, { kubeconfig: string; kube: Kube }> = {};
const extra: TestCluster[] = [];

beforeAll(async () => {
  const central = process.env[KUBECONFIG_ENV]!;
  clusters.central = { kubeconfig: fs.readFileSync(central, 'utf8'), kube: Kube.fromKubeconfig(central) };
  // Two more control planes, each with one L4 node and its ResourceSlice. Started one after the other: two cores.
  for (const name of ['east', 'west']) {
    const c = await TestCluster.start({ name: `inferkit-jest-${name}` });
    extra.push(c);
    const kube = c.client();
    await installFixtures(kube, { pools: [l4], crds: false });
    clusters[name] = { kubeconfig: fs.readFileSync(c.kubeconfig, 'utf8'), kube };
  }
  for (const { kube } of Object.values(clusters)) await kube.apply(restrictedNamespace(NAMESPACE));
}, 300_000);

afterAll(async () => {
  // The shared cluster's GPUs go back to the suites that run after this one.
  await clusters.central?.kube.delete('v1', 'Namespace', undefined, NAMESPACE);
  for (const { kube } of Object.values(clusters)) kube.close();
  await Promise.all(extra.map(c => c.stop()));
});

/** The example program (examples/pulumi/fleet.ts) on the named clusters. */
const program = (fleet: string[]) => async () => fleetProgram(fleet.map(name => ({ name, kubeconfig: clusters[name].kubeconfig })), NAMESPACE);

async function replicaDeployment(cluster: string, index: number): Promise<KubeObject | undefined> {
  return clusters[cluster].kube.get('apps/v1', 'Deployment', NAMESPACE, `qwen-${index}-qwen`);
}

async function readyPod(cluster: string, index: number, deployment = 'qwen'): Promise<KubeObject> {
  const kube = clusters[cluster].kube;
  return kube.waitFor(`replica ${index} of ${deployment} on ${cluster} to be Ready`, async () => {
    const pods = await kube.list('v1', 'Pod', NAMESPACE, `modelplane.ai/replica=${deployment}-${index}`);
    return pods.find(p => p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True'));
  }, 120_000);
}

describe('ModelDeployment across three clusters with the real Pulumi engine', () => {
  test('places from the live inventory, converges, and re-places only a removed cluster\'s replica', async () => {
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'fleet', program: program(['central', 'east', 'west']) });
    try {
      // Preview before anything exists: the placement is unknown until the update, so each cluster's share is too.
      const preview = await s.stack.preview();
      expect(preview.changeSummary).toMatchObject({ create: expect.any(Number) });

      const up = await s.stack.up();
      expect(up.summary.result).toBe('succeeded');
      const placed = up.outputs.replicas.value as Array<Record<string, any>>;
      // Spread: one replica per cluster, fewest first, ties by name; the selector admits the L4 (and H100) pools.
      expect(placed.map(r => [r.index, r.cluster, r.state])).toEqual([[0, 'central', 'Placed'], [1, 'east', 'Placed'], [2, 'west', 'Placed']]);
      expect(placed[1]).toMatchObject({ pools: { 'qwen/0': 'l4' }, endpoint: 'http://qwen-1.fleet.svc:8000' });

      // The real scheduler allocated each pod's claim from the cluster's ResourceSlices; KWOK ran it to Ready.
      for (const [index, cluster] of [[0, 'central'], [1, 'east'], [2, 'west']] as const) {
        const pod = await readyPod(cluster, index);
        const claims = await clusters[cluster].kube.list('resource.k8s.io/v1', 'ResourceClaim', NAMESPACE);
        const claim = claims.find(c => c.metadata.ownerReferences?.some((o: KubeObject) => o.uid === pod.metadata.uid));
        expect(claim?.status?.allocation?.devices?.results).toEqual([expect.objectContaining({ request: 'gpu', driver: 'gpu.nvidia.com', pool: pod.spec.nodeName })]);
      }

      // The kubeconfigs' credentials are in the state file only encrypted (exportStack would decrypt them).
      const state = fs.readdirSync(`${s.dir}/state`, { recursive: true, withFileTypes: true })
        .filter(f => f.isFile() && f.name.endsWith('.json')).map(f => fs.readFileSync(`${f.parentPath}/${f.name}`, 'utf8')).join('\n');
      // The file was read: it holds the rolled objects (as the Rollout's JSON text, so quoted once more).
      expect(state).toContain('\\"kind\\":\\"Deployment\\"');
      for (const { kubeconfig } of Object.values(clusters)) expect(state).not.toContain(/token: (\S+)/.exec(kubeconfig)![1]);

      const again = await s.stack.up();
      expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(['same']);
      // Refresh reads every object back and keeps the placement: nothing in a cluster holds it.
      const refresh = await s.stack.refresh();
      expect(refresh.summary.result).toBe('succeeded');
      expect((await s.stack.outputs()).replicas.value).toEqual(placed);

      const before = await replicaDeployment('east', 1);
      const shrink = await (await s.withProgram(program(['central', 'east']))).up();
      expect(shrink.summary.result).toBe('succeeded');
      const moved = shrink.outputs.replicas.value as Array<Record<string, any>>;
      expect(moved.map(r => [r.index, r.cluster, r.state])).toEqual([[0, 'central', 'Retained'], [1, 'east', 'Retained'], [2, 'central', 'Moved']]);
      // The retained replica's objects were not touched; the moved one runs in its new cluster; west is emptied.
      expect((await replicaDeployment('east', 1))?.metadata).toMatchObject({ uid: before!.metadata.uid, generation: before!.metadata.generation });
      await readyPod('central', 2);
      expect(await replicaDeployment('west', 2)).toBeUndefined();

      const destroy = await s.stack.destroy();
      expect(destroy.summary.result).toBe('succeeded');
      await s.stack.workspace.removeStack('dev');
    } finally {
      s.dispose();
    }
  });

  test('two stacks do not overcommit a pool: the second reads the first one\'s devices from the ledger', async () => {
    /** A deployment of one replica whose pod claims `gpus` GPUs, on the named clusters. */
    const deployment = (name: string, gpus: number, fleet: string[], ledgerNamespaces?: string[]) => async () => {
      const md = new ModelDeployment(name, {
        namespace: NAMESPACE,
        ledgerNamespaces,
        replicas: 1,
        engines: [{ name: 'e', members: [{ deviceRequests: [{ name: 'gpu', count: gpus }], template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } } }] }],
        clusters: fleet.map(c => ({ name: c, kubeconfig: clusters[c].kubeconfig })),
      });
      return { replicas: md.replicas };
    };
    const first = await PulumiStack.create({ stackName: 'dev', projectName: 'first', program: deployment('first', 3, ['east']) });
    const second = await PulumiStack.create({ stackName: 'dev', projectName: 'second', program: deployment('second', 2, ['east', 'west'], [NAMESPACE, 'team-b']) });
    try {
      expect((await first.stack.up()).outputs.replicas.value[0].cluster).toBe('east');
      // east's only L4 node has 4 GPUs, 3 held by the first stack: by name east would come first, but the ledger says
      // 1 GPU is left there, so the second stack's 2-GPU pod goes to west, where the scheduler can run it.
      const up = await second.stack.up();
      expect(up.outputs.replicas.value[0]).toMatchObject({ cluster: 'west', state: 'Placed' });
      // The component hands its ledgerNamespaces to its Placement, which keeps them with its decision.
      const placement = (await second.stack.exportStack()).deployment.resources.find((r: KubeObject) => r.urn.endsWith('::second-placement'));
      expect(placement.outputs.ledgerNamespaces).toEqual([NAMESPACE, 'team-b']);
      await readyPod('west', 0, 'second');
      await second.stack.destroy();
      await first.stack.destroy();
    } finally {
      first.dispose();
      second.dispose();
    }
  });

  test('a new image rolls the fleet one replica at a time: never more than maxUnavailable replicas unavailable or rolling, across clusters', async () => {
    const deployment = (image: string) => async () => {
      const md = new ModelDeployment('roll', {
        namespace: NAMESPACE,
        replicas: 4,
        maxUnavailable: 1,
        engines: [{
          name: 'e',
          members: [{
            deviceRequests: [{ name: 'gpu' }],
            template: { metadata: { annotations: { 'test.inferkit.dev/ready-delay': '2s' } }, spec: { containers: [{ name: 'engine', image }] } },
          }],
        }],
        clusters: ['east', 'west'].map(c => ({ name: c, kubeconfig: clusters[c].kubeconfig })),
      });
      return { replicas: md.replicas };
    };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'roll', program: deployment('vllm/vllm-openai:v0.11.0') });
    try {
      const up = await s.stack.up();
      expect((up.outputs.replicas.value as Array<{ cluster: string }>).map(r => r.cluster).sort()).toEqual(['east', 'east', 'west', 'west']);
      for (let i = 0; i < 4; i++) await readyPod(up.outputs.replicas.value[i].cluster, i, 'roll');

      // Sample both clusters' pods: per replica, available (a Ready pod) and rolling (a pod of the new image not Ready).
      const samples: Array<{ unavailable: number; rolling: number }> = [];
      const touched = new Set<number>();
      let stop = false;
      const watcher = (async () => {
        while (!stop) {
          const pods = (await Promise.all(['east', 'west'].map(c => clusters[c].kube.list('v1', 'Pod', NAMESPACE, 'inferkit.dev/deployment=roll')))).flat();
          const byReplica = new Map<number, KubeObject[]>();
          for (const p of pods) {
            const i = Number(p.metadata.labels['modelplane.ai/replica'].split('-').pop());
            byReplica.set(i, [...byReplica.get(i) ?? [], p]);
          }
          const ready = (p: KubeObject) => !p.metadata.deletionTimestamp && p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');
          const isNew = (p: KubeObject) => p.spec.containers[0].image === 'vllm/vllm-openai:v0.12.0';
          let unavailable = 0;
          let rolling = 0;
          for (let i = 0; i < 4; i++) {
            const ps = byReplica.get(i) ?? [];
            if (!ps.some(ready)) unavailable++;
            if (ps.some(p => isNew(p) && !ready(p))) { rolling++; touched.add(i); }
          }
          samples.push({ unavailable, rolling });
          await new Promise(r => setTimeout(r, 100));
        }
      })();
      const next = await (await s.withProgram(deployment('vllm/vllm-openai:v0.12.0'))).up();
      stop = true;
      await watcher;
      expect(next.summary.result).toBe('succeeded');
      expect(Math.max(...samples.map(x => x.unavailable))).toBeLessThanOrEqual(1);
      expect(Math.max(...samples.map(x => x.rolling))).toBe(1);
      expect([...touched].sort()).toEqual([0, 1, 2, 3]);
      for (let i = 0; i < 4; i++) expect((await readyPod(up.outputs.replicas.value[i].cluster, i, 'roll')).spec.containers[0].image).toBe('vllm/vllm-openai:v0.12.0');
      await (await s.withProgram(deployment('vllm/vllm-openai:v0.12.0'))).destroy();
    } finally {
      s.dispose();
    }
  });
});
