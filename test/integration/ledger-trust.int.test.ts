// A ledger that cannot be fooled, on the test cluster with the real Pulumi engine: a Deployment forged in another
// namespace with the ledger's label and annotation does not push a placed replica off its pool, and a kubeconfig with
// a wrong token stops `pulumi up` with a credential error instead of counting the cluster unreachable.
import * as fs from 'fs';
import { ModelDeployment } from '../../providers';
import { readLiveCluster } from '../../providers/inventory';
import { LedgerLabels } from '../../src';
import { TestCluster } from '../harness/cluster';
import { installFixtures, restrictedNamespace } from '../harness/fixtures';
import { Kube, KubeObject } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

const NAMESPACE = 'trust';
const EVIL = 'evil';
// A cluster of its own: the replica needs a whole h100 node, which other tests' GPU pods may hold on the shared one.
let cluster: TestCluster;
let kubeconfig: string;
let kube: Kube;

beforeAll(async () => {
  cluster = await TestCluster.start({ name: 'inferkit-jest-trust' });
  kubeconfig = fs.readFileSync(cluster.kubeconfig, 'utf8');
  kube = cluster.client();
  await installFixtures(kube, { crds: false });
  for (const ns of [NAMESPACE, EVIL]) await kube.apply(restrictedNamespace(ns));
}, 300_000);
afterAll(async () => {
  kube?.close();
  await cluster?.stop();
});

/** A Deployment that claims, by the ledger's label and annotation, 8 GPUs per pod of pool h100: pods that never schedule. */
function forged(replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'squatter', namespace: EVIL, labels: { [LedgerLabels.DEPLOYMENT]: 'llama' } },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'squatter' } },
      template: {
        metadata: { labels: { app: 'squatter', [LedgerLabels.POOL]: 'h100' }, annotations: { [LedgerLabels.DEVICES_PER_POD]: '{"gpu":8}' } },
        spec: {
          nodeSelector: { [LedgerLabels.POOL]: 'none' },
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{ name: 'c', image: 'nginx', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
        },
      },
    },
  };
}

/** One replica of 8 H100 GPUs (only the h100 pool has 80Gi devices) on the test cluster; `tier` forces a new placement. */
const program = (config: string, tier: string) => async () => {
  const md = new ModelDeployment('llama', {
    namespace: NAMESPACE,
    replicas: 1,
    skipAwait: true,
    engines: [{
      name: 'llama',
      members: [{
        deviceRequests: [{ name: 'gpu', count: 8, selectors: ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80Gi')) >= 0"] }],
        template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } },
      }],
    }],
    clusters: [{ name: 'central', kubeconfig: config, labels: { tier } }],
  });
  return { replicas: md.replicas };
};

describe('the ledger of a live cluster', () => {
  test('a Deployment forged in another namespace does not move a replica; a wrong token stops the update and moves nothing', async () => {
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'ledger-trust', program: program(kubeconfig, 'a') });
    try {
      const up = await s.stack.up();
      expect(up.outputs.replicas.value).toEqual([expect.objectContaining({ index: 0, cluster: 'central', state: 'Placed', pools: { 'llama/0': 'h100' } })]);
      const placed = await kube.get('apps/v1', 'Deployment', NAMESPACE, 'llama-0-llama');

      // A user of another namespace labels a Deployment as if it held both H100 nodes' GPUs.
      await kube.apply(forged(4));
      // Read from every namespace, it would fill the pool: the replica would have to move.
      const everywhere = await readLiveCluster({ name: 'central', kubeconfig });
      expect(everywhere.ledger.filter(e => e.owner === `${EVIL}/llama`)).toHaveLength(4);
      // The Placement reads only the deployment's own namespace.
      const own = await readLiveCluster({ name: 'central', kubeconfig }, { ledgerNamespaces: [NAMESPACE] });
      expect(own.ledger.filter(e => e.owner === `${EVIL}/llama`)).toEqual([]);

      const again = await (await s.withProgram(program(kubeconfig, 'b'))).up();
      expect(again.summary.result).toBe('succeeded');
      expect(again.outputs.replicas.value).toEqual([expect.objectContaining({ index: 0, cluster: 'central', state: 'Retained', pools: { 'llama/0': 'h100' } })]);
      expect((await kube.get('apps/v1', 'Deployment', NAMESPACE, 'llama-0-llama'))?.metadata.uid).toBe(placed!.metadata.uid);

      // A typo in the token: the API server answers 401. The update stops with the reason; the replica stays.
      const wrong = kubeconfig.replace(/token: (\S+)/, 'token: not-the-token');
      expect(wrong).not.toBe(kubeconfig);
      await expect((await s.withProgram(program(wrong, 'c'))).up()).rejects.toThrow(
        /Unable to read cluster 'central' at https:\/\/127\.0\.0\.1:\d+: the API server refused the credentials \(401 Unauthorized/);
      expect((await s.stack.outputs()).replicas.value).toEqual(again.outputs.replicas.value);
      expect((await kube.get('apps/v1', 'Deployment', NAMESPACE, 'llama-0-llama'))?.metadata.uid).toBe(placed!.metadata.uid);

      // The token fixed, the next update goes through, and the replica is still where it was.
      const fixed = await (await s.withProgram(program(kubeconfig, 'd'))).up();
      expect(fixed.outputs.replicas.value).toEqual([expect.objectContaining({ index: 0, cluster: 'central', state: 'Retained' })]);
      expect((await kube.get('apps/v1', 'Deployment', NAMESPACE, 'llama-0-llama'))?.metadata.uid).toBe(placed!.metadata.uid);

      await (await s.withProgram(program(kubeconfig, 'd'))).destroy();
    } finally {
      s.dispose();
    }
  });
});
