import * as fs from 'fs';
import { readLiveCluster } from '../../providers/inventory';
import { LedgerLabels } from '../../src';
import { freePort, TestCluster } from '../harness/cluster';
import { NODE_POOLS, NVIDIA_DRIVER, NodePool, installFixtures, restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';

const kubeconfigFile = process.env[KUBECONFIG_ENV]!;
const kubeconfig = fs.readFileSync(kubeconfigFile, 'utf8');
const kube = Kube.fromKubeconfig(kubeconfigFile);
afterAll(() => kube.close());

const NAMESPACE = 'inventory';

/** What readLiveCluster should find for a fixture pool: one `gpu` kind per node pool with devices, in its driver's class. */
function expectedPool(pool: NodePool): KubeObject {
  const d = pool.devices;
  return {
    name: pool.name,
    nodes: pool.nodes,
    nodeNames: Array.from({ length: pool.nodes }, (_, i) => `${pool.name}-${i}`),
    devicesPerNode: d ? [{
      name: 'gpu',
      driver: d.driver ?? NVIDIA_DRIVER,
      deviceClassName: d.driver ?? NVIDIA_DRIVER,
      count: d.count,
      attributes: { productName: d.productName },
      capacity: { memory: d.memory },
    }] : [],
  };
}

/** A workload the ledger counts: pods that claim nothing and never schedule (no node has pool `none`), under restricted PodSecurity. */
function ledgerWorkload(kind: 'Deployment' | 'StatefulSet', name: string, replicas: number, devices: string, pool = 'h100'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: {
      name,
      namespace: NAMESPACE,
      labels: { [LedgerLabels.DEPLOYMENT]: 'llama' },
    },
    spec: {
      replicas,
      ...(kind === 'StatefulSet' ? { serviceName: name } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, [LedgerLabels.POOL]: pool }, annotations: { [LedgerLabels.DEVICES_PER_POD]: devices } },
        spec: {
          nodeSelector: { [LedgerLabels.POOL]: 'none' },
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [{ name: 'c', image: 'nginx', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
        },
      },
    },
  };
}

describe('readLiveCluster against the test cluster', () => {
  beforeAll(async () => {
    await kube.apply(restrictedNamespace(NAMESPACE));
  });
  afterAll(async () => {
    await kube.delete('v1', 'Namespace', undefined, NAMESPACE);
  });

  test('reads every fixture pool: Ready nodes, GPUs grouped per node with their DeviceClass; pools without slices have no devices', async () => {
    const live = await readLiveCluster({ name: 'test', kubeconfig, labels: { region: 'local' } });
    expect(live.error).toBeUndefined();
    expect(live.cluster).toEqual({
      name: 'test',
      labels: { region: 'local' },
      nodePools: [...NODE_POOLS].sort((a, b) => a.name.localeCompare(b.name)).map(expectedPool),
      draApiVersion: 'resource.k8s.io/v1',
    });
    const h100 = live.cluster.nodePools.find(p => p.name === 'h100')!;
    expect(h100).toMatchObject({ nodes: 2, devicesPerNode: [{ name: 'gpu', count: 8, deviceClassName: 'gpu.nvidia.com', capacity: { memory: '80Gi' } }] });
  });

  test('labelled Deployments and StatefulSets are ledger entries, one per pod', async () => {
    await kube.apply(ledgerWorkload('Deployment', 'llama-0', 2, '{"gpu":8}'));
    await kube.apply(ledgerWorkload('StatefulSet', 'llama-1', 1, '{"gpu":4}', 'l4'));
    const live = await readLiveCluster({ name: 'test', kubeconfig });
    expect(live.ledger.filter(e => e.owner === `${NAMESPACE}/llama`)).toEqual([
      { cluster: 'test', pool: 'h100', devices: { gpu: 8 }, owner: 'inventory/llama' },
      { cluster: 'test', pool: 'h100', devices: { gpu: 8 }, owner: 'inventory/llama' },
      { cluster: 'test', pool: 'l4', devices: { gpu: 4 }, owner: 'inventory/llama' },
    ]);
  });

  test('a malformed devices annotation is skipped with a warning naming the workload, the rest of the ledger still read', async () => {
    await kube.apply(ledgerWorkload('Deployment', 'broken', 1, 'gpu=8'));
    try {
      const live = await readLiveCluster({ name: 'test', kubeconfig });
      expect(live.warnings).toEqual([expect.stringMatching(
        /^Warning: Deployment\/broken spec\.template\.metadata\.annotations\.inferkit\.dev\/devices-per-pod 'gpu=8': in namespace inventory of cluster test, is not devices per pod/)]);
      expect(live.ledger.filter(e => e.owner === `${NAMESPACE}/llama`)).toHaveLength(3);
    } finally {
      await kube.delete('apps/v1', 'Deployment', NAMESPACE, 'broken');
    }
  });

  test('a dead port is unreachable at once, not an exception', async () => {
    const port = await freePort();
    const dead = kubeconfig.replace(/server: .*/, `server: https://127.0.0.1:${port}`);
    const started = Date.now();
    const live = await readLiveCluster({ name: 'gone', kubeconfig: dead, taints: [{ key: 'maintenance', effect: 'NoSchedule' }] });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(live).toEqual({
      cluster: { name: 'gone', taints: [{ key: 'maintenance', effect: 'NoSchedule' }], nodePools: [], unreachable: true },
      ledger: [],
      error: expect.stringContaining('ECONNREFUSED'),
      warnings: [],
    });
  });

  test('a token the server refuses stops the read with a credential error: the cluster is not called unreachable', async () => {
    await expect(readLiveCluster({ name: 'test', kubeconfig: kubeconfig.replace(/token: .*/, 'token: wrong') }))
      .rejects.toThrow(/^Unable to read cluster 'test' at https:\/\/127\.0\.0\.1:\d+: the API server refused the credentials \(401 Unauthorized/);
  });
});

describe('a second cluster with its own fleet', () => {
  let second: TestCluster | undefined;
  afterAll(async () => {
    await second?.stop();
  });

  test('starts beside the global one, takes its own pools, and reads back apart from it', async () => {
    const fleet: NodePool[] = [
      {
        name: 'mi300x',
        nodes: 1,
        labels: {},
        capacity: { cpu: '192', memory: '2Ti', pods: '110' },
        devices: { count: 8, productName: 'AMD Instinct MI300X', memory: '192Gi', driver: 'gpu.amd.com' },
      },
      {
        name: 'a100',
        nodes: 3,
        labels: {},
        capacity: { cpu: '96', memory: '1Ti', pods: '110' },
        devices: { count: 4, productName: 'NVIDIA A100-SXM4-40GB', memory: '40Gi' },
      },
    ];
    // No controllers: the test only reads Nodes and ResourceSlices, which KWOK keeps Ready on its own.
    second = await TestCluster.start({ name: 'inferkit-harness', controllers: false });
    expect(second.running()).toHaveLength(3);
    const kube2 = second.client();
    try {
      await installFixtures(kube2, { pools: fleet, crds: false });
    } finally {
      kube2.close();
    }
    const secondConfig = fs.readFileSync(second.kubeconfig, 'utf8');

    const [east, west] = await Promise.all([
      readLiveCluster({ name: 'east', kubeconfig: secondConfig }),
      readLiveCluster({ name: 'west', kubeconfig }),
    ]);
    expect(east).toEqual({ cluster: { name: 'east', nodePools: [expectedPool(fleet[1]), expectedPool(fleet[0])], draApiVersion: 'resource.k8s.io/v1' }, ledger: [], warnings: [] });
    expect(west.cluster.nodePools.map(p => p.name)).toEqual(['cpu', 'h100', 'l4', 'mi300x']);

    // The other cluster's CA does not vouch for this server: a configuration error that stops the read, never "unreachable".
    const ca = (text: string) => /certificate-authority-data: (\S+)/.exec(text)![1];
    await expect(readLiveCluster({ name: 'east', kubeconfig: secondConfig.replace(ca(secondConfig), ca(kubeconfig)) })).rejects.toThrow(/certificate/);

    const dir = second.dir;
    await second.stop();
    expect(fs.existsSync(dir)).toBe(false);
    expect(second.running()).toEqual([]);
  });
});
