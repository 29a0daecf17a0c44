// The Placement provider's methods, called as the dynamic-provider process calls them. Declared clusters need no
// server; an unreachable one is a kubeconfig pointing at a port nothing listens on.
import { placementProvider } from '../../providers/placement';
import { FleetNodePool, PlacementDemand, ReplicaAssignment } from '../../src';
import { freePort } from '../harness/cluster';

const GPU = 'gpu.nvidia.com';
const h100: FleetNodePool = { name: 'h100', nodes: 1, devicesPerNode: [{ name: 'gpu', driver: GPU, deviceClassName: GPU, count: 8, capacity: { memory: '80Gi' } }] };
const demand = (replicas: number): PlacementDemand => ({ name: 'ml/qwen', replicas, engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu', count: 4 }] }] }] });
const declared = (...names: string[]) => names.map(name => ({ name, nodePools: [h100] }));

const kubeconfigFor = (port: number) => [
  'apiVersion: v1', 'kind: Config', 'current-context: c',
  `clusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]`,
  'users: [{name: u, user: {token: abc}}]', 'contexts: [{name: c, context: {cluster: c, user: u}}]',
].join('\n');

describe('the Placement provider', () => {
  test('check reports every demand problem at preview, with the message of the synth-time check', async () => {
    const engines = Array.from({ length: 9 }, (_, i) => ({ name: `e${i}`, members: [{ deviceRequests: [{ name: 'gpu' }] }] }));
    const result = await placementProvider.check!({}, { demand: { name: 'ml/qwen', replicas: 1, engines }, clusters: declared('a', 'a') });
    expect(result.failures).toEqual([
      { property: 'engines', reason: 'Unable to synthesize ModelDeployment/ml/qwen: engines 9 is outside 1 to 8: a replica runs one to 8 engines. Give 1 to 8 engines; put further models in another deployment.' },
      { property: 'clusters', reason: "Unable to synthesize ModelDeployment/ml/qwen: clusters 'a' is named twice. Give every cluster its own name." },
    ]);
  });

  test('check reports, at preview, a kubeconfig that cannot be used and a cluster with nothing to place on, never the kubeconfig itself', async () => {
    const secret = 'apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: hunter2}}]';
    const result = await placementProvider.check!({}, { demand: demand(1), clusters: [{ name: 'a', kubeconfig: secret }, { name: 'b' }] });
    expect(result.failures).toEqual([
      { property: 'clusters', reason: "Unable to synthesize ModelDeployment/ml/qwen: clusters 'a' has a kubeconfig that cannot be used: Unable to read the kubeconfig: it has no current-context. Set current-context, or name a context. Give the content of a kubeconfig with a server and a token, tokenFile, client certificate or exec credential plugin." },
      { property: 'clusters', reason: "Unable to synthesize ModelDeployment/ml/qwen: clusters 'b' has neither nodePools nor a kubeconfig. Declare its node pools, or give a kubeconfig to read them live." },
    ]);
    expect(JSON.stringify(result.failures)).not.toContain('hunter2');
  });

  test('create places on declared clusters and keeps no kubeconfig in state, only its hash', async () => {
    const kubeconfig = kubeconfigFor(await freePort());
    const { id, outs } = await placementProvider.create!({ demand: demand(3), clusters: [...declared('a', 'b'), { name: 'c', nodePools: [h100], kubeconfig }] });
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    // c's kubeconfig reaches nothing: it takes no new replica.
    expect(outs.assignments.map((a: ReplicaAssignment) => [a.replica, a.cluster, a.state])).toEqual([[0, 'a', 'Placed'], [1, 'b', 'Placed'], [2, 'a', 'Placed']]);
    expect(outs.pools).toEqual({ 'a/h100': h100, 'b/h100': h100 });
    expect(outs.draApiVersions).toEqual({});
    expect(JSON.stringify(outs)).not.toContain('token');
    expect(outs.clusters[2].kubeconfigHash).toMatch(/^[0-9a-f]{64}$/);
  }, 30_000);

  test('diff compares the named inputs only: a new serialized provider is no change, a new kubeconfig or replica count is', async () => {
    const inputs = { demand: demand(2), clusters: [...declared('a'), { name: 'b', nodePools: [h100], kubeconfig: kubeconfigFor(await freePort()) }] };
    const { outs } = await placementProvider.create!(inputs);
    const same = await placementProvider.diff!('id', outs, { ...inputs, __provider: 'exports.handler = () => 2' });
    expect(same.changes).toBe(false);
    const moved = { ...inputs, clusters: [inputs.clusters[0], { ...inputs.clusters[1], kubeconfig: kubeconfigFor(1) }] };
    expect((await placementProvider.diff!('id', outs, moved)).changes).toBe(true);
    expect((await placementProvider.diff!('id', outs, { ...inputs, demand: demand(3) })).changes).toBe(true);
  }, 30_000);

  test('update retains the assignments in state: scale-up adds, never moves', async () => {
    const first = await placementProvider.create!({ demand: demand(2), clusters: declared('a', 'b') });
    const { outs } = await placementProvider.update!('id', first.outs, { demand: demand(3), clusters: declared('a', 'b') });
    expect(outs.assignments.map((a: ReplicaAssignment) => [a.replica, a.cluster, a.state])).toEqual([[0, 'a', 'Retained'], [1, 'b', 'Retained'], [2, 'a', 'Placed']]);
  }, 30_000);

  test('an unreachable cluster keeps its replica pinned and reported degraded; new replicas go elsewhere', async () => {
    const first = await placementProvider.create!({ demand: demand(2), clusters: declared('a', 'b') });
    const dead = { name: 'b', kubeconfig: kubeconfigFor(await freePort()) };
    const { outs } = await placementProvider.update!('id', first.outs, { demand: demand(3), clusters: [...declared('a'), dead] });
    expect(outs.assignments.map((a: ReplicaAssignment) => [a.replica, a.cluster, a.state])).toEqual([[0, 'a', 'Retained'], [1, 'b', 'Degraded'], [2, 'a', 'Placed']]);
    expect(outs.degraded).toEqual([{ replica: 1, cluster: 'b', reason: expect.stringContaining('https://127.0.0.1:') }]);
  }, 30_000);

  test('a replica that fits nowhere fails the update with every reason, and nothing is applied', async () => {
    await expect(placementProvider.create!({ demand: demand(3), clusters: declared('a') })).rejects.toThrow(
      "Unable to place ml/qwen: 1 of 3 replicas fit nowhere. replica 2: a/h100 (engine qwen): InsufficientCapacity: engine 'qwen' needs 4 devices");
  }, 30_000);

  test('a cluster with neither pools nor a kubeconfig is refused', async () => {
    await expect(placementProvider.create!({ demand: demand(1), clusters: [{ name: 'a' }] })).rejects.toThrow(
      "Unable to place ml/qwen: cluster 'a' has neither nodePools nor a kubeconfig. Declare its node pools, or give a kubeconfig to read them live.");
  });

  test('refresh keeps the decision: nothing in a cluster holds it', async () => {
    const props = { assignments: [] };
    expect(await placementProvider.read!('id', props)).toEqual({ id: 'id', props });
  });
});
