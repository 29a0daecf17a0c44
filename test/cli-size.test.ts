import { main } from '../cli/inferkit';

function run(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

const MODELS = 'Llama-3-8B, Llama-3-70B, Llama-3.1-405B, Mistral-7B-v0.1, Qwen2.5-7B, Qwen2.5-72B, Mixtral-8x7B';

describe('inferkit size', () => {
  test('prints the breakdown of a model split across GPUs as a table', () => {
    const { code, out, err } = run('size', '--model', 'Llama-3-70B', '--tp', '2');
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toBe([
      'Llama-3-70B (meta-llama/Meta-Llama-3-70B), 70.55B parameters',
      'bf16 weights, bf16 KV cache, tensor parallelism 2, overhead 1024 MiB + 10% per GPU',
      '',
      '                                        bytes         MiB     GiB',
      'weights                       141,107,412,992  134,570.52  131.42',
      'KV cache per token (320 KiB)          327,680        0.31    0.00',
      'KV cache (1 x 8192 tokens)      2,684,354,560    2,560.00    2.50',
      'overhead per GPU                8,263,330,202    7,880.53    7.70',
      'per GPU                        80,159,213,978   76,445.78   74.65',
      'total (2 GPUs)                160,318,427,956  152,891.57  149.31',
      '',
    ].join('\n'));
  });

  test('says a model fits a GPU', () => {
    const { code, out } = run('size', '--model', 'llama-3-70b', '--tp', '2', '--gpu', 'H100-80GB');
    expect(code).toBe(0);
    expect(out).toContain('fits: 74.65 GiB per GPU on 2 x H100-80GB of 79.65 GiB each (4.99 GiB free on each)\n');
  });

  test('formats, context and sequences change the figures', () => {
    const { code, out } = run('size', '--model', 'Qwen2.5-7B', '--dtype', 'Q4_K_M', '--kv-dtype', 'fp8', '--context', '32768', '--sequences', '4');
    expect(code).toBe(0);
    expect(out).toContain('Q4_K_M weights, fp8 KV cache, tensor parallelism 1');
    expect(out).toMatch(/KV cache per token \(28 KiB\) +28,672 /);
    expect(out).toMatch(/KV cache \(4 x 32768 tokens\) +3,758,096,384 /);
  });

  test('exits 1 with the shortfall when the model does not fit', () => {
    const { code, out, err } = run('size', '--model', 'Llama-3-8B', '--gpu', 'tesla-t4');
    expect(code).toBe(1);
    expect(out).toContain('per GPU');
    expect(err).toBe('does not fit: needs 18.55 GiB (18999 MiB) per GPU but one T4 has 15.00 GiB (15360 MiB): 3639 MiB (3.55 GiB) short, ' +
      'with tensor parallelism 1, bf16 weights and 1 x 8192 tokens of bf16 KV cache. Use 2 GPUs with tensor parallelism 2, a GPU with more memory, ' +
      'a shorter context or fewer sequences, or a quantised dtype (fp8, int4 or a GGUF quant).\n');
  });

  test.each([
    [['size'], `error: no model: give --model <name>; known models are ${MODELS}\n`],
    [['size', '--model', 'gpt-4'], `error: unknown model 'gpt-4': known models are ${MODELS}\n`],
    [['size', '--model', 'Llama-3-8B', '--gpu', 'H100'], "error: unknown GPU 'H100': known GPUs are GTX-980-Ti, T4, A10, L4, L40S, A100-40GB, A100-80GB, " +
      'H100-80GB, H200, B200, MI210, MI250, MI300X, RX-7900-XTX\n'],
    [['size', '--model', 'Llama-3-8B', '--dtype', 'int3'], "error: --dtype 'int3' is not a format: known formats are fp32, bf16, fp16, fp8, int8, int4, " +
      'awq, gptq, Q8_0, Q6_K, Q5_K_M, Q4_K_M, Q4_0\n'],
    [['size', '--model', 'Llama-3-8B', '--kv-dtype', 'int4'], "error: --kv-dtype 'int4' is not a format: known formats are fp32, bf16, fp16, fp8, q8_0, q4_0\n"],
    [['size', '--model', 'Llama-3-8B', '--context', '8k'], "error: --context '8k' is not a positive whole number\n"],
    [['size', '--model', 'Llama-3-8B', '--sequences', '0'], "error: --sequences '0' is not a positive whole number\n"],
    [['size', '--model', 'Llama-3-70B', '--tp', '3'], "error: --tp 3 does not divide the model's 64 attention heads. Use a divisor of 64, such as 2.\n"],
  ])('refuses %j', (argv, message) => {
    const { code, out, err } = run(...argv);
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(message);
  });

  test.each([
    [['size', '--model'], 'error: --model needs a value\n\nUsage: inferkit synth'],
    [['size', '--model', 'Llama-3-8B', '--frobnicate', '1'], "error: unknown argument '--frobnicate'\n\nUsage: inferkit synth"],
  ])('shows the usage for %j', (argv, start) => {
    const { code, err } = run(...argv);
    expect(code).toBe(1);
    expect(err.startsWith(start)).toBe(true);
    expect(err).toContain('inferkit size --model <name> [--dtype bf16] [--kv-dtype bf16] [--context 8192] [--sequences 1] [--tp 1] [--gpu <name>]');
  });
});
