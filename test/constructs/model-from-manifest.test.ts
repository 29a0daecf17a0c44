import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { parse } from 'yaml';
import { CacheStrategy, durationSeconds, Manifest, Model, ModelProps } from '../../index';
import { messageOf } from '../_helpers';

const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');

function fromManifest(doc: Manifest) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'models' });
  Model.fromManifest(chart, 'm', doc);
  return Testing.synth(chart);
}
function construct(props: ModelProps) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'models' });
  new Model(chart, 'm', props);
  return Testing.synth(chart);
}
const doc = (spec: Record<string, unknown>): Manifest => ({ apiVersion: 'ai.flexinfer/v1alpha2', kind: 'Model', metadata: { name: 'qwen' }, spec });
const errorOf = (d: Manifest): string => messageOf(() => fromManifest(d));

describe('loading FlexInfer Models', () => {
  test('the seed\'s minimal Model gives the same objects as the construct', () => {
    expect(fromManifest(parse(fs.readFileSync(path.join(manifests, 'model-basic.yaml'), 'utf8'))))
      .toEqual(construct({ name: 'llama3-8b', backend: 'ollama', source: 'ollama://llama3:8b' }));
  });

  test('every spec field maps to the construct', () => {
    expect(fromManifest(doc({
      backend: 'vllm',
      source: 'HF://Qwen/Qwen2.5-7B',
      gpu: { vendor: 'nvidia', count: 1, shared: 'l4', priority: 5, vramEstimateMB: 20000 },
      serverless: { enabled: true, idleTimeout: '10m', coldStartTimeout: '90s' },
      cache: { strategy: 'SharedPVC', storageClass: 'nfs', size: '50Gi' },
      config: { maxModelLen: 4096 },
      resources: { requests: { cpu: '4', memory: '32Gi' } },
      nodeSelector: { pool: 'l4' },
      litellm: { modelName: 'qwen-chat', aliases: ['qwen'] },
      serviceLabels: ['textgen'],
    }))).toEqual(construct({
      name: 'qwen',
      backend: 'vllm',
      source: 'hf://Qwen/Qwen2.5-7B',
      gpu: { vendor: 'nvidia', count: 1, shared: 'l4', priority: 5, vramEstimateMB: 20000 },
      serverless: { enabled: true, idleTimeout: Duration.minutes(10), coldStartTimeout: Duration.seconds(90) },
      cache: { strategy: CacheStrategy.SHARED_PVC, storageClass: 'nfs', size: Size.gibibytes(50) },
      config: { maxModelLen: 4096 },
      resources: { requests: { cpu: k8s.Quantity.fromString('4'), memory: k8s.Quantity.fromString('32Gi') } },
      nodeSelector: { pool: 'l4' },
      litellm: { modelName: 'qwen-chat', aliases: ['qwen'] },
      serviceLabels: ['textgen'],
    }));
  });

  test.each([['5m', 300], ['90s', 90], ['1h30m', 5400], ['soon', undefined], ['', undefined]])('duration %s is %s seconds', (text, seconds) => {
    expect(durationSeconds(text as string)).toBe(seconds);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['an unknown field', { backend: 'vllm', source: 'hf://a/b', replicas: 2 },
      'Unable to synthesize Model/qwen: spec.replicas 2 is not a field of ai.flexinfer/v1alpha2 Model.'],
    ['a bad duration', { backend: 'vllm', source: 'hf://a/b', serverless: { idleTimeout: 'ten minutes' } },
      "spec.serverless.idleTimeout 'ten minutes' is not a duration. Write it like 5m, 90s or 1h30m."],
    ['an unknown cache strategy', { backend: 'vllm', source: 'hf://a/b', cache: { strategy: 'Disk' } },
      "spec.cache.strategy 'Disk' is not a cache strategy. Use Memory, SharedPVC or None."],
    ['vendor cpu with a count', { backend: 'ollama', source: 'ollama://llama3:8b', gpu: { vendor: 'cpu', count: 1 } },
      'Unable to synthesize Model/qwen: spec.gpu.count 1 is set with vendor cpu. Remove count, or choose vendor nvidia, amd or auto.'],
    ['an unknown source scheme', { backend: 'vllm', source: 'gs://bucket/m' },
      "Unable to synthesize Model/qwen: spec.source 'gs://bucket/m' has the unknown scheme 'gs'."],
    ['a literal Hugging Face token', { backend: 'vllm', source: 'hf://a/b', config: { hfToken: 'hf_abcdefghijklmnop' } },
      "spec.config.hfToken '(redacted)' is a literal Hugging Face token, which would be stored in the manifests."],
    ['an unknown backend', { backend: 'tgi', source: 'hf://a/b' }, "Unable to synthesize Model/qwen: spec.backend 'tgi' is not a known engine."],
  ])('%s is refused with a message naming the field and the fix', (_, spec, message) => {
    expect(errorOf(doc(spec))).toContain(message);
  });
});
