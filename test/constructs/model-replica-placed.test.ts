import { Testing } from 'cdk8s';
import { placedAssignments } from '../../constructs/model-replica';
import { FleetInventory, MemberRole, ModelDeployment, ModelDeploymentProps, Placement } from '../../index';

// An earlier run's placements, read back from the workloads it rendered, so that the next run keeps them.

const gpu = (count: number) => ({ name: 'gpu', driver: 'gpu.nvidia.com', deviceClassName: 'gpu.nvidia.com', count });
const fleet: FleetInventory = {
  clusters: [
    { name: 'eu-1', nodePools: [{ name: 'h100', nodes: 8, devicesPerNode: [gpu(8)] }, { name: 'cpu', nodes: 2, devicesPerNode: [] }] },
    { name: 'eu-2', nodePools: [{ name: 'h100', nodes: 8, devicesPerNode: [gpu(8)] }] },
  ],
};
const template = { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } };
const props: ModelDeploymentProps = {
  namespace: 'ml-team',
  replicas: 3,
  engines: [
    { name: 'draft', members: [{ deviceRequests: [{ name: 'gpu', count: 1 }], template }] },
    {
      name: 'llama',
      members: [
        { role: MemberRole.LEADER, deviceRequests: [{ name: 'gpu', count: 8 }], template },
        { role: MemberRole.WORKER, workerNodes: 1, deviceRequests: [{ name: 'gpu', count: 8 }], template },
      ],
    },
  ],
  placement: Placement.solve(fleet),
};

describe('placedAssignments', () => {
  test('reads back every replica\'s cluster and each member\'s pool, Standalone, Leader and Worker, as the placement gave them', () => {
    const md = new ModelDeployment(Testing.app(), 'llama', props);
    const objects = md.clusters.map(cluster => ({ cluster, objects: Testing.synth(md.clusterChart(cluster)) }));
    const read = placedAssignments({ name: 'llama', namespace: 'ml-team', engines: props.engines }, objects);
    expect(read).toEqual(md.assignments.map(({ replica, cluster, members }) => ({ replica, cluster, members })));
    expect(read.map(a => a.members.length)).toEqual([3, 3, 3]);
  });

  test('another deployment\'s, or another namespace\'s, workloads are not this one\'s; members the engines no longer have are left out', () => {
    const md = new ModelDeployment(Testing.app(), 'llama', props);
    const objects = md.clusters.map(cluster => ({ cluster, objects: Testing.synth(md.clusterChart(cluster)) }));
    expect(placedAssignments({ name: 'llam', namespace: 'ml-team', engines: props.engines }, objects)).toEqual([]);
    expect(placedAssignments({ name: 'llama', namespace: 'other', engines: props.engines }, objects)).toEqual([]);
    const standaloneOnly = placedAssignments({ name: 'llama', namespace: 'ml-team', engines: [{ name: 'draft', members: [{}] }] }, objects);
    expect(standaloneOnly.map(a => a.members)).toEqual(md.assignments.map(a => [a.members[0]]));
  });

  test('a replica found on two clusters (a stale file of an older run) is left to the placement', () => {
    const md = new ModelDeployment(Testing.app(), 'llama', props);
    const objects = md.clusters.map(cluster => ({ cluster, objects: Testing.synth(md.clusterChart(cluster)) }));
    const replica0 = objects.find(o => o.cluster === md.assignments.find(a => a.replica === 0)!.cluster)!;
    const elsewhere = objects.find(o => o !== replica0)!;
    const stale = [...objects.filter(o => o !== elsewhere), { cluster: elsewhere.cluster, objects: [...elsewhere.objects, ...replica0.objects] }];
    expect(placedAssignments({ name: 'llama', namespace: 'ml-team', engines: props.engines }, stale).map(a => a.replica)).not.toContain(0);
  });
});
