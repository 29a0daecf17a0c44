import { Chart, Testing } from 'cdk8s';
import { KubernetesVersion, MemberRole, ModelReplica, ModelReplicaProps } from '../../index';

type Obj = Record<string, any>;

const engineTemplate = { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0', args: ['--model=Qwen/Qwen3-8B'] }] } };
const standalone = (extra: Partial<ModelReplicaProps> = {}): ModelReplicaProps => ({
  clusterName: 'eks-l4',
  engines: [{
    name: 'qwen3-8b',
    members: [{
      role: MemberRole.STANDALONE,
      nodePoolName: 'l4',
      deviceRequests: [{ name: 'gpu', count: 1, deviceClassName: 'gpu.nvidia.com', selectors: ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('20Gi')) >= 0"] }],
      template: engineTemplate,
    }],
  }],
  ...extra,
});

function synth(props: ModelReplicaProps): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'ml-team' });
  new ModelReplica(chart, 'qwen3-8b-eks-l4-0', props);
  return Testing.synth(chart);
}
const find = (objs: Obj[], kind: string, name?: string) => objs.find(o => o.kind === kind && (!name || o.metadata.name === name))!;

describe('ModelReplica', () => {
  test('a Standalone engine claims its devices through a DRA ResourceClaimTemplate (resource.k8s.io/v1 on 1.34)', () => {
    const objs = synth(standalone());
    const rct = find(objs, 'ResourceClaimTemplate');
    expect(rct.apiVersion).toBe('resource.k8s.io/v1');
    expect(rct.metadata.name).toBe('qwen3-8b-eks-l4-0-qwen3-8b-standalone');
    expect(rct.spec.spec.devices.requests).toEqual([{
      name: 'gpu',
      exactly: { deviceClassName: 'gpu.nvidia.com', allocationMode: 'ExactCount', count: 1, selectors: [{ cel: { expression: "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('20Gi')) >= 0" } }] },
    }]);
    const dep = find(objs, 'Deployment');
    const pod = dep.spec.template.spec;
    expect(dep.spec.replicas).toBe(1);
    expect(pod.resourceClaims).toEqual([{ name: 'devices', resourceClaimTemplateName: 'qwen3-8b-eks-l4-0-qwen3-8b-standalone' }]);
    expect(pod.containers[0].resources.claims).toEqual([{ name: 'devices' }]);
    expect(pod.nodeSelector).toEqual({ 'inferkit.dev/pool': 'l4' });
    expect(pod.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(pod.containers[0].ports).toEqual([{ containerPort: 8000 }]);
    expect(pod.containers[0].readinessProbe).toEqual({ httpGet: { path: '/health', port: 8000 }, initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5 });
    expect(pod.volumes).toContainEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } });
    expect(dep.metadata.labels['modelplane.ai/cluster']).toBe('eks-l4');
    expect(find(objs, 'Service').spec.selector).toEqual({ 'modelplane.ai/replica': 'qwen3-8b-eks-l4-0', 'modelplane.ai/serving': 'true' });
  });

  test.each([
    [KubernetesVersion.V1_33, 'resource.k8s.io/v1beta2', (r: Obj) => r.exactly.deviceClassName],
    [KubernetesVersion.V1_32, 'resource.k8s.io/v1beta1', (r: Obj) => r.deviceClassName],
  ])('on Kubernetes %s the claim uses %s', (version, apiVersion, deviceClass) => {
    const rct = find(synth(standalone({ kubernetesVersion: version })), 'ResourceClaimTemplate');
    expect(rct.apiVersion).toBe(apiVersion);
    expect(deviceClass(rct.spec.spec.devices.requests[0])).toBe('gpu.nvidia.com');
  });

  test('a Leader/Worker engine is a leader/worker group per copy, each member claiming 8 GPUs on its pool', () => {
    const objs = synth({
      clusterName: 'gke-h100',
      engines: [{
        name: 'llama-405b',
        copies: 2,
        members: [
          { role: MemberRole.LEADER, nodePoolName: 'h100', deviceRequests: [{ name: 'gpus', count: 8, deviceClassName: 'gpu.nvidia.com' }], template: engineTemplate },
          { role: MemberRole.WORKER, nodePoolName: 'h100', workerNodes: 1, deviceRequests: [{ name: 'gpus', count: 8, deviceClassName: 'gpu.nvidia.com' }], template: engineTemplate },
        ],
      }],
    });
    expect(objs.filter(o => o.kind === 'StatefulSet').map(o => o.metadata.name).sort()).toEqual([
      'qwen3-8b-eks-l4-0-llama-405b-0-engine-0', 'qwen3-8b-eks-l4-0-llama-405b-0-engine-0-w',
      'qwen3-8b-eks-l4-0-llama-405b-0-engine-1', 'qwen3-8b-eks-l4-0-llama-405b-0-engine-1-w',
    ]);
    expect(objs.filter(o => o.kind === 'ResourceClaimTemplate').map(o => o.metadata.name).sort()).toEqual([
      'qwen3-8b-eks-l4-0-llama-405b-leader', 'qwen3-8b-eks-l4-0-llama-405b-worker',
    ]);
    const worker = find(objs, 'StatefulSet', 'qwen3-8b-eks-l4-0-llama-405b-0-engine-0-w').spec.template;
    expect(worker.spec.resourceClaims).toEqual([{ name: 'devices', resourceClaimTemplateName: 'qwen3-8b-eks-l4-0-llama-405b-worker' }]);
    expect(worker.spec.containers[0].readinessProbe).toBeUndefined();
    expect(worker.metadata.labels['modelplane.ai/serving']).toBeUndefined();
    expect(objs.some(o => o.kind === 'PodGroup')).toBe(false);
  });

  test.each<[string, Partial<ModelReplicaProps>, string]>([
    ['9 engines', { engines: Array.from({ length: 9 }, (_, i) => ({ name: `e${i}`, members: [{ nodePoolName: 'l4', template: engineTemplate }] })) },
      'Unable to synthesize test/qwen3-8b-eks-l4-0: engines 9 is outside 1 to 8: a replica runs one to 8 engines. Give 1 to 8 engines; put further models in another deployment.'],
    ['a Worker without a Leader', { engines: [{ name: 'e', members: [{ role: MemberRole.WORKER, workerNodes: 1, nodePoolName: 'h100', template: engineTemplate }] }] },
      "engines[0].members 'Worker' has a Worker without a Leader: workers join a leader pod. Give one Standalone member, or one Leader and one Worker."],
    ['a Worker without its node count', { engines: [{ name: 'e', members: [{ role: MemberRole.LEADER, nodePoolName: 'h100', template: engineTemplate }, { role: MemberRole.WORKER, nodePoolName: 'h100', template: engineTemplate }] }] },
      'engines[0].members[1].workerNodes is missing. Give the number of worker nodes, 1 to 63.'],
    ['65 copies', { engines: [{ name: 'e', copies: 65, members: [{ nodePoolName: 'l4', template: engineTemplate }] }] },
      'engines[0].copies 65 is outside 1 to 64. Scale with replicas; copies is a fixed number per replica.'],
    ['two containers', { engines: [{ name: 'e', members: [{ nodePoolName: 'l4', template: { spec: { containers: [{ name: 'engine', image: 'a' }, { name: 'sidecar', image: 'b' }] } } }] }] },
      'engines[0].members[0].template.spec.containers must hold exactly one container (the engine). Keep one container in the template.'],
    ['a CEL selector that does not compile', { engines: [{ name: 'e', members: [{ nodePoolName: 'l4', deviceRequests: [{ name: 'gpu', deviceClassName: 'gpu.nvidia.com', selectors: ['device.driver =='] }], template: engineTemplate }] }] },
      "engines[0].members[0].deviceRequests[0].selectors[0] 'device.driver ==' of request 'gpu' is not a valid device selector: Unexpected token: EOF"],
    ['an engine that claims no devices', { engines: [{ name: 'e', members: [{ nodePoolName: 'l4', template: engineTemplate }] }] },
      "engines[0].members 'e' claims no devices in any member. Give at least one member device requests; a coordinator-only Leader may claim none."],
  ])('%s is refused', (_, extra, message) => {
    expect(() => synth(standalone(extra))).toThrow(message);
  });
});
