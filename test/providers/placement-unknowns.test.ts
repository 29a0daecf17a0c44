// The Placement provider at preview, when an input is not known yet: the engine hands `check` and `diff` Pulumi's
// placeholder string in its place. Nothing is judged or compared from it, and no cluster is read.
import { createHash } from 'crypto';
import * as net from 'net';
import { unknownValue } from '@pulumi/pulumi/runtime/rpc';
import { hasUnknown, placementProvider } from '../../providers/placement';
import { FleetNodePool, PlacementDemand } from '../../src';

const GPU = 'gpu.nvidia.com';
const h100: FleetNodePool = { name: 'h100', nodes: 1, devicesPerNode: [{ name: 'gpu', driver: GPU, deviceClassName: GPU, count: 8, capacity: { memory: '80Gi' } }] };
const demand = (replicas: unknown): PlacementDemand => ({ name: 'ml/qwen', replicas, engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu' }] }] }] } as PlacementDemand);

describe('hasUnknown', () => {
  test.each([
    [unknownValue, true], [{ a: [1, { b: unknownValue }] }, true], [[unknownValue], true],
    ['04da6b54', false], [{ a: [1, { b: 'x' }] }, false], [undefined, false], [null, false], [3, false],
  ])('%p: %p', (value, expected) => expect(hasUnknown(value)).toBe(expected));
});

describe('the Placement provider with inputs unknown at preview', () => {
  test('check judges nothing unknown: an unknown demand, cluster list, cluster or kubeconfig is no failure', async () => {
    for (const news of [
      { demand: unknownValue, clusters: [{ name: 'a', nodePools: [h100] }] },
      { demand: demand(unknownValue), clusters: [{ name: 'a', nodePools: [h100] }] },
      { demand: demand(2), clusters: unknownValue },
      { demand: demand(2), clusters: [unknownValue, { name: 'b', nodePools: [h100] }] },
      { demand: demand(2), clusters: [{ name: 'a', kubeconfig: unknownValue }] },
    ]) {
      expect((await placementProvider.check!({}, news)).failures).toEqual([]);
    }
  });

  test('check still judges the known parts', async () => {
    const result = await placementProvider.check!({}, { demand: unknownValue, clusters: [{ name: 'a', nodePools: [h100] }, { name: 'a', kubeconfig: unknownValue }] });
    expect(result.failures).toEqual([
      { property: 'clusters', reason: "Unable to synthesize ModelDeployment/?: clusters 'a' is named twice. Give every cluster its own name." },
    ]);
  });

  test('diff reports a change for any unknown input and reads no cluster, even one with pinned pods', async () => {
    // Counts connections: any read of the cluster opens one (and fails here, which reads as no change).
    let connections = 0;
    const server = net.createServer(socket => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const kubeconfig = [
        'apiVersion: v1', 'kind: Config', 'current-context: c',
        `clusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]`,
        'users: [{name: u, user: {token: abc}}]', 'contexts: [{name: c, context: {cluster: c, user: u}}]',
      ].join('\n');
      const clusters = [{ name: 'a', kubeconfig }];
      // As created earlier: replica 0 pinned to a node of a live cluster, which a diff with known inputs would list.
      const olds = {
        demand: demand(1),
        clusters: [{ name: 'a', kubeconfigHash: createHash('sha256').update(kubeconfig).digest('hex') }],
        pools: {},
        draApiVersions: {},
        degraded: [],
        assignments: [{ replica: 0, cluster: 'a', state: 'Placed', members: [{ engine: 'qwen', member: 0, pool: 'h100', nodes: ['h100-0'] }] }],
      };
      for (const news of [
        { demand: demand(unknownValue), clusters },
        { demand: unknownValue, clusters },
        { demand: demand(1), clusters: unknownValue },
        { demand: demand(1), clusters: [{ name: 'a', kubeconfig: unknownValue }] },
        { demand: demand(1), clusters, ledgerNamespaces: [unknownValue] },
      ]) {
        expect(await placementProvider.diff!('id', olds, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
      }
      expect(connections).toBe(0);
      // The same inputs known: the diff tries to list the pool's Nodes (unreadable here, so no change).
      expect((await placementProvider.diff!('id', olds, { demand: demand(1), clusters })).changes).toBe(false);
      expect(connections).toBeGreaterThan(0);
    } finally {
      server.close();
    }
  });
});
