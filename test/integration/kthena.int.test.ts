import * as path from 'path';
import { Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { main } from '../../cli/inferkit';
import { KTHENA_EXAMPLES } from '../../examples/kthena';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';

const kube = Kube.fromKubeconfig(process.env[KUBECONFIG_ENV]!);
afterAll(async () => {
  // The backends' GPUs go back to the shared cluster's pools for the tests after this one.
  for (const ns of ['kthena', 'kthena-v0', 'kthena-seed', 'kthena-today']) await kube.delete('v1', 'Namespace', undefined, ns);
  await kube.waitFor('the Kthena pods to be gone', async () => ((await kube.list('v1', 'Pod')).some(p => p.metadata.namespace.startsWith('kthena')) ? undefined : true), 120_000);
  kube.close();
});

const isReady = (p: KubeObject) => p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True');
const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');

/** `inferkit synth -f <file> --gateway`, moved into `namespace`. */
function synth(file: string, namespace: string): KubeObject[] {
  let out = '';
  const code = main(['synth', '-f', path.join(manifests, file), '--gateway', `${namespace}/inference-gateway`], s => { out += s; }, () => undefined);
  expect(code).toBe(0);
  return parseAllDocuments(out).map(d => d.toJS()).map(o => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

async function readyPods(namespace: string, selector: string, count: number): Promise<KubeObject[]> {
  return kube.waitFor(`${count} Ready pods ${selector} in ${namespace}`, async () => {
    const pods = await kube.list('v1', 'Pod', namespace, selector);
    return pods.length === count && pods.every(isReady) ? pods : undefined;
  });
}

const app = Testing.app();
for (const build of Object.values(KTHENA_EXAMPLES)) build(app);
const examples = app.charts.flatMap(c => Testing.synth(c) as KubeObject[]);
const loaded = [
  ...synth('kthena-model-lora.yaml', 'kthena-v0'),
  ...synth('kthena-modelinfer-simple.yaml', 'kthena-seed'),
  ...synth('kthena-modelbooster.yaml', 'kthena-today'),
];

beforeAll(async () => {
  for (const ns of ['kthena', 'kthena-v0', 'kthena-seed', 'kthena-today']) await kube.apply(restrictedNamespace(ns));
});

describe('Kthena Models, AutoscalingPolicies, ModelServers and ModelRoutes', () => {
  test('every object of the examples and of the loaded manifests is accepted with strict field validation under PodSecurity restricted', async () => {
    for (const obj of [...examples, ...loaded]) {
      const applied = await kube.apply(obj);
      expect(applied.metadata.uid).toBeDefined();
    }
  });

  test('each backend\'s pods, with their LoRA adapters, are scheduled on their GPU product and become Ready', async () => {
    const [h100] = await readyPods('kthena', 'model.inferkit.dev/name=qwen-h100', 1);
    const [l4] = await readyPods('kthena', 'model.inferkit.dev/name=qwen-l4', 1);
    expect(h100.spec.nodeName).toMatch(/^h100-\d$/);
    expect(l4.spec.nodeName).toMatch(/^l4-\d$/);
    expect(h100.spec.initContainers.map((c: KubeObject) => c.name)).toEqual(['prefetch', 'lora-sql-lora', 'lora-support-lora']);
    expect(h100.spec.containers[0].args).toEqual(expect.arrayContaining(['--enable-lora', '--lora-modules', 'sql-lora=/lora/sql-lora']));
    await readyPods('kthena-v0', 'model.inferkit.dev/name=qwen-a100', 1);
    await readyPods('kthena-v0', 'model.inferkit.dev/name=qwen-l4', 1);
    await readyPods('kthena-today', 'model.inferkit.dev/name=deepseek-vllm', 1);
  });

  test('the HPA of an AutoscalingPolicy bound to a ModelInfer points at the Deployment that runs it, and the apiserver keeps its behavior', async () => {
    await readyPods('kthena-seed', 'modelinfer.matrixinfer.ai/name=llama-7b-infer', 1);
    for (const [namespace, name] of [['kthena-seed', 'llama-7b-infer'], ['kthena', 'llama-infer-scaling'], ['kthena-today', 'deepseek'], ['kthena-v0', 'qwen-a100']]) {
      const hpa = await kube.get('autoscaling/v2', 'HorizontalPodAutoscaler', namespace, name);
      const target = await kube.get('apps/v1', 'Deployment', namespace, hpa!.spec.scaleTargetRef.name);
      expect(target!.metadata.uid).toBeDefined();
    }
    const hpa = await kube.get('autoscaling/v2', 'HorizontalPodAutoscaler', 'kthena-seed', 'llama-7b-infer');
    expect(hpa!.spec.scaleTargetRef.name).toBe('llama-7b-vllm');
    expect(hpa!.spec.behavior.scaleUp.policies).toContainEqual({ type: 'Percent', value: 500, periodSeconds: 10 });
    expect(hpa!.spec.behavior.scaleDown.stabilizationWindowSeconds).toBe(180);
  });

  test('the ModelRoute\'s HTTPRoute splits 80/20 between the backends\' InferencePools', async () => {
    const route = await kube.get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'kthena', 'qwen');
    expect(route!.spec.rules[0].backendRefs.map((b: KubeObject) => [b.kind, b.name, b.weight])).toEqual([['InferencePool', 'qwen-h100', 80], ['InferencePool', 'qwen-l4', 20]]);
    const pool = await kube.get('inference.networking.k8s.io/v1', 'InferencePool', 'kthena', 'qwen-l4');
    expect(pool!.spec.selector.matchLabels).toEqual({ 'model.inferkit.dev/name': 'qwen-l4' });
  });
});
