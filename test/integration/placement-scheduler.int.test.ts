// Placement that the real kube-scheduler keeps (issue 15), on the test cluster's `h100` pool (2 nodes x 8 GPUs):
// eight single-GPU replicas, then one 8-GPU replica. The scheduler alone spreads the small pods over both nodes and
// leaves the big one Pending. Through `pulumi up`, the small replicas are pinned to the node the solver packed them on,
// so the big one fits the other; and when the small pods were made by something else and spread, the ledger of
// allocated claims sees it, and the big replica is reported as not fitting instead of Placed and Pending.
import * as fs from 'fs';
import { ModelDeployment } from '../../providers';
import { TestCluster } from '../harness/cluster';
import { installFixtures, NODE_POOLS, restrictedNamespace } from '../harness/fixtures';
import { Kube, KubeObject } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

// A cluster of its own: the suite's shared cluster has GPU pods of other tests on its h100 pool, and this scenario
// needs the pool empty. Started in beforeAll, stopped in afterAll.
let cluster: TestCluster;
let kubeconfig: string;
let kube: Kube;
afterAll(async () => {
  kube?.close();
  await cluster?.stop();
});

const NAMESPACE = 'placement';
/** Only the H100s (80Gi) match: the L4s have 24Gi. */
const H100_ONLY = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0";
const RESTRICTED = {
  pod: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  container: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
};

beforeAll(async () => {
  cluster = await TestCluster.start({ name: 'inferkit-jest-placement' });
  kubeconfig = fs.readFileSync(cluster.kubeconfig, 'utf8');
  kube = cluster.client();
  await installFixtures(kube, { crds: false });
  await kube.apply(restrictedNamespace(NAMESPACE));
}, 300_000);

/** A one-cluster fleet program: `replicas` replicas of one engine whose pod claims `gpus` H100s. */
const deployment = (name: string, replicas: number, gpus: number) => async () => {
  const md = new ModelDeployment(name, {
    namespace: NAMESPACE,
    replicas,
    engines: [{
      name: 'e',
      members: [{
        deviceRequests: [{ name: 'gpu', count: gpus, selectors: [H100_ONLY] }],
        template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } },
      }],
    }],
    clusters: [{ name: 'central', kubeconfig }],
  });
  return { replicas: md.replicas };
};

async function podsOf(selector: string): Promise<KubeObject[]> {
  return kube.list('v1', 'Pod', NAMESPACE, selector);
}

/** Waits until `count` pods of `selector` are Ready, and returns them. */
async function readyPods(selector: string, count: number): Promise<KubeObject[]> {
  return kube.waitFor(`${count} Ready pods of ${selector}`, async () => {
    const ready = (await podsOf(selector)).filter(p => p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === count ? ready : undefined;
  }, 120_000);
}

/**
 * Destroys a stack, retrying for a minute: the apiserver may answer 429 ("storage is (re)initializing") while the
 * watch cache of a custom resource the Rollout resource lists is being built.
 */
async function destroy(s: PulumiStack): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await s.stack.destroy();
      return;
    } catch (e) {
      if (attempt === 6 || !/429 storage is \(re\)initializing/.test(String(e))) throw e;
      await new Promise(resolve => setTimeout(resolve, 10_000));
    }
  }
}

const h100 = NODE_POOLS.find(p => p.name === 'h100')!;
/** Pods per node. */
function perNode(pods: KubeObject[]): Record<string, number> {
  const count: Record<string, number> = {};
  for (const p of pods) count[p.spec.nodeName] = (count[p.spec.nodeName] ?? 0) + 1;
  return count;
}

describe('placement the real scheduler keeps, on the h100 pool', () => {
  test('eight 1-GPU replicas, then one 8-GPU replica through pulumi up: every pod of both runs is Ready', async () => {
    const small = await PulumiStack.create({ stackName: 'dev', projectName: 'small', program: deployment('small', 8, 1) });
    const big = await PulumiStack.create({ stackName: 'dev', projectName: 'big', program: deployment('big', 1, 8) });
    try {
      const up = await small.stack.up();
      expect(up.outputs.replicas.value.map((r: KubeObject) => r.pools['e/0'])).toEqual(Array(8).fill('h100'));
      // The solver packed the eight on one node and pinned them there; the scheduler kept it.
      const pods = await readyPods('inferkit.dev/deployment=small', 8);
      expect(Object.values(perNode(pods))).toEqual([8]);

      const second = await big.stack.up();
      expect(second.outputs.replicas.value[0]).toMatchObject({ cluster: 'central', state: 'Placed', pools: { 'e/0': 'h100' } });
      const [bigPod] = await readyPods('inferkit.dev/deployment=big', 1);
      expect(bigPod.spec.nodeName).not.toBe(pods[0].spec.nodeName);
      expect(bigPod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms)
        .toEqual([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [bigPod.spec.nodeName] }] }]);

      await destroy(big);
      await destroy(small);
    } finally {
      small.dispose();
      big.dispose();
    }
  }, 600_000);

  test('eight 1-GPU pods made by something else: the 8-GPU replica is placed from the ledger of allocated claims, never Placed and Pending', async () => {
    await kube.apply({
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaimTemplate',
      metadata: { name: 'one-h100', namespace: NAMESPACE },
      spec: { spec: { devices: { requests: [{ name: 'gpu', exactly: { deviceClassName: 'gpu.nvidia.com', count: 1, selectors: [{ cel: { expression: H100_ONLY } }] } }] } } },
    });
    for (let i = 0; i < 8; i++) {
      await kube.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `other-${i}`, namespace: NAMESPACE, labels: { app: 'other' } },
        spec: {
          securityContext: RESTRICTED.pod,
          nodeSelector: { 'inferkit.dev/pool': 'h100' },
          tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'one-h100' }],
          containers: [{ name: 'c', image: 'nginx', securityContext: RESTRICTED.container, resources: { claims: [{ name: 'gpu' }] } }],
        },
      });
    }
    const others = await readyPods('app=other', 8);
    const spread = perNode(others);
    const roomForEight = Array.from({ length: h100.nodes }, (_, i) => `h100-${i}`).some(n => (spread[n] ?? 0) === 0);

    const big = await PulumiStack.create({ stackName: 'dev', projectName: 'big', program: deployment('big', 1, 8) });
    try {
      if (roomForEight) {
        // The scheduler happened to pack them: the replica goes to the empty node and runs.
        await big.stack.up();
        await readyPods('inferkit.dev/deployment=big', 1);
      } else {
        // Spread (5 and 3 on this cluster): 8 GPUs are free, but on no single node. Nothing is applied.
        const refused = big.stack.up();
        await expect(refused).rejects.toThrow('Unable to place placement/big: 1 of 1 replicas fit nowhere.');
        await expect(refused).rejects.toThrow("central/h100 (engine e): InsufficientCapacity: engine 'e' needs 8 devices (1 copy of 1 pod of 8); "
          + "8 of the pool's 16 matching devices are free (8 held by other deployments, 0 by this one), and 0 nodes have room for a pod of 8");
        expect(await podsOf('inferkit.dev/deployment=big')).toEqual([]);
      }
      await destroy(big);
    } finally {
      big.dispose();
      for (let i = 0; i < 8; i++) await kube.delete('v1', 'Pod', NAMESPACE, `other-${i}`);
      await kube.waitFor('the other pods to be gone', async () => ((await podsOf('app=other')).length === 0 ? true : undefined), 120_000);
    }
  }, 600_000);

  test('a pinned node that leaves the pool (cordoned): the next pulumi up, inputs unchanged, moves the replica and its pod runs', async () => {
    const cordon = (name: string, unschedulable: boolean) => kube.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { unschedulable } },
      { fieldManager: 'placement-test' });
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'moving', program: deployment('moving', 1, 8) });
    let cordoned: string | undefined;
    try {
      await s.stack.up();
      const [before] = await readyPods('inferkit.dev/deployment=moving', 1);
      cordoned = before.spec.nodeName as string;
      await cordon(cordoned, true);

      const up = await s.stack.up();
      expect(up.outputs.replicas.value[0]).toMatchObject({ cluster: 'central', state: 'Moved', pools: { 'e/0': 'h100' } });
      const after = await kube.waitFor('the moved pod to be Ready on another node', async () => {
        const ready = (await readyPods('inferkit.dev/deployment=moving', 1))[0];
        return ready.spec.nodeName !== cordoned ? ready : undefined;
      }, 120_000);
      expect(after.spec.nodeName).not.toBe(cordoned);
      await destroy(s);
    } finally {
      if (cordoned) await cordon(cordoned, false);
      s.dispose();
    }
  }, 600_000);
});
