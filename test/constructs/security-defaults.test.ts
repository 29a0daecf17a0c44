// Safer output by default: the containers inferkit adds (downloads, sidecars) ask for resources and download with a
// pinned image that already has the downloader; pods hold no ServiceAccount token they do not use.
import { Chart, Size, Testing } from 'cdk8s';
import { CacheStrategy, Model, ModelCache, ModelInfer, ModelInferProps, ModelProps, RolloutLevel } from '../../index';

type Obj = Record<string, any>;

function synth(props: ModelProps): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'llm' });
  new Model(chart, 'm', props);
  return Testing.synth(chart);
}
const find = (objs: Obj[], kind: string, name: string): Obj => objs.find(x => x.kind === kind && x.metadata.name === name)!;
const SHARED = { backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: {}, cache: { strategy: CacheStrategy.SHARED_PVC, storageClass: 'nfs', size: Size.gibibytes(50) } };

describe('the download containers', () => {
  test('a Model\'s prefetch runs the pinned downloader image with python, installs nothing at start, and asks for resources', () => {
    const job = find(synth(SHARED), 'Job', 'm-prefetch').spec.template.spec;
    const c = job.containers[0];
    expect(c.image).toBe('kserve/storage-initializer:v0.15.2');
    expect(c.command[0]).toBe('python');
    expect(c.command.join(' ')).not.toMatch(/pip|install/);
    expect(c.command[2]).toContain('from huggingface_hub import snapshot_download');
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' } });
    expect(job.automountServiceAccountToken).toBe(false);
  });

  test('podDefaults.downloaderImage overrides the downloader image', () => {
    const objs = synth({ ...SHARED, podDefaults: { downloaderImage: 'registry.example/hf:1.0' } });
    expect(find(objs, 'Job', 'm-prefetch').spec.template.spec.containers[0].image).toBe('registry.example/hf:1.0');
  });

  test('the init container that downloads beside a model server asks for resources too, and the pod holds no token', () => {
    const spec = find(synth({ backend: 'vllm', source: 'hf://Qwen/Qwen2.5-7B', gpu: {} }), 'Deployment', 'm').spec.template.spec;
    expect(spec.initContainers[0]).toMatchObject({ image: 'kserve/storage-initializer:v0.15.2', resources: { requests: { cpu: '250m', memory: '512Mi' } } });
    expect(spec.automountServiceAccountToken).toBe(false);
  });

  test('an Ollama pull asks for resources', () => {
    const spec = find(synth({ backend: 'ollama', source: 'ollama://llama3:8b' }), 'Deployment', 'm').spec.template.spec;
    expect(spec.initContainers[0].resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' } });
  });

  test('a ModelCache hydrates with the pinned image, or the one podDefaults names, with requests and no token', () => {
    const hydrate = (downloaderImage?: string) => {
      const chart = new Chart(Testing.app(), 'test', { namespace: 'llm' });
      new ModelCache(chart, 'cache', { name: 'qwen3-8b', repo: 'Qwen/Qwen3-8B', sizeGiB: 20, ...(downloaderImage ? { podDefaults: { downloaderImage } } : {}) });
      return find(Testing.synth(chart), 'Job', 'qwen3-8b-hydrate').spec.template.spec;
    };
    const spec = hydrate();
    expect(spec.containers[0]).toMatchObject({ image: 'kserve/storage-initializer:v0.15.2', command: ['python', '-c', expect.any(String)], resources: { requests: { cpu: '250m', memory: '512Mi' } } });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(hydrate('registry.example/hf:1.0').containers[0].image).toBe('registry.example/hf:1.0');
  });
});

describe('a ModelInfer\'s disruption budget and network policy', () => {
  const nginx = (name: string, port = 8080) => ({ spec: { containers: [{ name, image: 'nginx', ports: [{ containerPort: port }] }] } });
  function synthInfer(props: Partial<ModelInferProps>): Obj[] {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'serving' });
    new ModelInfer(chart, 'llama', { replicas: 4, roles: [{ name: 'serve', entryTemplate: nginx('e'), workerReplicas: 1, workerTemplate: nginx('w', 9000) }], ...props });
    return Testing.synth(chart);
  }
  const podsOf = (objs: Obj[]) => objs.filter(o => o.kind === 'StatefulSet').map(o => o.spec.template.metadata.labels);

  test('one PodDisruptionBudget selects every group\'s pods, with the rollout budget of groups as pods: a drain breaks no more groups than a rollout', () => {
    const objs = synthInfer({ rolloutStrategy: { maxUnavailable: '50%' } });
    const pdbs = objs.filter(o => o.kind === 'PodDisruptionBudget');
    expect(pdbs.map(p => p.metadata.name)).toEqual(['llama']);
    expect(pdbs[0].metadata.namespace).toBe('serving');
    expect(pdbs[0].spec).toEqual({
      selector: { matchLabels: { 'rollout.inferkit.dev/set': 'modelinfer.llama' } },
      maxUnavailable: 2,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    // Every pod of every group, entry and workers, is under it, and under no other budget.
    const pods = podsOf(objs);
    expect(pods).toHaveLength(8);
    expect(pods.every(l => l['rollout.inferkit.dev/set'] === 'modelinfer.llama')).toBe(true);
  });

  test('with role-level rolling, each role\'s instances in a group have their own budget: the role\'s maxUnavailable', () => {
    const objs = synthInfer({
      replicas: 2,
      rolloutStrategy: { level: RolloutLevel.ROLE },
      roles: [{ name: 'serve', replicas: 3, maxUnavailable: 1, entryTemplate: nginx('e') }],
    });
    const pdbs = objs.filter(o => o.kind === 'PodDisruptionBudget');
    expect(pdbs.map(p => [p.metadata.name, p.spec.selector.matchLabels['rollout.inferkit.dev/set'], p.spec.maxUnavailable])).toEqual([
      ['llama-0-serve', 'modelinfer.llama-0-serve', 1],
      ['llama-1-serve', 'modelinfer.llama-1-serve', 1],
    ]);
    for (const labels of podsOf(objs)) expect(pdbs.filter(p => p.spec.selector.matchLabels['rollout.inferkit.dev/set'] === labels['rollout.inferkit.dev/set'])).toHaveLength(1);
  });

  test('podDefaults.disruptionBudget: false renders none', () => {
    expect(synthInfer({ podDefaults: { disruptionBudget: false } }).some(o => o.kind === 'PodDisruptionBudget')).toBe(false);
  });

  test('no NetworkPolicy unless asked', () => {
    expect(synthInfer({}).some(o => o.kind === 'NetworkPolicy')).toBe(false);
  });

  test('podDefaults.networkPolicy admits the serving ports from anywhere, and its own pods and the endpoint pickers on any port', () => {
    const objs = synthInfer({ podDefaults: { networkPolicy: true } });
    const policy = objs.find(o => o.kind === 'NetworkPolicy')!;
    expect(policy.metadata).toMatchObject({ name: 'llama', namespace: 'serving' });
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: { 'modelinfer.matrixinfer.ai/name': 'llama' } },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: { 'modelinfer.matrixinfer.ai/name': 'llama' } } }] },
        { from: [{ podSelector: { matchExpressions: [{ key: 'inferencepool', operator: 'Exists' }] } }] },
        { ports: [{ protocol: 'TCP', port: 8080 }] },
      ],
    });
    // The policy selects every pod of the ModelInfer.
    for (const labels of podsOf(objs)) expect(labels).toMatchObject(policy.spec.podSelector.matchLabels);
  });
});

describe('a Model\'s network policy', () => {
  test('none unless asked; podDefaults.networkPolicy admits its Service ports from anywhere, its own pods and the pickers', () => {
    expect(synth(SHARED).some(o => o.kind === 'NetworkPolicy')).toBe(false);
    const objs = synth({ ...SHARED, podDefaults: { networkPolicy: true } });
    const policy = objs.find(o => o.kind === 'NetworkPolicy')!;
    const pods = find(objs, 'Deployment', 'm').spec.selector.matchLabels;
    expect(policy.metadata).toMatchObject({ name: 'm', namespace: 'llm' });
    expect(policy.spec).toEqual({
      podSelector: { matchLabels: pods },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: pods } }] },
        { from: [{ podSelector: { matchExpressions: [{ key: 'inferencepool', operator: 'Exists' }] } }] },
        { ports: find(objs, 'Service', 'm').spec.ports.map((p: Obj) => ({ protocol: 'TCP', port: p.port })) },
      ],
    });
  });
});
