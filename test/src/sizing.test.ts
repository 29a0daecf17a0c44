import * as fc from 'fast-check';
import {
  checkFits, checkVramInput, estimateVram, findGpu, findModel, formatIssue, Issues, KV_BYTES, MODEL_ARCHITECTURES, ModelShape,
  smallestFittingTensorParallel, VramInput, WEIGHT_BYTES, WeightDtype,
} from '../../src';

const GiB = 1024 ** 3;
const model = (name: string) => findModel(name)!;

function expectWithin(actual: number, published: number, tolerance = 0.02): void {
  expect(Math.abs(actual - published) / published).toBeLessThanOrEqual(tolerance);
}

function messages(check: (issues: Issues) => void): string[] {
  const issues = new Issues('Model/llama');
  check(issues);
  return issues.all.map(formatIssue);
}

describe('model architectures', () => {
  // Parameter counts derived from each config.json against the totals on the model cards.
  test.each([
    ['Llama-3-8B', 8.03e9],
    ['Llama-3-70B', 70.6e9],
    ['Llama-3.1-405B', 405.9e9],
    ['Mistral-7B-v0.1', 7.24e9],
    ['Qwen2.5-7B', 7.61e9],
    ['Qwen2.5-72B', 72.7e9],
    ['Mixtral-8x7B', 46.7e9],
  ])('%s has %d parameters', (name, published) => {
    expectWithin(model(name).parameters, published, 0.002);
  });

  test('Llama-3-8B counts exactly: embeddings, output, 32 layers and the final norm', () => {
    expect(model('Llama-3-8B').parameters).toBe(8_030_261_248);
  });

  test('finds a model by name or Hugging Face id, ignoring case', () => {
    expect(findModel('llama-3-70b')?.name).toBe('Llama-3-70B');
    expect(findModel('Qwen/Qwen2.5-7B')?.name).toBe('Qwen2.5-7B');
    expect(findModel('gpt-4')).toBeUndefined();
    expect(MODEL_ARCHITECTURES).toHaveLength(7);
  });
});

describe('published figures', () => {
  test.each<[string, VramInput, (b: ReturnType<typeof estimateVram>) => number, number]>([
    // llama.cpp tools/quantize/README.md, Llama-3.1-8B (same shapes as Llama-3-8B): F16 14.96 GiB, Q8_0 7.95 GiB, Q4_K_M 4.58 GiB.
    ['Llama-3-8B bf16 weights 14.96 GiB', { model: model('Llama-3-8B') }, b => b.weights.bytes / GiB, 14.96],
    ['Llama-3-8B Q8_0 weights 7.95 GiB', { model: model('Llama-3-8B'), dtype: 'Q8_0' }, b => b.weights.bytes / GiB, 7.95],
    ['Llama-3-8B Q4_K_M weights 4.58 GiB', { model: model('Llama-3-8B'), dtype: 'Q4_K_M' }, b => b.weights.bytes / GiB, 4.58],
    // Hugging Face blog "Llama 3.1" (huggingface.co/blog/llama31), inference memory: 70B at 140 GB (2 bytes x 70B), 405B FP8 at 405 GB.
    ['Llama-3-70B bf16 weights 131.4 GiB', { model: model('Llama-3-70B') }, b => b.weights.bytes / GiB, 131.4],
    ['Llama-3.1-405B fp8 weights 377 GiB', { model: model('Llama-3.1-405B'), dtype: 'fp8' }, b => b.weights.bytes / GiB, 405e9 / GiB],
    // Same blog, KV cache in FP16 at 128k tokens: 8B 15.62 GB, 70B 39.06 GB (computed in GiB, 128000 tokens).
    ['Llama-3-8B KV at 128k tokens 15.62 GiB', { model: model('Llama-3-8B'), contextTokens: 128_000 }, b => b.kvCache.bytes / GiB, 15.62],
    ['Llama-3-70B KV at 128k tokens 39.06 GiB', { model: model('Llama-3-70B'), contextTokens: 128_000 }, b => b.kvCache.bytes / GiB, 39.06],
  ])('%s', (_, input, measure, published) => {
    expectWithin(measure(estimateVram(input)), published);
  });

  // 2 (K and V) x layers x KV heads x head dim x 2 bytes, from each config.json.
  test.each([
    ['Llama-3-8B', 2 * 32 * 8 * 128 * 2, 128],
    ['Llama-3-70B', 2 * 80 * 8 * 128 * 2, 320],
    ['Mistral-7B-v0.1', 2 * 32 * 8 * 128 * 2, 128],
    ['Qwen2.5-7B', 2 * 28 * 4 * 128 * 2, 56],
    ['Llama-3.1-405B', 2 * 126 * 8 * 128 * 2, 504],
  ])('%s keeps %d bytes (%d KiB) of bf16 KV cache per token', (name, bytes, kib) => {
    const b = estimateVram({ model: model(name) });
    expect(b.kvPerToken.bytes).toBe(bytes);
    expect(b.kvPerToken.bytes / 1024).toBe(kib);
  });
});

describe('the breakdown', () => {
  test('defaults: bf16 weights and KV cache, 8192 tokens, one sequence, one GPU, 1 GiB + 10% overhead', () => {
    const b = estimateVram({ model: model('Llama-3-8B') });
    expect(b.input).toMatchObject({ dtype: 'bf16', kvDtype: 'bf16', contextTokens: 8192, sequences: 1, tensorParallel: 1, overhead: { fixedMiB: 1024, fraction: 0.1 } });
    expect(b.weights).toEqual({ bytes: 16_060_522_496, mib: 16_060_522_496 / 2 ** 20 });
    expect(b.kvCache.mib).toBe(1024);
    expect(b.overheadPerGpu.bytes).toBe(Math.ceil(GiB + 0.1 * (16_060_522_496 + GiB)));
    expect(b.perGpu.bytes).toBe(16_060_522_496 + GiB + b.overheadPerGpu.bytes);
    expect(b.total).toEqual(b.perGpu);
  });

  test('fp32 weights default to an fp32 KV cache; a quantised model keeps a 16-bit one', () => {
    expect(estimateVram({ model: model('Llama-3-8B'), dtype: 'fp32' }).input.kvDtype).toBe('fp32');
    expect(estimateVram({ model: model('Llama-3-8B'), dtype: 'awq' }).input.kvDtype).toBe('bf16');
  });

  test('tensor parallelism splits weights and KV cache; overhead is on every GPU', () => {
    const one = estimateVram({ model: model('Llama-3-70B') });
    const two = estimateVram({ model: model('Llama-3-70B'), tensorParallel: 2 });
    expect(two.perGpu.bytes - two.overheadPerGpu.bytes).toBe(Math.ceil(one.weights.bytes / 2) + one.kvCache.bytes / 2);
    expect(two.total.bytes).toBe(2 * two.perGpu.bytes);
  });

  test('beyond the KV heads, each GPU keeps a whole head', () => {
    const b = estimateVram({ model: model('Qwen2.5-7B'), tensorParallel: 7 });
    expect(b.perGpu.bytes - b.overheadPerGpu.bytes).toBe(Math.ceil(b.weights.bytes / 7) + b.kvCache.bytes / 4);
  });

  test('custom overhead', () => {
    const b = estimateVram({ model: model('Mistral-7B-v0.1'), overhead: { fixedMiB: 0, fraction: 0 } });
    expect(b.overheadPerGpu.bytes).toBe(0);
    expect(b.perGpu.bytes).toBe(b.weights.bytes + b.kvCache.bytes);
  });
});

describe('laws', () => {
  const shape: fc.Arbitrary<ModelShape> = fc.record({
    kvHeads: fc.constantFrom(1, 2, 4, 8, 16),
    group: fc.constantFrom(1, 2, 4, 8),
    layers: fc.integer({ min: 1, max: 128 }),
    headDim: fc.constantFrom(64, 80, 128, 256),
    parameters: fc.integer({ min: 1e6, max: 1e12 }),
  }).map(({ kvHeads, group, ...rest }) => ({ ...rest, kvHeads, attentionHeads: kvHeads * group }));
  const dtypes = Object.keys(WEIGHT_BYTES) as WeightDtype[];
  const perGpu = (input: VramInput) => estimateVram(input).perGpu.bytes;

  test('memory grows with context length and with sequences', () => {
    fc.assert(fc.property(shape, fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 64 }),
      (m, a, b, s) => {
        const [short, long] = a <= b ? [a, b] : [b, a];
        expect(perGpu({ model: m, contextTokens: short })).toBeLessThanOrEqual(perGpu({ model: m, contextTokens: long }));
        expect(perGpu({ model: m, contextTokens: short })).toBeLessThanOrEqual(perGpu({ model: m, contextTokens: short, sequences: s }));
      }));
  });

  test('memory grows with the bytes per weight and per KV element', () => {
    fc.assert(fc.property(shape, fc.constantFrom(...dtypes), fc.constantFrom(...dtypes), (m, a, b) => {
      const [small, large] = WEIGHT_BYTES[a] <= WEIGHT_BYTES[b] ? [a, b] : [b, a];
      // The same KV cache for both, since fp32 weights default to an fp32 one.
      const [lighter, heavier] = [estimateVram({ model: m, dtype: small, kvDtype: 'bf16' }), estimateVram({ model: m, dtype: large, kvDtype: 'bf16' })];
      expect(lighter.weights.bytes).toBeLessThanOrEqual(heavier.weights.bytes);
      expect(lighter.perGpu.bytes).toBeLessThanOrEqual(heavier.perGpu.bytes);
    }));
    const kvs = Object.keys(KV_BYTES) as Array<keyof typeof KV_BYTES>;
    fc.assert(fc.property(shape, fc.constantFrom(...kvs), fc.constantFrom(...kvs), (m, a, b) => {
      const [small, large] = KV_BYTES[a] <= KV_BYTES[b] ? [a, b] : [b, a];
      expect(perGpu({ model: m, kvDtype: small })).toBeLessThanOrEqual(perGpu({ model: m, kvDtype: large }));
    }));
  });

  test('the share of each GPU shrinks with tensor parallelism, and the replica total is that share on every GPU', () => {
    fc.assert(fc.property(shape, fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), (m, a, b) => {
      const [few, many] = a <= b ? [a, b] : [b, a];
      expect(perGpu({ model: m, tensorParallel: many })).toBeLessThanOrEqual(perGpu({ model: m, tensorParallel: few }));
      const e = estimateVram({ model: m, tensorParallel: many });
      expect(e.total.bytes).toBe(e.perGpu.bytes * many);
    }));
  });
});

describe('checks', () => {
  test('a model that fits records nothing', () => {
    expect(messages(i => checkFits(i, 'gpu', estimateVram({ model: model('Llama-3-70B'), tensorParallel: 2 }), findGpu('H100-80GB')!, 2))).toEqual([]);
    expect(messages(i => checkFits(i, 'gpu', estimateVram({ model: model('Llama-3-8B') }), findGpu('L4')!, 1))).toEqual([]);
  });

  test.each<[string, (i: Issues) => void, string[]]>([
    ['too small a GPU names the shortfall and the tensor parallelism that fits',
      i => checkFits(i, 'gpu', estimateVram({ model: model('Llama-3-8B') }), findGpu('T4')!, 1),
      ["Unable to synthesize Model/llama: gpu '1 x T4' needs 18.55 GiB (18999 MiB) per GPU but one T4 has 15.00 GiB (15360 MiB): 3639 MiB (3.55 GiB) short, " +
        'with tensor parallelism 1, bf16 weights and 1 x 8192 tokens of bf16 KV cache. Use 2 GPUs with tensor parallelism 2, a GPU with more memory, ' +
        'a shorter context or fewer sequences, or a quantised dtype (fp8, int4 or a GGUF quant).']],
    ['a model no split fits',
      i => checkFits(i, 'gpu', estimateVram({ model: model('Llama-3.1-405B') }), findGpu('GTX-980-Ti')!, 1),
      ["Unable to synthesize Model/llama: gpu '1 x GTX-980-Ti' needs 836.89 GiB (856974 MiB) per GPU but one GTX-980-Ti has 6.00 GiB (6144 MiB): " +
        '850830 MiB (830.89 GiB) short, with tensor parallelism 1, bf16 weights and 1 x 8192 tokens of bf16 KV cache. Use more GPUs (no tensor ' +
        'parallelism up to 64 fits GTX-980-Ti), a GPU with more memory, a shorter context or fewer sequences, or a quantised dtype (fp8, int4 or a GGUF quant).']],
    ['fewer GPUs than the tensor parallelism',
      i => checkFits(i, 'gpu', estimateVram({ model: model('Llama-3-70B'), tensorParallel: 2 }), findGpu('H100-80GB')!, 1),
      ["Unable to synthesize Model/llama: gpu '1 x H100-80GB' is fewer GPUs than the tensor parallelism of 2. Request 2 GPUs, or lower the tensor parallelism."]],
    ['bad sizing numbers, all at once',
      i => checkVramInput(i, 'sizing', { model: model('Llama-3-70B'), tensorParallel: 3, contextTokens: 0, sequences: 1.5 }),
      ['Unable to synthesize Model/llama: sizing.contextTokens 0 is not a positive whole number of tokens. Use 1 or more, such as 8192.',
        'Unable to synthesize Model/llama: sizing.sequences 1.5 is not a positive whole number of sequences. Use 1 or more.',
        "Unable to synthesize Model/llama: sizing.tensorParallel 3 does not divide the model's 64 attention heads. Use a divisor of 64, such as 2."]],
    ['no GPUs',
      i => checkVramInput(i, '', { model: model('Llama-3-70B'), tensorParallel: 0 }),
      ['Unable to synthesize Model/llama: tensorParallel 0 is not a positive whole number of GPUs. Use 1 or more.']],
  ])('%s', (_, check, expected) => {
    expect(messages(check)).toEqual(expected);
  });

  test('the smallest fitting tensor parallelism divides the heads', () => {
    expect(smallestFittingTensorParallel({ model: model('Llama-3-70B') }, findGpu('H100-80GB')!)).toBe(2);
    expect(smallestFittingTensorParallel({ model: model('Llama-3.1-405B'), dtype: 'fp8' }, findGpu('H100-80GB')!)).toBe(8);
    expect(smallestFittingTensorParallel({ model: model('Qwen2.5-7B') }, findGpu('T4')!)).toBe(2);
    expect(smallestFittingTensorParallel({ model: model('Llama-3.1-405B') }, findGpu('GTX-980-Ti')!)).toBeUndefined();
  });
});
