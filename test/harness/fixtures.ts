// What the integration tests expect in a cluster: the CRDs of the add-ons inferkit renders for (from their
// Go modules), KWOK-managed GPU node pools with feature-discovery labels, DRA device classes and
// ResourceSlices for the NVIDIA nodes, and namespaces that enforce PodSecurity `restricted`.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { Kube, KubeObject } from './kube';
import { NODE_POOL_LABEL } from '../../src';

/** CRD files, per Go module that ships them. Versions are pinned; `go mod download` fetches them from the proxy. */
export const CRD_MODULES: ReadonlyArray<{ module: string; files: readonly string[] }> = [
  {
    module: 'volcano.sh/volcano@v1.15.0',
    files: ['scheduling.volcano.sh_podgroups.yaml', 'scheduling.volcano.sh_queues.yaml', 'topology.volcano.sh_hypernodes.yaml']
      .map(f => `config/crd/volcano/bases/${f}`),
  },
  // lws v0.10.0 is not served by the module proxy; v0.9.0 is the newest that is.
  { module: 'sigs.k8s.io/lws@v0.9.0', files: ['config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml'] },
  { module: 'sigs.k8s.io/gateway-api@v1.4.0', files: ['config/crd/standard/gateway.networking.k8s.io_httproutes.yaml'] },
  { module: 'sigs.k8s.io/gateway-api-inference-extension@v1.1.0', files: ['config/crd/bases/inference.networking.k8s.io_inferencepools.yaml'] },
  { module: 'github.com/kedacore/keda/v2@v2.18.0', files: ['config/crd/bases/keda.sh_scaledobjects.yaml'] },
  // The proxy serves http-add-on v0.12.0 and v0.8.0 only.
  { module: 'github.com/kedacore/http-add-on@v0.12.0', files: ['config/crd/bases/http.keda.sh_httpscaledobjects.yaml'] },
];

function moduleDir(module: string): string {
  const out = execFileSync('go', ['mod', 'download', '-json', module], { encoding: 'utf8', env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' } });
  return JSON.parse(out).Dir;
}

/** Every CRD object the tests need, read from the Go module cache. */
export function crdObjects(): KubeObject[] {
  return CRD_MODULES.flatMap(({ module, files }) => {
    const dir = moduleDir(module);
    return files.flatMap(f => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map(d => d.toJS()).filter(Boolean));
  });
}

/** The node label that names a node's pool (the library's own constant). */
export const POOL_LABEL = NODE_POOL_LABEL;

export interface NodePool {
  readonly name: string;
  readonly nodes: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly capacity: Readonly<Record<string, string>>;
  /** DRA devices per node, published in one ResourceSlice per node. @default - none */
  readonly devices?: PoolDevices;
}

/** The alike DRA devices of every node of a pool. */
export interface PoolDevices {
  readonly count: number;
  readonly productName: string;
  /** Memory capacity, as a quantity. */
  readonly memory: string;
  /** DRA driver; a DeviceClass named after it selects its devices. @default 'gpu.nvidia.com' */
  readonly driver?: string;
}

/** The DRA driver of the NVIDIA pools, and the name of the DeviceClass that claims their GPUs. */
export const NVIDIA_DRIVER = 'gpu.nvidia.com';

const nvidia = (product: string, memoryMiB: number, major: number, minor: number, count: number): Record<string, string> => ({
  'nvidia.com/gpu.present': 'true',
  'nvidia.com/gpu.product': product,
  'nvidia.com/gpu.memory': String(memoryMiB),
  'nvidia.com/gpu.count': String(count),
  'nvidia.com/gpu.compute.major': String(major),
  'nvidia.com/gpu.compute.minor': String(minor),
});

/** The fleet of one test cluster. */
export const NODE_POOLS: readonly NodePool[] = [
  {
    name: 'h100',
    nodes: 2,
    labels: nvidia('NVIDIA-H100-80GB-HBM3', 81559, 9, 0, 8),
    capacity: { 'cpu': '192', 'memory': '2Ti', 'pods': '110', 'nvidia.com/gpu': '8' },
    devices: { count: 8, productName: 'NVIDIA H100 80GB HBM3', memory: '80Gi' },
  },
  {
    name: 'l4',
    nodes: 2,
    labels: nvidia('NVIDIA-L4', 23034, 8, 9, 4),
    capacity: { 'cpu': '48', 'memory': '192Gi', 'pods': '110', 'nvidia.com/gpu': '4' },
    devices: { count: 4, productName: 'NVIDIA L4', memory: '24Gi' },
  },
  {
    name: 'mi300x',
    nodes: 1,
    labels: { 'amd.com/gpu.product-name': 'AMD_Instinct_MI300X_OAM', 'amd.com/gpu.vram': '192G', 'amd.com/gpu.family': 'AI' },
    capacity: { 'cpu': '192', 'memory': '2Ti', 'pods': '110', 'amd.com/gpu': '8' },
  },
  { name: 'cpu', nodes: 2, labels: {}, capacity: { cpu: '32', memory: '128Gi', pods: '110' } },
];

/** Fake Node objects of a pool: KWOK manages them (annotation), and keeps their capacity. */
export function poolNodes(pool: NodePool): KubeObject[] {
  return Array.from({ length: pool.nodes }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: `${pool.name}-${i}`,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/hostname': `${pool.name}-${i}`, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'type': 'kwok', [POOL_LABEL]: pool.name, ...pool.labels },
    },
    status: { capacity: pool.capacity, allocatable: pool.capacity },
  }));
}

/** A DeviceClass named after a DRA driver that selects every device of that driver. */
export function driverDeviceClass(driver: string): KubeObject {
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'DeviceClass',
    metadata: { name: driver },
    spec: { selectors: [{ cel: { expression: `device.driver == '${driver}'` } }] },
  };
}

/** The DeviceClass of the NVIDIA driver and of every other driver of `pools`, and one ResourceSlice per node with devices. */
export function draObjects(pools: readonly NodePool[] = NODE_POOLS): KubeObject[] {
  const drivers = new Set([NVIDIA_DRIVER, ...pools.flatMap(p => p.devices ? [p.devices.driver ?? NVIDIA_DRIVER] : [])]);
  const slices = pools.filter(p => p.devices).flatMap(pool => poolNodes(pool).map(node => {
    const devices = pool.devices!;
    const driver = devices.driver ?? NVIDIA_DRIVER;
    return {
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceSlice',
      metadata: { name: `${node.metadata.name}-${driver}` },
      spec: {
        driver,
        nodeName: node.metadata.name,
        pool: { name: node.metadata.name, generation: 1, resourceSliceCount: 1 },
        devices: Array.from({ length: devices.count }, (_, i) => ({
          name: `gpu-${i}`,
          attributes: { productName: { string: devices.productName }, index: { int: i } },
          capacity: { memory: { value: devices.memory } },
        })),
      },
    };
  }));
  return [...[...drivers].sort().map(driverDeviceClass), ...slices];
}

/** A namespace whose pods the apiserver's PodSecurity admission judges against `restricted`. */
export function restrictedNamespace(name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' } },
  };
}

export interface FixtureOptions {
  /** The node pools to create, with their ResourceSlices. @default NODE_POOLS */
  readonly pools?: readonly NodePool[];
  /** Install the add-ons' CRDs (slow: a `go mod download` per module and large objects). @default true */
  readonly crds?: boolean;
}

/** Installs CRDs, waits until they are served, then creates the node pools and DRA objects. */
export async function installFixtures(kube: Kube, options: FixtureOptions = {}): Promise<void> {
  const pools = options.pools ?? NODE_POOLS;
  const crds = (options.crds ?? true) ? crdObjects() : [];
  for (const crd of crds) await kube.apply(crd);
  for (const crd of crds) {
    await kube.waitFor(`CRD ${crd.metadata.name} to be established`, async () => {
      const c = await kube.get('apiextensions.k8s.io/v1', 'CustomResourceDefinition', undefined, crd.metadata.name);
      return c?.status?.conditions?.some((x: KubeObject) => x.type === 'Established' && x.status === 'True') ? true : undefined;
    });
  }
  // Nodes are created with their status in one request: a Node keeps the status it is created with, and KWOK's
  // initialize stage then keeps that capacity. (Applying the status afterwards races with KWOK's defaults.)
  for (const node of pools.flatMap(poolNodes)) {
    const res = await kube.request('POST', await kube.path('v1', 'Node', undefined), node);
    if (res.status >= 300) throw new Error(`creating node ${node.metadata.name}: ${JSON.stringify(res.body)}`);
  }
  for (const obj of draObjects(pools)) await kube.apply(obj);
  await kube.waitFor('every fake node to be Ready', async () => {
    const nodes = await kube.list('v1', 'Node');
    const ready = nodes.filter(n => n.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True'));
    return ready.length === pools.reduce((n, p) => n + p.nodes, 0) ? true : undefined;
  }, 90_000);
}
