import { NODE_POOLS, POOL_LABEL, restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';

const kube = Kube.fromKubeconfig(process.env[KUBECONFIG_ENV]!);
afterAll(() => kube.close());

const restricted = {
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  containerSecurity: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
};

describe('the fake GPU fleet', () => {
  test('every pool\'s nodes are Ready with their GPU capacity, feature-discovery labels and pool label', async () => {
    const nodes = await kube.list('v1', 'Node');
    for (const pool of NODE_POOLS) {
      const mine = nodes.filter(n => n.metadata.labels[POOL_LABEL] === pool.name);
      expect(mine).toHaveLength(pool.nodes);
      for (const n of mine) {
        expect(n.metadata.labels).toMatchObject(pool.labels);
        expect(n.status.allocatable).toMatchObject(pool.capacity);
        expect(n.status.conditions.find((c: KubeObject) => c.type === 'Ready').status).toBe('True');
      }
    }
  });

  test('the real kube-scheduler allocates a DRA claim from the fake ResourceSlices, honouring its CEL selector', async () => {
    await kube.apply(restrictedNamespace('dra'));
    await kube.apply({
      apiVersion: 'resource.k8s.io/v1',
      kind: 'ResourceClaimTemplate',
      metadata: { name: 'one-l4', namespace: 'dra' },
      spec: {
        spec: {
          devices: {
            requests: [{
              name: 'gpu',
              exactly: {
                deviceClassName: 'gpu.nvidia.com',
                selectors: [{ cel: { expression: "device.attributes['gpu.nvidia.com'].productName == 'NVIDIA L4' && device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('20Gi')) >= 0" } }],
              },
            }],
          },
        },
      },
    });
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'dra-l4', namespace: 'dra' },
      spec: {
        securityContext: restricted.securityContext,
        resourceClaims: [{ name: 'gpu', resourceClaimTemplateName: 'one-l4' }],
        containers: [{ name: 'c', image: 'nginx', securityContext: restricted.containerSecurity, resources: { claims: [{ name: 'gpu' }] } }],
      },
    });
    const pod = await kube.waitFor('the DRA pod to be scheduled and Ready', async () => {
      const p = await kube.get('v1', 'Pod', 'dra', 'dra-l4');
      return p?.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    });
    expect(pod.spec.nodeName).toMatch(/^l4-\d$/);
    const [claim] = await kube.list('resource.k8s.io/v1', 'ResourceClaim', 'dra');
    expect(claim.status.allocation.devices.results).toEqual([
      expect.objectContaining({ request: 'gpu', driver: 'gpu.nvidia.com', pool: pod.spec.nodeName, device: expect.stringMatching(/^gpu-\d$/) }),
    ]);
  });
});
