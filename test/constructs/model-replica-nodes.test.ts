import { Chart, Testing } from 'cdk8s';
import { MemberRole, ModelDeployment, ModelReplica, ModelReplicaProps, Placement } from '../../index';

type Obj = Record<string, any>;

const template = { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } };
const gpu = { name: 'gpu', count: 1, deviceClassName: 'gpu.nvidia.com' };

function synth(props: ModelReplicaProps): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'ml' });
  new ModelReplica(chart, 'r', props);
  return Testing.synth(chart);
}
const podSpecs = (objs: Obj[]) => Object.fromEntries(objs.filter(o => o.kind === 'Deployment' || o.kind === 'StatefulSet')
  .map(o => [o.metadata.name, o.spec.template.spec]));
const pin = (...values: string[]) => ({ key: 'metadata.name', operator: 'In', values });

describe('ModelReplica pods pinned to the nodes the placement chose', () => {
  test('given node names, a member\'s pods require those nodes by metadata.name, sorted and once each, beside the pool label', () => {
    const objs = synth({
      clusterName: 'a',
      engines: [{ name: 'e', copies: 3, members: [{ nodePoolName: 'h100', nodeNames: ['h100-1', 'h100-0', 'h100-1'], deviceRequests: [gpu], template }] }],
    });
    const pod = podSpecs(objs)['r-e'];
    expect(pod.nodeSelector).toEqual({ 'inferkit.dev/pool': 'h100' });
    expect(pod.affinity).toEqual({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [pin('h100-0', 'h100-1')] }] } } });
  });

  test('every node-affinity term the template requires gets the pin too, and its other affinity is kept', () => {
    const affinity = {
      podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname' } }] },
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }],
        },
      },
    };
    const objs = synth({
      clusterName: 'a',
      engines: [{ name: 'e', members: [{ nodePoolName: 'h100', nodeNames: ['n'], deviceRequests: [gpu], template: { spec: { ...template.spec, affinity } } }] }],
    });
    const pod = podSpecs(objs)['r-e'];
    expect(pod.affinity.podAntiAffinity).toEqual(affinity.podAntiAffinity);
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }], matchFields: [pin('n')] },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }], matchFields: [pin('n')] },
    ]);
  });

  test('without node names the pods run on any node of the pool', () => {
    const objs = synth({ clusterName: 'a', engines: [{ name: 'e', members: [{ nodePoolName: 'h100', deviceRequests: [gpu], template }] }] });
    expect(podSpecs(objs)['r-e'].affinity).toBeUndefined();
  });

  test('an empty list of nodes, or a name that is no node name, is refused', () => {
    const props = (nodeNames: string[]): ModelReplicaProps => ({
      clusterName: 'a', engines: [{ name: 'e', members: [{ nodePoolName: 'h100', nodeNames, deviceRequests: [gpu], template }] }],
    });
    expect(() => synth(props([]))).toThrow('engines[0].members[0].nodeNames [] is empty: no node could run the pods. '
      + 'Name at least one node of the pool, or leave nodeNames unset to run on any of its nodes.');
    expect(() => synth(props(['Bad_Node']))).toThrow("engines[0].members[0].nodeNames[0] 'Bad_Node'");
  });
});

describe('ModelDeployment renders the nodes of its assignments', () => {
  test('each member is pinned to the nodes its assignment names; members without nodes are not', () => {
    const md = new ModelDeployment(Testing.app(), 'llm', {
      replicas: 1,
      engines: [{
        name: 'g',
        members: [
          { role: MemberRole.LEADER, template },
          { role: MemberRole.WORKER, workerNodes: 2, deviceRequests: [{ name: 'gpu', count: 8, deviceClassName: 'gpu.nvidia.com' }], template },
        ],
      }],
      placement: Placement.assigned([{
        replica: 0, cluster: 'a', members: [{ engine: 'g', member: 0, pool: 'h100' }, { engine: 'g', member: 1, pool: 'h100', nodes: ['h100-1', 'h100-0'] }],
      }]),
    });
    const sets = Testing.synth(md.clusterChart('a')).filter(o => o.kind === 'StatefulSet');
    const serving = (o: Obj) => o.spec.template.metadata.labels['modelplane.ai/serving'] === 'true';
    const leader = sets.find(serving)!.spec.template.spec;
    const worker = sets.find(o => !serving(o))!.spec.template.spec;
    expect(leader.affinity?.nodeAffinity).toBeUndefined();
    expect(worker.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([{ matchFields: [pin('h100-0', 'h100-1')] }]);
  });
});
