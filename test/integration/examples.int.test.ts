import { Testing } from 'cdk8s';
import { buildExamples } from '../../examples/main';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeError, KubeObject } from '../harness/kube';

const kube = Kube.fromKubeconfig(process.env[KUBECONFIG_ENV]!);
afterAll(async () => {
  // The examples' GPUs go back to the shared cluster's pools for the tests after this one.
  const namespaces = new Set(Object.values(charts).flat().map(o => o.metadata.namespace as string).filter(ns => ns && ns !== 'default'));
  for (const ns of namespaces) await kube.delete('v1', 'Namespace', undefined, ns);
  await kube.waitFor('the examples\' pods to be gone', async () => ((await kube.list('v1', 'Pod')).some(p => namespaces.has(p.metadata.namespace)) ? undefined : true), 120_000);
  kube.close();
});

const app = buildExamples(Testing.app());
const charts = Object.fromEntries(app.charts.map(c => [c.node.path, Testing.synth(c) as KubeObject[]]));

const isReady = (p: KubeObject) => p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');

async function podsOf(namespace: string, selector: string, count: number): Promise<KubeObject[]> {
  return kube.waitFor(`${count} pods ${selector} in ${namespace}`, async () => {
    const pods = await kube.list('v1', 'Pod', namespace, selector);
    return pods.length === count ? pods : undefined;
  });
}

beforeAll(async () => {
  // Every namespace the examples use enforces PodSecurity `restricted` through the apiserver's own admission.
  const namespaces = new Set(Object.values(charts).flat().map(o => o.metadata.namespace as string));
  for (const ns of namespaces) await kube.apply(restrictedNamespace(ns));
});

describe('every example, applied server-side with strict field validation', () => {
  test.each(Object.keys(charts))('%s is accepted by the API server and its CRD schemas', async id => {
    for (const obj of charts[id]) {
      const applied = await kube.apply(obj);
      expect(applied.metadata.uid).toBeDefined();
    }
  });
});

describe('on the default scheduler', () => {
  test('single-gpu pods are scheduled onto L4 nodes and become Ready', async () => {
    const pods = await kube.waitFor('Ready single-gpu pods', async () => {
      const all = await podsOf('serving', 'modelinfer.matrixinfer.ai/name=mistral-7b', 2);
      return all.every(isReady) ? all : undefined;
    });
    for (const pod of pods) {
      expect(pod.spec.nodeName).toMatch(/^l4-\d$/);
      expect(pod.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe('1');
    }
    expect(pods.map(p => p.metadata.name).sort()).toEqual(['mistral-7b-0-serve-0-0', 'mistral-7b-1-serve-0-0']);
  });

  test('the headless Service of a role instance has its entry pod as endpoint, so ENTRY_ADDRESS resolves', async () => {
    const [pod] = await podsOf('serving', 'modelinfer.matrixinfer.ai/group-name=mistral-7b-1', 1);
    const slice = await kube.waitFor('an EndpointSlice with the entry pod', async () => {
      const slices = await kube.list('discovery.k8s.io/v1', 'EndpointSlice', 'serving', 'kubernetes.io/service-name=mistral-7b-1-serve-0-0');
      return slices.find(s => s.endpoints?.some((e: KubeObject) => e.targetRef?.name === pod.metadata.name));
    });
    const endpoint = slice.endpoints.find((e: KubeObject) => e.targetRef.name === pod.metadata.name);
    expect(endpoint.hostname).toBe('mistral-7b-1-serve-0-0');
    expect(endpoint.addresses).toEqual([pod.status.podIP]);
    const env = Object.fromEntries(pod.spec.containers[0].env.map((e: KubeObject) => [e.name, e.value]));
    expect(env.ENTRY_ADDRESS).toBe(`${endpoint.hostname}.${slice.metadata.labels['kubernetes.io/service-name']}.serving`);
    expect(pod.spec.hostname).toBe(endpoint.hostname);
    expect(pod.spec.subdomain).toBe('mistral-7b-1-serve-0-0');
  });

  test('any-cluster pods run on CPU-only capacity and become Ready', async () => {
    await kube.waitFor('a Ready tinyllama pod', async () => {
      const pods = await podsOf('demo', 'modelinfer.matrixinfer.ai/name=tinyllama', 1);
      return pods.every(isReady) ? pods : undefined;
    });
  });
});

describe('InferenceService', () => {
  test('each predictor\'s pods become Ready, and the route\'s weights are stored as rendered', async () => {
    for (const predictor of ['model-a-predictor', 'model-b-predictor']) {
      await kube.waitFor(`a Ready ${predictor} pod`, async () => {
        const pods = await podsOf('kubedl', `serving.kubedl.io/predictor=${predictor}`, 1);
        return pods.every(isReady) ? pods : undefined;
      });
    }
    const route = await kube.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'kubedl', 'hello-inference');
    expect(route!.spec.rules[0].backendRefs.map((b: KubeObject) => b.weight)).toEqual([90, 10]);
    const hpa = await kube.get('autoscaling/v2', 'HorizontalPodAutoscaler', 'kubedl', 'hello-inference-model-a-predictor');
    expect(hpa!.spec.scaleTargetRef.name).toBe('hello-inference-model-a-predictor');
  });
});

describe('Model', () => {
  const nodeOf = async (namespace: string, model: string): Promise<KubeObject> => {
    const [pod] = await kube.waitFor(`a Ready ${model} pod`, async () => {
      const pods = await podsOf(namespace, `model.inferkit.dev/name=${model}`, 1);
      return pods.every(isReady) ? pods : undefined;
    });
    return (await kube.get('v1', 'Node', undefined, pod.spec.nodeName))!;
  };

  test('GPU models run on nodes of their vendor and product and become Ready', async () => {
    expect((await nodeOf('models', 'qwen-7b')).metadata.labels['nvidia.com/gpu.product']).toBe('NVIDIA-L4');
    expect((await nodeOf('models', 'llama3-70b')).metadata.labels['amd.com/gpu.product-name']).toBe('AMD_Instinct_MI300X_OAM');
    for (const model of ['chat', 'batch']) {
      expect((await nodeOf('models', model)).metadata.labels['nvidia.com/gpu.product']).toBe('NVIDIA-H100-80GB-HBM3');
    }
  });

  test('a simple-form ModelInfer runs its Model\'s pods, as many as it asks for', async () => {
    await kube.waitFor('two Ready llama-7b pods', async () => {
      const pods = await podsOf('default', 'modelinfer.matrixinfer.ai/name=llama-7b-infer', 2);
      return pods.every(isReady) ? pods : undefined;
    });
    const hpa = await kube.get('autoscaling/v2', 'HorizontalPodAutoscaler', 'production', 'production-infer');
    expect(hpa!.spec.scaleTargetRef.name).toBe('production-model');
  });

  test('a CPU-only model runs, and KEDA objects are accepted by their CRDs', async () => {
    await nodeOf('models', 'llama3-8b');
    expect((await kube.get('keda.sh/v1alpha1', 'ScaledObject', 'models', 'qwen-7b'))!.spec.idleReplicaCount).toBe(0);
    expect((await kube.get('http.keda.sh/v1alpha1', 'HTTPScaledObject', 'models', 'qwen-7b'))!.spec.timeouts.conditionWait).toBe('180s');
  });
});

describe('ModelReplica', () => {
  test('the real scheduler allocates the DRA claims on the right pool and the pods become Ready', async () => {
    const standalone = await kube.waitFor('a Ready standalone replica pod', async () => {
      const pods = await podsOf('ml-team', 'modelplane.ai/replica=qwen3-8b-l4-0', 1);
      return pods.every(isReady) ? pods[0] : undefined;
    });
    expect(standalone.spec.nodeName).toMatch(/^l4-\d$/);
    const group = await kube.waitFor('Ready leader and worker pods', async () => {
      const pods = await podsOf('ml-team', 'modelplane.ai/replica=llama-405b-h100-0', 2);
      return pods.every(isReady) ? pods : undefined;
    });
    // Eight GPUs each: the leader and the worker cannot share an 8-GPU node.
    expect(new Set(group.map(p => p.spec.nodeName)).size).toBe(2);
    const claims = await kube.list('resource.k8s.io/v1', 'ResourceClaim', 'ml-team');
    const allocated = claims.filter(c => c.status?.allocation).map(c => c.status.allocation.devices.results.length).sort();
    expect(allocated).toEqual([1, 8, 8]);
  });
});

describe('ModelDeployment', () => {
  test('replicas placed at synth on the test cluster\'s L4 pool run there, each with its claim allocated', async () => {
    const pods = await kube.waitFor('two Ready qwen3-8b pods', async () => {
      const all = await podsOf('fleet-demo', 'inferkit.dev/deployment=qwen3-8b', 2);
      return all.every(isReady) ? all : undefined;
    });
    expect(pods.map(p => p.spec.nodeName)).toEqual([expect.stringMatching(/^l4-\d$/), expect.stringMatching(/^l4-\d$/)]);
    const claims = await kube.list('resource.k8s.io/v1', 'ResourceClaim', 'fleet-demo');
    const mine = claims.filter(c => pods.some(p => c.metadata.ownerReferences?.[0]?.uid === p.metadata.uid));
    expect(mine.map(c => c.status?.allocation?.devices?.results?.[0]?.pool).sort()).toEqual(pods.map(p => p.spec.nodeName).sort());
  });
});

describe('on Volcano, which this cluster does not run', () => {
  test('the seed sample\'s pods are admitted as restricted pods and wait for their gang scheduler', async () => {
    // The StatefulSet controller creates the pods only if PodSecurity admission lets them in.
    const pods = await podsOf('default', 'modelinfer.matrixinfer.ai/name=sample', 8);
    for (const pod of pods) {
      expect(pod.spec.schedulerName).toBe('volcano');
      expect(pod.metadata.annotations['scheduling.k8s.io/group-name']).toBe('sample-0');
      expect(pod.spec.nodeName).toBeUndefined();
    }
    expect(pods.map(p => p.metadata.name).sort()).toEqual([
      'sample-0-decode-0-0', 'sample-0-decode-0-w-1', 'sample-0-decode-0-w-2', 'sample-0-decode-0-w-3',
      'sample-0-prefill-0-0', 'sample-0-prefill-0-w-1', 'sample-0-prefill-0-w-2', 'sample-0-prefill-0-w-3',
    ]);
    const worker = pods.find(p => p.metadata.name === 'sample-0-decode-0-w-2')!;
    expect(worker.metadata.labels['apps.kubernetes.io/pod-index']).toBe('2');
  });
});

describe('negative controls: the checks are known to bite', () => {
  test('an object with an unknown field is rejected by strict field validation', async () => {
    const sts = charts['seed-sample'].find(o => o.kind === 'StatefulSet')!;
    const bad = { ...sts, metadata: { ...sts.metadata, name: 'unknown-field' }, spec: { ...sts.spec, replicaz: 2 } };
    await expect(kube.apply(bad, { dryRun: true })).rejects.toThrow('.spec.replicaz: field not declared in schema');
  });

  test('a custom resource with an unknown field is rejected against its CRD schema', async () => {
    const pg = charts['seed-sample'].find(o => o.kind === 'PodGroup')!;
    const bad = { ...pg, metadata: { ...pg.metadata, name: 'unknown-field' }, spec: { ...pg.spec, minMembers: 3 } };
    await expect(kube.apply(bad, { dryRun: true })).rejects.toThrow('.spec.minMembers: field not declared in schema');
  });

  test('a pod that breaks the restricted profile is rejected by PodSecurity admission', async () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'privileged', namespace: 'default' },
      spec: { containers: [{ name: 'c', image: 'nginx', securityContext: { privileged: true } }] },
    };
    const error = await kube.apply(pod, { dryRun: true }).catch(e => e);
    expect(error).toBeInstanceOf(KubeError);
    expect((error as KubeError).status).toBe(403);
    expect(error.message).toContain('violates PodSecurity "restricted:latest"');
  });
});
