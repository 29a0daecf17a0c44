// Safer output by default: the containers inferkit adds (downloads, sidecars) ask for resources and download with a
// pinned image that already has the downloader; pods hold no ServiceAccount token they do not use.
import { Chart, Size, Testing } from 'cdk8s';
import { CacheStrategy, Model, ModelCache, ModelProps } from '../../index';

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
