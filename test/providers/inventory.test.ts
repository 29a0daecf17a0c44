import * as net from 'net';
import { Testing } from 'cdk8s';
import { MemberRole, ModelDeployment, Placement } from '../../constructs';
import { parseKubeconfig } from '../../providers/_kube';
import { readLiveCluster } from '../../providers/inventory';
import { formatWarning, LedgerLabels, NODE_POOL_LABEL, place, SpecIssue } from '../../src';
import {
  convertAttribute, convertCapacity, currentSlices, deviceClassOf, ledgerOf, nameDeviceKinds, nodePoolsOf, parseDevicesPerPod, sliceDevices,
} from '../../src/placement/cluster-objects';
import { KubeObject } from '../harness/kube';

const gpuClass = (name: string, ...expressions: string[]): KubeObject => ({
  apiVersion: 'resource.k8s.io/v1',
  kind: 'DeviceClass',
  metadata: { name },
  spec: { selectors: expressions.map(expression => ({ cel: { expression } })) },
});
const NVIDIA_CLASS = gpuClass('gpu.nvidia.com', "device.driver == 'gpu.nvidia.com'");

function node(name: string, pool: string | undefined, options: { ready?: boolean; unschedulable?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: pool ? { [NODE_POOL_LABEL]: pool } : {} },
    spec: options.unschedulable ? { unschedulable: true } : {},
    status: { conditions: [{ type: 'Ready', status: options.ready ?? true ? 'True' : 'False' }] },
  };
}

interface DeviceSpec { product: string; memory: string; driver?: string }

function slice(nodeName: string, devices: DeviceSpec[], generation = 1, driver = devices[0]?.driver ?? 'gpu.nvidia.com'): KubeObject {
  return {
    apiVersion: 'resource.k8s.io/v1',
    kind: 'ResourceSlice',
    metadata: { name: `${nodeName}-${driver}-${generation}` },
    spec: {
      driver,
      nodeName,
      pool: { name: nodeName, generation, resourceSliceCount: 1 },
      devices: devices.map((d, i) => ({
        name: `gpu-${i}`,
        attributes: { productName: { string: d.product }, index: { int: i }, uuid: { string: `GPU-${nodeName}-${i}` } },
        capacity: { memory: { value: d.memory } },
      })),
    },
  };
}

const times = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);
const H100: DeviceSpec = { product: 'NVIDIA H100 80GB HBM3', memory: '80Gi' };
const L4: DeviceSpec = { product: 'NVIDIA L4', memory: '24Gi' };

describe('DRA attribute and capacity conversion', () => {
  test.each([
    [{ string: 'NVIDIA L4' }, 'NVIDIA L4'],
    [{ int: 7 }, 7],
    [{ int: '7' }, 7],
    [{ bool: false }, false],
    [{ version: '12.4.0' }, { version: '12.4.0' }],
    [{ int: '9223372036854775807' }, undefined],
    [{ future: 'x' }, undefined],
    ['bare', undefined],
  ])('attribute %j becomes %j', (given, expected) => {
    expect(convertAttribute(given)).toEqual(expected);
  });

  test.each([
    [{ value: '80Gi' }, '80Gi'],
    ['24Gi', '24Gi'],
    [{ value: 1000 }, '1000'],
    [{ value: 'lots' }, undefined],
    [{}, undefined],
  ])('capacity %j becomes %j', (given, expected) => {
    expect(convertCapacity(given)).toEqual(expected);
  });
});

describe('slice devices', () => {
  test('a v1 slice gives one device per entry with every attribute, on the slice\'s node', () => {
    const [first] = sliceDevices(slice('n0', [H100]));
    expect(first).toEqual({
      node: 'n0',
      device: {
        name: 'gpu-0',
        driver: 'gpu.nvidia.com',
        attributes: { index: 0, productName: 'NVIDIA H100 80GB HBM3', uuid: 'GPU-n0-0' },
        capacity: { memory: '80Gi' },
      },
    });
  });

  test('a v1beta1 slice keeps attributes and capacity under basic', () => {
    const beta = { spec: { driver: 'gpu.nvidia.com', nodeName: 'n0', devices: [{ name: 'gpu-0', basic: { attributes: { productName: { string: 'NVIDIA L4' } }, capacity: { memory: { value: '24Gi' } } } }] } };
    expect(sliceDevices(beta)[0].device).toMatchObject({ attributes: { productName: 'NVIDIA L4' }, capacity: { memory: '24Gi' } });
  });

  test('with per-device node selection, each device is on its own node', () => {
    const s = { spec: { driver: 'gpu.nvidia.com', perDeviceNodeSelection: true, devices: [{ name: 'a', nodeName: 'n1' }, { name: 'b', nodeName: 'n2' }] } };
    expect(sliceDevices(s).map(d => d.node)).toEqual(['n1', 'n2']);
  });

  test('only the newest generation of a resource pool counts', () => {
    const old = slice('n0', [L4], 1);
    const current = slice('n0', [H100], 2);
    expect(currentSlices([old, current])).toEqual([current]);
  });
});

describe('device class resolution', () => {
  const device = { name: 'gpu-0', driver: 'gpu.nvidia.com', attributes: { productName: 'NVIDIA L4' }, capacity: { memory: '24Gi' } };

  test('the first class by name whose selectors all match is the device\'s class', () => {
    const classes = [
      gpuClass('z-any-nvidia', "device.driver == 'gpu.nvidia.com'"),
      gpuClass('b-big', "device.driver == 'gpu.nvidia.com'", "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0"),
      gpuClass('c-l4', "device.attributes['gpu.nvidia.com'].productName == 'NVIDIA L4'"),
    ];
    expect(deviceClassOf(device, classes)).toBe('c-l4');
  });

  test('no matching class leaves the device without one (not claimable)', () => {
    expect(deviceClassOf(device, [gpuClass('gpu.amd.com', "device.driver == 'gpu.amd.com'")])).toBeUndefined();
  });

  test('a selector that does not compile, or is not CEL, never matches; a class without selectors matches all', () => {
    expect(deviceClassOf(device, [gpuClass('a-broken', 'device.driver =='), { metadata: { name: 'b-other' }, spec: { selectors: [{ other: {} }] } }])).toBeUndefined();
    expect(deviceClassOf(device, [gpuClass('everything')])).toBe('everything');
  });
});

describe('device kind names', () => {
  test('a kind alone on its driver\'s first label is named by it; kinds sharing it are numbered in key order', () => {
    const names = nameDeviceKinds([
      { key: 'k-b', driver: 'gpu.nvidia.com' },
      { key: 'k-a', driver: 'gpu.amd.com' },
      { key: 'k-nic', driver: 'nic.example.com' },
      { key: 'k-odd', driver: '' },
    ]);
    expect(Object.fromEntries(names)).toEqual({ 'k-a': 'gpu-0', 'k-b': 'gpu-1', 'k-nic': 'nic', 'k-odd': 'device' });
  });
});

describe('node pools from Nodes and ResourceSlices', () => {
  test('given two alike nodes of 8 GPUs, the pool has 2 nodes and one `gpu` kind of 8 with its class, identity attributes left out', () => {
    const nodes = [node('h100-0', 'h100'), node('h100-1', 'h100')];
    const slices = nodes.map(n => slice(n.metadata.name, times(8, H100)));
    expect(nodePoolsOf(nodes, slices, [NVIDIA_CLASS])).toEqual([{
      name: 'h100',
      nodes: 2,
      devicesPerNode: [{
        name: 'gpu',
        driver: 'gpu.nvidia.com',
        deviceClassName: 'gpu.nvidia.com',
        count: 8,
        attributes: { productName: 'NVIDIA H100 80GB HBM3' },
        capacity: { memory: '80Gi' },
      }],
      nodeNames: ['h100-0', 'h100-1'],
    }]);
  });

  test('only Ready, schedulable nodes count, and are named; nodes without the pool label are no pool', () => {
    const nodes = [node('a-2', 'a'), node('a-1', 'a', { ready: false }), node('a-3', 'a', { unschedulable: true }), node('a-0', 'a'), node('loose', undefined)];
    expect(nodePoolsOf(nodes, [], []).map(p => [p.name, p.nodes, p.nodeNames])).toEqual([['a', 2, ['a-0', 'a-2']]]);
  });

  test('a pool whose nodes differ gets, per kind, the fewest any node has; a kind some node lacks is left out', () => {
    const nodes = [node('m-0', 'mixed'), node('m-1', 'mixed')];
    const slices = [slice('m-0', [...times(8, H100), L4]), slice('m-1', times(6, H100))];
    const [pool] = nodePoolsOf(nodes, slices, [NVIDIA_CLASS]);
    expect(pool.devicesPerNode.map(d => [d.name, d.count, d.attributes?.productName])).toEqual([['gpu', 6, 'NVIDIA H100 80GB HBM3']]);
  });

  test('two kinds of one driver on a node are numbered; devices without a class have none; quantities compare by value', () => {
    const nodes = [node('x-0', 'x')];
    const slices = [slice('x-0', [H100, { ...H100, memory: '85899345920' }, L4])];
    const classes = [gpuClass('big', "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0")];
    const [pool] = nodePoolsOf(nodes, slices, classes);
    expect(pool.devicesPerNode).toEqual([
      expect.objectContaining({ name: 'gpu-0', count: 2, deviceClassName: 'big', attributes: { productName: 'NVIDIA H100 80GB HBM3' } }),
      expect.objectContaining({ name: 'gpu-1', count: 1, attributes: { productName: 'NVIDIA L4' } }),
    ]);
    expect(pool.devicesPerNode[1]).not.toHaveProperty('deviceClassName');
  });

  test('pools and devices come out sorted by name, whatever the order of the objects', () => {
    const nodes = [node('l4-0', 'l4'), node('cpu-0', 'cpu'), node('h100-0', 'h100')];
    const slices = [slice('l4-0', times(4, L4)), slice('h100-0', times(8, H100)),
      slice('h100-0', [{ product: 'ConnectX-7', memory: '0', driver: 'nic.example.com' }])];
    const forward = nodePoolsOf(nodes, slices, [NVIDIA_CLASS]);
    expect(forward.map(p => p.name)).toEqual(['cpu', 'h100', 'l4']);
    expect(forward[1].devicesPerNode.map(d => d.name)).toEqual(['gpu', 'nic']);
    expect(forward[0].devicesPerNode).toEqual([]);
    expect(nodePoolsOf([...nodes].reverse(), [...slices].reverse(), [NVIDIA_CLASS])).toEqual(forward);
  });

  test('a pool with no schedulable node lists its nodes\' devices with nodes 0', () => {
    const [pool] = nodePoolsOf([node('d-0', 'down', { ready: false })], [slice('d-0', times(2, L4))], [NVIDIA_CLASS]);
    expect(pool).toMatchObject({ name: 'down', nodes: 0, devicesPerNode: [{ name: 'gpu', count: 2 }] });
  });
});

interface WorkloadOptions { replicas?: number; devices?: string; pool?: string; deployment?: string; namespace?: string }

function workload(kind: string, name: string, options: WorkloadOptions): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind,
    metadata: {
      name,
      namespace: options.namespace ?? 'ml',
      labels: options.deployment === '' ? {} : { [LedgerLabels.DEPLOYMENT]: options.deployment ?? 'llama' },
    },
    spec: {
      ...(options.replicas === undefined ? {} : { replicas: options.replicas }),
      template: {
        metadata: {
          labels: options.pool === undefined ? { [LedgerLabels.POOL]: 'h100' } : options.pool ? { [LedgerLabels.POOL]: options.pool } : {},
          annotations: options.devices === undefined ? {} : { [LedgerLabels.DEVICES_PER_POD]: options.devices },
        },
      },
    },
  };
}

describe('the ledger from labelled workloads', () => {
  test('each pod of a labelled workload is one entry, replicas defaulting to 1, owner namespace/deployment', () => {
    const ledger = ledgerOf('east', [
      workload('StatefulSet', 'llama-1', { devices: '{"gpu":8}', replicas: 2 }),
      workload('Deployment', 'llama-0', { devices: '{"gpu":4}', pool: 'l4' }),
      workload('Deployment', 'gone', { devices: '{"gpu":1}', replicas: 0 }),
    ]);
    expect(ledger).toEqual([
      { cluster: 'east', pool: 'l4', devices: { gpu: 4 }, owner: 'ml/llama' },
      { cluster: 'east', pool: 'h100', devices: { gpu: 8 }, owner: 'ml/llama' },
      { cluster: 'east', pool: 'h100', devices: { gpu: 8 }, owner: 'ml/llama' },
    ]);
  });

  test('workloads without the deployment label or the devices annotation hold nothing', () => {
    expect(ledgerOf('east', [workload('Deployment', 'other', { devices: '{"gpu":1}', deployment: '' }), workload('Deployment', 'leader', {})])).toEqual([]);
  });

  test.each([
    ['not json', 'it is not JSON'],
    ['[8]', 'it is not a JSON map'],
    ['{"gpu":1.5}', "the count of 'gpu' is not a whole number"],
    ['{"gpu":-1}', "the count of 'gpu' is not a whole number"],
    ['{"gpu":"8"}', "the count of 'gpu' is not a whole number"],
  ])('devices-per-pod %j is refused: %s', (text, cause) => {
    expect(parseDevicesPerPod(text)).toBe(cause);
  });

  test('a malformed annotation is skipped with a warning that names the object and the fix, and the other workloads still count', () => {
    const warnings: SpecIssue[] = [];
    const ledger = ledgerOf('east', [workload('StatefulSet', 'llama-1', { devices: '{gpu: 8}' }), workload('Deployment', 'llama-0', { devices: '{"gpu":4}' })], [], warnings);
    expect(ledger).toEqual([{ cluster: 'east', pool: 'h100', devices: { gpu: 4 }, owner: 'ml/llama' }]);
    expect(warnings.map(formatWarning)).toEqual([
      'Warning: StatefulSet/llama-1 spec.template.metadata.annotations.inferkit.dev/devices-per-pod \'{gpu: 8}\': in namespace ml of cluster east, ' +
      'is not devices per pod (it is not JSON), so the ledger skips the workload and counts no devices for its pods. ' +
      'Fix the annotation to a JSON map of device name to count, such as {"gpu":8}.',
    ]);
  });

  test('a workload holding devices without a pool label is skipped with a warning that names it', () => {
    const warnings: SpecIssue[] = [];
    expect(ledgerOf('east', [workload('Deployment', 'nopool', { devices: '{"gpu":2}', pool: '' })], [], warnings)).toEqual([]);
    expect(warnings.map(formatWarning)).toEqual([
      'Warning: Deployment/nopool spec.template.metadata.labels.inferkit.dev/pool: in namespace ml of cluster east, the workload holds devices {"gpu":2} ' +
      'in no named pool, so the ledger skips it and counts no devices for its pods. Label the pod template with the node pool its pods run in.',
    ]);
  });

  test('replicas: 2147483647 counts 1000 pods, with a warning, instead of exhausting memory', () => {
    const warnings: SpecIssue[] = [];
    const ledger = ledgerOf('east', [workload('Deployment', 'huge', { devices: '{"gpu":8}', replicas: 2147483647 })], [], warnings);
    expect(ledger).toHaveLength(1000);
    expect(warnings.map(formatWarning)).toEqual([
      "Warning: Deployment/huge spec.replicas 2147483647: in namespace ml of cluster east, is over 1000, inferkit's limit of replicas per workload, " +
      'so the ledger counts 1000 pods. Check the workload: inferkit never renders more than 1000 replicas.',
    ]);
  });
});

describe('kubeconfig', () => {
  const kubeconfig = (user: string) => [
    'apiVersion: v1', 'kind: Config', 'current-context: b',
    'clusters:', '- name: one', '  cluster: {server: "https://one:6443", insecure-skip-tls-verify: true}',
    '- name: two', `  cluster: {server: "https://two/k8s/c1", certificate-authority-data: ${Buffer.from('CA PEM').toString('base64')}}`,
    'users:', '- name: u', `  user: ${user}`,
    'contexts:', '- name: a', '  context: {cluster: one, user: u}', '- name: b', '  context: {cluster: two, user: u}',
  ].join('\n');

  test('the current context\'s server, CA and bearer token are used', () => {
    expect(parseKubeconfig(kubeconfig('{token: abc}'))).toEqual(expect.objectContaining({
      server: 'https://two/k8s/c1', ca: 'CA PEM', token: 'abc', insecureSkipTlsVerify: false,
    }));
  });

  test('client certificates are read from their data fields', () => {
    const cert = Buffer.from('CERT').toString('base64');
    const key = Buffer.from('KEY').toString('base64');
    expect(parseKubeconfig(kubeconfig(`{client-certificate-data: ${cert}, client-key-data: ${key}}`))).toMatchObject({ clientCertificate: 'CERT', clientKey: 'KEY' });
  });

  test('an exec plugin is read, not run: the client runs it when a request needs a credential', () => {
    expect(parseKubeconfig(kubeconfig('{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: /nonexistent/aws, args: [eks, get-token]}}'))).toMatchObject({
      exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: '/nonexistent/aws', args: ['eks', 'get-token'] }, context: 'b', user: 'u',
    });
  });

  test.each([
    ['a SOCKS proxy', '{token: abc}', 'proxy-url: "socks5://proxy:1080"', "cluster 'two' has proxy-url socks5://proxy:1080, a SOCKS proxy, which is not supported."],
    ['basic auth', '{username: admin, password: secret}', '', "user 'u' authenticates with a username and password, which is not supported."],
  ])('%s is refused rather than ignored', (_, user, clusterExtra, message) => {
    const text = kubeconfig(user).replace('certificate-authority-data:', `${clusterExtra}${clusterExtra ? ', ' : ''}certificate-authority-data:`);
    expect(() => parseKubeconfig(text)).toThrow(`Unable to read the kubeconfig: ${message}`);
  });

  test('an unusable kubeconfig is reported with the cluster it belongs to', async () => {
    await expect(readLiveCluster({ name: 'east', kubeconfig: 'clusters: []' })).rejects.toThrow("Cluster 'east': Unable to read the kubeconfig: it has no current-context.");
  });
});

describe('an unreachable cluster', () => {
  const kubeconfigFor = (port: number) => [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    'clusters:', '- name: c', `  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
    'users:', '- name: u', '  user: {token: t}',
    'contexts:', '- name: c', '  context: {cluster: c, user: u}',
  ].join('\n');

  test('a server that accepts connections but never answers is reported unreachable after the timeout, not thrown', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer(s => sockets.push(s));
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const live = await readLiveCluster({ name: 'silent', kubeconfig: kubeconfigFor(port), labels: { region: 'eu' } }, { timeoutMs: 300 });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(live).toEqual({
        cluster: { name: 'silent', labels: { region: 'eu' }, nodePools: [], unreachable: true },
        ledger: [],
        error: `no answer from https://127.0.0.1:${port} in 300 ms`,
        warnings: [expect.stringContaining('insecure-skip-tls-verify: the server\'s certificate is not verified')],
      });
    } finally {
      sockets.forEach(s => s.destroy());
      await new Promise(r => server.close(r));
    }
  });
});

describe('the ledger contract between the constructs and the reader', () => {
  test('what a rendered ModelDeployment holds is read back member by member, and another deployment sees the pool as used', () => {
    const gpu = { name: 'gpu', driver: 'gpu.nvidia.com', deviceClassName: 'gpu.nvidia.com', count: 8 };
    const inventory = { clusters: [{ name: 'a', nodePools: [{ name: 'h100', nodes: 4, devicesPerNode: [gpu] }] }] };
    const template = { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } };
    const md = new ModelDeployment(Testing.app(), 'llama', {
      namespace: 'ml',
      replicas: 1,
      engines: [{
        name: 'llama',
        members: [
          { role: MemberRole.LEADER, deviceRequests: [{ name: 'gpu', count: 8 }], template },
          { role: MemberRole.WORKER, workerNodes: 2, deviceRequests: [{ name: 'gpu', count: 8 }], template },
        ],
      }],
      placement: Placement.solve(inventory),
    });
    const ledger = ledgerOf('a', Testing.synth(md.clusterChart('a')));
    expect(ledger).toEqual(Array.from({ length: 3 }, () => ({ cluster: 'a', pool: 'h100', devices: { gpu: 8 }, owner: 'ml/llama' })));
    const other = { name: 'ml/other', replicas: 2, engines: [{ name: 'x', members: [{ deviceRequests: [{ name: 'gpu', count: 8 }] }] }] };
    expect(place(other, inventory, [], ledger).unplaced.map(u => u.replica)).toEqual([1]);
    expect(place({ ...other, name: 'ml/llama' }, inventory, [], ledger).unplaced).toEqual([]);
  });
});
