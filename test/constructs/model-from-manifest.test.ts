import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { parse, parseAllDocuments } from 'yaml';
import { CacheStrategy, Manifest, Model, ModelInfer, ModelProps, Warnings } from '../../index';
import { durationSeconds } from '../../src';
import { messageOf } from '../_helpers';

type Obj = Record<string, any>;
const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');

function load(...docs: Manifest[]) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'models' });
  const models = docs.map((d, i) => Model.fromManifest(chart, `m${i}`, d));
  return { chart, models, objs: Testing.synth(chart) as Obj[], warnings: Warnings.of(chart).all };
}
const fromManifest = (doc: Manifest) => load(doc).objs;
function construct(props: ModelProps) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'models' });
  new Model(chart, 'm0', props);
  return Testing.synth(chart);
}
const doc = (spec: Record<string, unknown>, name = 'qwen'): Manifest => ({ apiVersion: 'ai.flexinfer/v1alpha2', kind: 'Model', metadata: { name }, spec });
const yamlDocs = (text: string): Manifest[] => parseAllDocuments(text).map(d => d.toJSON() as Manifest);
const errorOf = (d: Manifest): string => messageOf(() => fromManifest(d));
const find = (objs: Obj[], kind: string, name?: string): Obj => {
  const o = objs.find(x => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!o) throw new Error(`no ${kind} ${name ?? ''} in ${objs.map(x => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};
const podOf = (objs: Obj[], name?: string) => find(objs, 'Deployment', name).spec.template.spec;

/** FlexInfer's scale-to-zero defaults: idle 5 minutes (10 for image backends), 60s cold start, none kept warm. */
const SERVERLESS_DEFAULTS = { idleTimeout: Duration.minutes(5), coldStartTimeout: Duration.seconds(60), minReplicas: 0, maxReplicas: 1 };
const GPU_TOLERATION = { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' };

describe('loading FlexInfer Models: the published v1alpha2 CRD and its defaults', () => {
  test('the seed\'s minimal Model scales to zero, as FlexInfer\'s CRD defaults it, and keeps Ollama\'s own store', () => {
    const seed = parse(fs.readFileSync(path.join(manifests, 'model-basic.yaml'), 'utf8'));
    const objs = fromManifest(seed);
    expect(objs).toEqual(construct({ name: 'llama3-8b', backend: 'ollama', source: 'ollama://llama3:8b', serverless: SERVERLESS_DEFAULTS }));
    expect(find(objs, 'Deployment').spec.replicas).toBeUndefined();
    expect(find(objs, 'ScaledObject').spec).toMatchObject({ idleReplicaCount: 0, minReplicaCount: 1, maxReplicaCount: 1, cooldownPeriod: 300 });
    expect(find(objs, 'HTTPScaledObject').spec).toMatchObject({ replicas: { min: 0, max: 1 }, scaledownPeriod: 300, timeouts: { conditionWait: '60s' } });
    // Ollama gets no cache claim from FlexInfer, so none is defaulted; CPU-only, so no GPU toleration.
    expect(objs.some(o => o.kind === 'PersistentVolumeClaim')).toBe(false);
    expect(podOf(objs).tolerations).toBeUndefined();
  });

  test('serverless.enabled: false runs one replica; minReplicas keeps the model warm', () => {
    expect(find(fromManifest(doc({ backend: 'vllm', source: 'HF://Qwen/Qwen2.5-7B', gpu: { vendor: 'nvidia' }, serverless: { enabled: false } })), 'Deployment')
      .spec.replicas).toBe(1);
    const warm = fromManifest(doc({ backend: 'vllm', source: 'HF://Qwen/Qwen2.5-7B', gpu: { vendor: 'nvidia' }, serverless: { minReplicas: 1 } }));
    expect(find(warm, 'ScaledObject').spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 1 });
    expect(find(warm, 'HTTPScaledObject').spec.replicas).toEqual({ min: 1, max: 1 });
  });

  test('a GPU model gets the CRD\'s cache defaults (a 50Gi longhorn SharedPVC) and the controller\'s GPU toleration before its own', () => {
    const objs = fromManifest(doc({
      backend: 'vllm',
      source: 'HF://Qwen/Qwen2.5-7B',
      gpu: { vendor: 'nvidia' },
      tolerations: [{ key: 'gpu-node', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }],
    }));
    expect(find(objs, 'PersistentVolumeClaim', 'qwen-cache').spec).toEqual({
      accessModes: ['ReadWriteMany'], storageClassName: 'longhorn', resources: { requests: { storage: '50Gi' } },
    });
    expect(find(objs, 'Job', 'qwen-prefetch')).toBeDefined();
    expect(podOf(objs).tolerations).toEqual([GPU_TOLERATION, { key: 'gpu-node', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }]);
  });

  test('FlexInfer\'s shared-group example: Memory caches, priority 100 by default, image backends idle 10 minutes, PriorityClasses with a warning', () => {
    const { objs, warnings } = load(...yamlDocs(`
apiVersion: ai.flexinfer/v1alpha2
kind: Model
metadata:
  name: imagegen
spec:
  backend: diffusers
  image: registry.example.com/diffusers-api:cuda
  source: HF://black-forest-labs/FLUX.1-schnell
  gpu:
    vendor: nvidia
    shared: my-gpu-group
    priority: 200
  serviceLabels: [image-gen, text-to-image]
---
apiVersion: ai.flexinfer/v1alpha2
kind: Model
metadata:
  name: textgen
spec:
  backend: vllm
  source: HF://Qwen/Qwen2.5-7B
  gpu:
    vendor: nvidia
    shared: my-gpu-group
`));
    expect(podOf(objs, 'imagegen').priorityClassName).toBe('inferkit-my-gpu-group-p200');
    expect(podOf(objs, 'textgen').priorityClassName).toBe('inferkit-my-gpu-group-p100');
    expect(podOf(objs, 'textgen').volumes).toContainEqual({ name: 'models', emptyDir: { medium: 'Memory' } });
    expect(find(objs, 'ScaledObject', 'imagegen').spec.cooldownPeriod).toBe(600);
    expect(find(objs, 'ScaledObject', 'textgen').spec.cooldownPeriod).toBe(300);
    expect(warnings).toEqual(['imagegen', 'textgen'].map(m => `Warning: Model/${m} spec.gpu.shared 'my-gpu-group': FlexInfer time-shares one GPU among the ` +
      'models of a group, loading the one in demand and swapping by priority; inferkit approximates the group with PriorityClasses, so each model holds ' +
      'GPUs of its own and a higher priority preempts a lower one only when the nodes are full. Size the GPU nodes for every model of the group at once, ' +
      'or remove gpu.shared.'));
  });

  test('a priority outside a shared group changes nothing, as in FlexInfer', () => {
    const objs = fromManifest(doc({ backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia', priority: 500 } }));
    expect(podOf(objs).priorityClassName).toBeUndefined();
    expect(objs.some(o => o.kind === 'PriorityClass')).toBe(false);
  });

  // The ROCm vLLM image is built for Instinct GPUs (gfx90a, gfx942) only: an RX 7900 XTX (gfx1100) needs an image of its own.
  test.each<[string, string, string, string]>([
    ['vllm', 'HF://meta-llama/Llama-3.1-8B', 'gfx942', 'rocm/vllm:'],
    ['ollama', 'ollama://llama3:8b', 'gfx1100', 'ollama/ollama:0.12.6-rocm'],
    ['llamacpp', 'HF://mradermacher/Stable-DiffCoder-8B-Instruct-i1-GGUF', 'gfx1100', 'ghcr.io/ggml-org/llama.cpp:server-rocm-'],
  ])('AMD GPUs get the ROCm image of %s (FlexInfer\'s AMD example)', (backend, source, arch, image) => {
    const objs = fromManifest(doc({
      backend,
      source,
      nodeSelector: { 'gpu.amd.com/gpu-architecture': arch },
      gpu: { vendor: 'amd', count: 1, vramEstimateMB: 6000 },
      ...(backend === 'llamacpp' ? { config: { ggufFile: 'Stable-DiffCoder-8B-Instruct.Q4_K_M.gguf' } } : {}),
    }));
    const pod = podOf(objs);
    expect(pod.containers[0].image.startsWith(image)).toBe(true);
    expect(pod.containers[0].resources.limits).toEqual({ 'amd.com/gpu': 1 });
  });

  test('FlexInfer\'s llama.cpp NVIDIA example: its config keys become llama-server flags, idle 5 minutes, service labels', () => {
    const objs = fromManifest(yamlDocs(`
apiVersion: ai.flexinfer/v1alpha2
kind: Model
metadata:
  name: stable-diffcoder
spec:
  backend: llamacpp
  source: HF://mradermacher/Stable-DiffCoder-8B-Instruct-i1-GGUF
  gpu:
    vendor: nvidia
    count: 1
    vramEstimateMB: 6000
  cache:
    strategy: Memory
  config:
    ggufFile: Stable-DiffCoder-8B-Instruct.i1-Q4_K_M.gguf
    contextSize: 4096
    nGPULayers: 999
    batchSize: 512
    flashAttention: true
  serverless:
    idleTimeout: 5m
  serviceLabels: [code, textgen]
`)[0]);
    const pod = podOf(objs);
    expect(pod.containers[0].image).toBe('ghcr.io/ggml-org/llama.cpp:server-cuda-b9014');
    expect(pod.containers[0].args).toEqual(['--model', '/models/mradermacher/Stable-DiffCoder-8B-Instruct-i1-GGUF/Stable-DiffCoder-8B-Instruct.i1-Q4_K_M.gguf',
      '--alias', 'stable-diffcoder', '--host', '0.0.0.0', '--port', '8080', '--metrics',
      '--batch-size', '512', '--ctx-size', '4096', '--flash-attn', 'on', '--n-gpu-layers', '999']);
    expect(pod.tolerations).toEqual([GPU_TOLERATION]);
    expect(find(objs, 'ScaledObject').spec.cooldownPeriod).toBe(300);
    expect(find(objs, 'Service', 'stable-diffcoder').metadata.annotations).toEqual({ 'model.inferkit.dev/service-labels': 'code,textgen' });
  });

  test('vendor auto follows the CRD\'s gpu-vendor node label; without it, the choice of NVIDIA at synth is a warning', () => {
    const amd = load(doc({ backend: 'vllm', source: 'HF://org/model', gpu: {}, nodeSelector: { 'node.flexstack.io/gpu-vendor': 'amd' } }));
    expect(podOf(amd.objs).containers[0].image).toMatch(/^rocm\/vllm:/);
    expect(amd.warnings).toEqual([]);
    expect(load(doc({ backend: 'vllm', source: 'HF://org/model', gpu: {} })).warnings).toEqual([
      "Warning: Model/qwen spec.gpu.vendor 'auto': FlexInfer picks the vendor of the GPU nodes it finds at run time; inferkit decides at synth and, " +
      'without a product, runs the NVIDIA image on NVIDIA nodes. Set spec.gpu.vendor to nvidia or amd.',
    ]);
  });

  // Trimmed from flexinfer/flexinfer examples/v1alpha2/model-amd-rocm.yaml ("GPU vendor is auto-detected from node labels"), with an image of
  // its own, as FlexInfer runs there: FlexInfer's controller picks the vendor whose GPU nodes match the selector.
  test.each<[string, Record<string, string>, string]>([
    ['an AMD architecture label', { 'gpu.amd.com/gpu-architecture': 'gfx1100' }, 'amd.com/gpu'],
    ['FlexInfer\'s node-agent architecture label', { 'flexinfer.ai/gpu.arch': 'sm_89' }, 'nvidia.com/gpu'],
    ['FlexInfer\'s node-agent vendor label', { 'flexinfer.ai/gpu.vendor': 'AMD' }, 'amd.com/gpu'],
  ])('vendor auto follows %s of the nodeSelector, without a warning', (_, nodeSelector, resource) => {
    const { objs, warnings } = load(doc({
      backend: 'vllm',
      source: 'HF://mistralai/Mistral-7B-Instruct-v0.2',
      image: 'registry.example.com/vllm:rocm-gfx1100',
      nodeSelector,
      gpu: { shared: 'amd-gpu-pool', priority: 80 },
      config: { dtype: 'float16', trustRemoteCode: true },
    }));
    expect(Object.keys(podOf(objs).containers[0].resources.limits)).toEqual([resource]);
    expect(warnings.filter(w => w.includes('spec.gpu.vendor'))).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    // Trimmed from flexinfer/flexinfer examples/v1alpha2/model-vllm-gfx906.yaml.
    ['a Radeon VII', {
      backend: 'vllm',
      source: 'HF://TheBloke/Mistral-7B-Instruct-v0.2-AWQ',
      nodeSelector: { 'flexinfer.ai/gpu.arch': 'gfx906' },
      gpu: { vendor: 'amd', count: 1 },
      config: { maxModelLen: 8192, dtype: 'auto', gpuMemoryUtilization: '0.90' },
    },
    "Unable to synthesize Model/qwen: spec.nodeSelector.flexinfer.ai/gpu.arch 'gfx906' selects gfx906 GPUs, but inferkit's vllm image for AMD, " +
      'rocm/vllm:rocm6.4.1_vllm_0.9.0.1_20250605, is built for gfx90a, gfx942 only (FlexInfer runs an image of its own build there). ' +
      'Set spec.image to a vllm image built for gfx906.'],
    // Trimmed from flexinfer/flexinfer examples/v1alpha2/model-amd-rocm.yaml: vendor auto, AMD by the selector.
    ['an RX 7900 XTX, vendor auto', {
      backend: 'vllm',
      source: 'HF://mistralai/Mistral-7B-Instruct-v0.2',
      nodeSelector: { 'gpu.amd.com/gpu-architecture': 'gfx1100' },
      gpu: { shared: 'amd-gpu-pool', priority: 80 },
    },
    "Unable to synthesize Model/qwen: spec.nodeSelector.gpu.amd.com/gpu-architecture 'gfx1100' selects gfx1100 GPUs, but inferkit's vllm image for AMD"],
  ])('a built-in AMD image on %s, which it is not built for, is refused with the architecture and the fix', (_, spec, message) => {
    expect(errorOf(doc(spec))).toContain(message);
  });

  test('every spec field maps to the construct', () => {
    expect(fromManifest(doc({
      backend: 'vllm',
      source: 'HF://Qwen/Qwen2.5-7B',
      image: 'registry.example.com/vllm:0.11',
      gpu: { vendor: 'nvidia', count: 1, vramEstimateMB: 20000 },
      serverless: { enabled: true, idleTimeout: '10m', coldStartTimeout: '90s', minReplicas: 2 },
      cache: { strategy: 'SharedPVC', storageClass: 'nfs', size: '50Gi', pvcName: 'shared-models' },
      capabilities: { toolCalling: false, vision: true },
      config: { maxModelLen: 4096 },
      kvCache: { maxBlockSize: 32, swapSpace: 4, pressurePolicy: 'Observe' },
      resources: { requests: { cpu: '4', memory: '32Gi' } },
      nodeSelector: { pool: 'l4' },
      tolerations: [{ key: 'pool', operator: 'Equal', value: 'l4', effect: 'NoSchedule' }],
      litellm: { enabled: true, servedModelName: 'qwen-chat', aliases: ['qwen'], copilotAlias: 'gpt-4o' },
      serviceLabels: ['textgen'],
    }))).toEqual(construct({
      name: 'qwen',
      backend: 'vllm',
      source: 'hf://Qwen/Qwen2.5-7B',
      image: 'registry.example.com/vllm:0.11',
      gpu: { vendor: 'nvidia', count: 1, vramEstimateMB: 20000 },
      serverless: { idleTimeout: Duration.minutes(10), coldStartTimeout: Duration.seconds(90), minReplicas: 2, maxReplicas: 2 },
      cache: { strategy: CacheStrategy.SHARED_PVC, storageClass: 'nfs', size: Size.gibibytes(50), pvcName: 'shared-models' },
      capabilities: { toolCalling: false, vision: true },
      config: { maxModelLen: 4096, blockSize: 32, swapSpace: 4 },
      resources: { requests: { cpu: k8s.Quantity.fromString('4'), memory: k8s.Quantity.fromString('32Gi') } },
      nodeSelector: { pool: 'l4' },
      tolerations: [GPU_TOLERATION, { key: 'pool', operator: 'Equal', value: 'l4', effect: 'NoSchedule' }],
      litellm: { modelName: 'qwen-chat', aliases: ['qwen'], copilotAlias: 'gpt-4o' },
      serviceLabels: ['textgen'],
    }));
  });

  test('litellm: the block on is FlexInfer\'s served-model, aliases and copilot annotations; enabled: false adds none', () => {
    const on = find(fromManifest(doc({
      backend: 'vllm',
      source: 'HF://org/m',
      gpu: { vendor: 'nvidia' },
      serviceLabels: ['code'],
      litellm: { servedModelName: 'stable-diffcoder', aliases: ['diffcoder', 'code-8b'], copilotAlias: 'gpt-4o' },
    })), 'Service', 'qwen');
    expect(on.metadata.annotations).toMatchObject({
      'litellm.flexinfer.ai/served-model': 'stable-diffcoder',
      'litellm.flexinfer.ai/aliases': 'code,code-8b,diffcoder',
      'litellm.flexinfer.ai/copilot-model': 'gpt-4o',
      'litellm.flexinfer.ai/api-base': 'http://qwen.models.svc:8080/v1',
    });
    const off = find(fromManifest(doc({ backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia' }, litellm: { enabled: false, aliases: ['x'] } })), 'Service', 'qwen');
    expect(off.metadata.annotations).toBeUndefined();
  });

  test('a ModelInfer that runs a Model whose scale-to-zero is only the CRD default takes the replicas over, with a warning', () => {
    const chart = new Chart(Testing.app(), 'c', { namespace: 'models' });
    const model = Model.fromManifest(chart, 'model', doc({ backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia' }, litellm: {} }));
    new ModelInfer(chart, 'infer', { modelRef: model, replicas: 2 });
    const objs = Testing.synth(chart) as Obj[];
    expect(find(objs, 'Deployment', 'qwen').spec.replicas).toBe(2);
    expect(objs.filter(o => ['ScaledObject', 'HTTPScaledObject'].includes(o.kind) || o.metadata.name === 'qwen-backend')).toEqual([]);
    expect(find(objs, 'Service', 'qwen').spec.selector).toEqual({ 'model.inferkit.dev/name': 'qwen' });
    expect(find(objs, 'Service', 'qwen').metadata.annotations['litellm.flexinfer.ai/api-base']).toBe('http://qwen.models.svc:8000/v1');
    expect(model.endpoint).toBe('http://qwen.models.svc:8000');
    expect(Warnings.of(chart).all).toContain("Warning: Model/qwen spec.serverless: is omitted, which FlexInfer's CRD makes scale-to-zero, but c/infer " +
      'sets the replicas, so the model runs without scale-to-zero. Set spec.serverless.enabled: false on the Model.');
  });

  test('spec.kvCache is ignored on a backend FlexInfer does not tune, as FlexInfer does', () => {
    const { objs, warnings } = load(doc({ backend: 'llamacpp', source: 'file:///models/m.gguf', kvCache: { pressurePolicy: 'Evict', maxBlockSize: 32 } }));
    expect(warnings).toEqual([]);
    expect(podOf(objs).containers[0].args).not.toContain('--block-size');
  });

  test.each([['5m', 300], ['90s', 90], ['1h30m', 5400], ['soon', undefined], ['', undefined]])('duration %s is %s seconds', (text, seconds) => {
    expect(durationSeconds(text as string)).toBe(seconds);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['Local (a node hostPath, which PodSecurity restricted forbids)',
      { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia' }, cache: { strategy: 'Local', hostPath: '/mnt/nvme/models' } },
      "Warning: Model/qwen spec.cache.strategy 'Local': FlexInfer keeps the files in the node directory /mnt/nvme/models/<namespace>/<name> across " +
      'restarts; PodSecurity restricted forbids hostPath volumes, so inferkit uses a node-local emptyDir and a new pod downloads again. Use SharedPVC, ' +
      'with a node-local StorageClass in spec.cache.storageClass if the disk matters.'],
    ['a hostPath without Local', { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia' }, cache: { hostPath: '/mnt/nvme' } },
      "Warning: Model/qwen spec.cache.hostPath '/mnt/nvme': is only used by the Local strategy, not SharedPVC. Remove spec.cache.hostPath."],
    ['the flash-loader', { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia' }, cache: { flashLoader: { enabled: true, concurrency: 8 } } },
      'Warning: Model/qwen spec.cache.flashLoader.enabled true: FlexInfer copies the model files into a tmpfs before the backend starts; inferkit runs ' +
      'no flash-loader, so the backend reads them from the cache volume. Use spec.cache.strategy Memory to serve from RAM, or set ' +
      'spec.cache.flashLoader.enabled: false.'],
    ['the ROCm compilation cache, on by default for a shared AMD model',
      { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'amd', shared: 'g' } },
      'Warning: Model/qwen spec.cache.compilationCache.enabled true: FlexInfer keeps ROCm kernel compilation caches in a node hostPath; PodSecurity ' +
      'restricted forbids hostPath volumes, so each new pod compiles its kernels again. Set spec.cache.compilationCache.enabled: false.'],
    ['a swap cooldown', { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia', shared: 'g', swapCooldown: '2m' } },
      "Warning: Model/qwen spec.gpu.swapCooldown '2m': inferkit runs no controller that swaps the models of a shared group, so there is no cooldown " +
      'between swaps: a higher-priority pod preempts a lower one as soon as the scheduler needs the node. Remove spec.gpu.swapCooldown.'],
    ['a KV-cache pressure policy', { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia' }, kvCache: { pressurePolicy: 'Evict', highWatermark: '0.9' } },
      "Warning: Model/qwen spec.kvCache.pressurePolicy 'Evict': FlexInfer's controller scales the model down when KV-cache usage crosses the " +
      'watermarks; inferkit runs no controller, so nothing reacts to the pressure. Size maxModelLen and maxNumSeqs in spec.config for the load, and ' +
      'set spec.kvCache.pressurePolicy: Observe.'],
    ['a cache strategy for a pvc:// source', { backend: 'vllm', source: 'pvc://models/llama', gpu: { vendor: 'nvidia' }, cache: { strategy: 'SharedPVC' } },
      "Warning: Model/qwen spec.cache.strategy 'SharedPVC': inferkit mounts the pvc:// claim at /models itself instead of staging it on another " +
      'volume. Remove spec.cache.strategy.'],
  ])('%s is run with a warning naming the difference and the fix', (_, spec, warning) => {
    expect(load(doc(spec)).warnings).toContain(warning);
  });

  // FlexInfer's controller (controllers/flash_loader.go resolveFlashLoaderConfig) turns the flash-loader on by itself only for a
  // shared model on a Local cache without a flashLoader block, and never without a persistent volume (SharedPVC, Local, pvc://).
  test.each<[string, Record<string, unknown>, boolean]>([
    // Trimmed from flexinfer/flexinfer examples/v1alpha2/qwen3-30b-a3b-abliterated-llamacpp-amd.yaml.
    ['a shared model on a SharedPVC cache, as FlexInfer\'s qwen3-30b example', {
      backend: 'llamacpp',
      source: 'HF://mradermacher/Qwen3-30B-A3B-abliterated-i1-GGUF',
      cache: { strategy: 'SharedPVC', storageClass: 'nvme-cache-1r', size: '25Gi' },
      gpu: { vendor: 'amd', shared: 'amd-gpu-pool', priority: 120, vramEstimateMB: 20000 },
      config: { ggufFile: 'Qwen3-30B-A3B-abliterated.i1-Q4_K_M.gguf' },
    }, false],
    ['a model on a Local cache alone', { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia' }, cache: { strategy: 'Local' } }, false],
    ['a shared model on a Local cache', { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia', shared: 'g' }, cache: { strategy: 'Local' } }, true],
    ['a shared model on a Local cache with a flashLoader block that leaves enabled out',
      { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia', shared: 'g' }, cache: { strategy: 'Local', flashLoader: { concurrency: 8 } } }, false],
    ['an enabled flash-loader on a Memory cache',
      { backend: 'vllm', source: 'HF://org/m', gpu: { vendor: 'nvidia' }, cache: { strategy: 'Memory', flashLoader: { enabled: true } } }, false],
  ])('the flash-loader for %s is warned about only when FlexInfer would run it', (_, spec, warned) => {
    const flash = load(doc(spec)).warnings.filter(w => w.includes('spec.cache.flashLoader.enabled'));
    expect(flash).toEqual(warned ? ['Warning: Model/qwen spec.cache.flashLoader.enabled true: FlexInfer copies the model files into a tmpfs before the ' +
      'backend starts; inferkit runs no flash-loader, so the backend reads them from the cache volume. Use spec.cache.strategy Memory to serve from RAM, ' +
      'or set spec.cache.flashLoader.enabled: false.'] : []);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['an unknown field', { backend: 'vllm', source: 'hf://a/b', replicas: 2 },
      'Unable to synthesize Model/qwen: spec.replicas 2 is not a field of ai.flexinfer/v1alpha2 Model.'],
    ['an unknown litellm field', { backend: 'vllm', source: 'hf://a/b', litellm: { modelName: 'x' } },
      "Unable to synthesize Model/qwen: spec.litellm.modelName 'x' is not a field of ai.flexinfer/v1alpha2 Model. Remove it; spec.litellm accepts " +
      'aliases, copilotAlias, enabled, servedModelName.'],
    ['a bad duration', { backend: 'vllm', source: 'hf://a/b', serverless: { idleTimeout: 'ten minutes' } },
      "spec.serverless.idleTimeout 'ten minutes' is not a duration. Write it like 5m, 90s or 1h30m."],
    ['an unknown cache strategy', { backend: 'vllm', source: 'hf://a/b', cache: { strategy: 'Disk' } },
      "Unable to synthesize Model/qwen: spec.cache.strategy 'Disk' is not an allowed value. Use Memory, SharedPVC, Local, None."],
    ['too many warm replicas', { backend: 'vllm', source: 'hf://a/b', serverless: { minReplicas: 11 } },
      'Unable to synthesize Model/qwen: spec.serverless.minReplicas 11 is outside 0 to 10. Use a whole number from 0 to 10.'],
    ['vendor cpu with a count', { backend: 'ollama', source: 'ollama://llama3:8b', gpu: { vendor: 'cpu', count: 1 } },
      'Unable to synthesize Model/qwen: spec.gpu.count 1 is set with vendor cpu. Remove count, or choose vendor nvidia, amd or auto.'],
    ['vendor cpu in a shared group', { backend: 'ollama', source: 'ollama://llama3:8b', gpu: { vendor: 'cpu', shared: 'g' } },
      "Unable to synthesize Model/qwen: spec.gpu.shared 'g' is set with vendor cpu. Remove shared, or choose vendor nvidia, amd or auto."],
    ['a gpu-vendor node label against the vendor', { backend: 'vllm', source: 'hf://a/b', gpu: { vendor: 'nvidia' }, nodeSelector: { 'node.flexstack.io/gpu-vendor': 'amd' } },
      "Unable to synthesize Model/qwen: spec.nodeSelector.node.flexstack.io/gpu-vendor 'amd' does not match spec.gpu.vendor nvidia. " +
      'Select node.flexstack.io/gpu-vendor: nvidia, or change spec.gpu.vendor.'],
    ['GPUs in resources', { backend: 'vllm', source: 'hf://a/b', resources: { limits: { 'nvidia.com/gpu': 1 } } },
      "Unable to synthesize Model/qwen: spec.resources.limits.nvidia.com/gpu 1 sets GPUs outside spec.gpu, which FlexInfer's CRD refuses. " +
      'Remove it and use spec.gpu.vendor and spec.gpu.count.'],
    ['a Memory cache for a pvc:// source', { backend: 'vllm', source: 'pvc://models/x', cache: { strategy: 'Memory' } },
      "Unable to synthesize Model/qwen: spec.cache.strategy 'Memory' is not allowed with a pvc:// source by FlexInfer's CRD. " +
      'Use SharedPVC, Local or None, or remove spec.cache.strategy.'],
    ['quantization, which needs FlexInfer\'s controller', { backend: 'vllm', source: 'hf://a/b', quantize: { format: 'AWQ', bits: 4 } },
      "Unable to synthesize Model/qwen: spec.quantize.format 'AWQ' needs FlexInfer's quantization Job, which downloads, quantizes and re-publishes " +
      'the weights at run time; inferkit compiles the Model without a controller and cannot run it. Quantize the weights beforehand and point ' +
      'spec.source at the quantized repository, then remove spec.quantize.'],
    ['a backend without a built-in image and no spec.image', { backend: 'comfyui', source: 'hf://a/b', gpu: { vendor: 'nvidia' } },
      "Unable to synthesize Model/qwen: spec.backend 'comfyui' has no built-in image. Set spec.image to an image that runs comfyui."],
    ['a KV-cache flag also in config', { backend: 'vllm', source: 'hf://a/b', config: { blockSize: 16 }, kvCache: { maxBlockSize: 32 } },
      'Unable to synthesize Model/qwen: spec.config.blockSize 16 is also set by spec.kvCache. Set it in one place.'],
    ['an unknown source scheme', { backend: 'vllm', source: 'gs://bucket/m' },
      "Unable to synthesize Model/qwen: spec.source 'gs://bucket/m' has the unknown scheme 'gs'."],
    ['a literal Hugging Face token', { backend: 'vllm', source: 'hf://a/b', config: { hfToken: 'hf_abcdefghijklmnop' } },
      "spec.config.hfToken '(redacted)' is a literal Hugging Face token, which would be stored in the manifests."],
    ['an unknown backend', { backend: 'tgi', source: 'hf://a/b' }, "Unable to synthesize Model/qwen: spec.backend 'tgi' is not a known engine."],
  ])('%s is refused with a message naming the field and the fix', (_, spec, message) => {
    expect(errorOf(doc(spec))).toContain(message);
  });
});
