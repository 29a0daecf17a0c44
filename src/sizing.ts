import { Issues } from './errors';
import { GpuSpec } from './gpus';

/**
 * Bytes per weight of each weight format.
 *
 * 4-bit AWQ and GPTQ count 0.5 bytes and leave out their group scales (about 4% more at group size 128) and the
 * embeddings and output layer they keep at 16 bits. GGUF rates are bits per weight / 8. Q8_0 (34 bytes per block
 * of 32) and Q6_K (210 bytes per 256) are exact block sizes (ggml `ggml-common.h`). Q4_0 blocks are 4.5 bits
 * (18 bytes per 32); 4.55 allows for the output tensor, which llama-quantize keeps at Q6_K (it adds ~0.04 bits on
 * a 32k vocabulary, ~0.13 on Llama 3's 128k). The K-quant mixes are whole-file averages measured by llama.cpp
 * (`tools/quantize/README.md`: Q4_K_M 4.84 on Llama-2-7B and 4.89 on Llama-3.1-8B, Q5_K_M 5.68 and 5.70).
 */
export const WEIGHT_BYTES = {
  fp32: 4,
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5,
  awq: 0.5,
  gptq: 0.5,
  Q8_0: 8.5 / 8,
  Q6_K: 6.5625 / 8,
  Q5_K_M: 5.69 / 8,
  Q4_K_M: 4.85 / 8,
  Q4_0: 4.55 / 8,
} as const;

/** A weight format: a dtype, a GPU quantisation (4-bit AWQ, GPTQ) or a GGUF quant. */
export type WeightDtype = keyof typeof WEIGHT_BYTES;

/** Bytes per element of each KV cache format (vLLM `--kv-cache-dtype`, llama.cpp `--cache-type-k/v`). */
export const KV_BYTES = {
  fp32: 4,
  bf16: 2,
  fp16: 2,
  fp8: 1,
  q8_0: 8.5 / 8,
  q4_0: 4.5 / 8,
} as const;

/** A KV cache format. */
export type KvDtype = keyof typeof KV_BYTES;

/** What sizing needs to know of a model: its weights and the shape of its KV cache. */
export interface ModelShape {
  /** Number of parameters (every expert of a mixture of experts counts). */
  readonly parameters: number;
  /** Transformer layers (`num_hidden_layers`). */
  readonly layers: number;
  /** Query heads (`num_attention_heads`); tensor parallelism must divide it. */
  readonly attentionHeads: number;
  /** Key/value heads (`num_key_value_heads`; fewer than the query heads under grouped-query attention). */
  readonly kvHeads: number;
  /** Dimension of one head (`head_dim`, or `hidden_size / num_attention_heads`). */
  readonly headDim: number;
}

/** A published model architecture, as in its `config.json`. */
export interface ModelArchitecture extends ModelShape {
  /** Catalogue name, such as `Llama-3-8B`. */
  readonly name: string;
  /** Hugging Face repository whose `config.json` the numbers come from. */
  readonly huggingFaceId: string;
  /** Width of the residual stream (`hidden_size`). */
  readonly hiddenSize: number;
  /** `intermediate_size` of the MLP (of each expert for a mixture of experts). */
  readonly intermediateSize: number;
  /** Tokens in the vocabulary (`vocab_size`), the rows of the embedding matrix. */
  readonly vocabSize: number;
  /** Whether the output projection shares the embedding matrix (`tie_word_embeddings`). */
  readonly tiedEmbeddings: boolean;
  /** Whether the q, k and v projections have biases (Qwen2). */
  readonly qkvBias: boolean;
  /** Experts per layer for a mixture of experts (`num_local_experts`); 1 for a dense model. */
  readonly experts: number;
}

type ArchitectureConfig = Omit<ModelArchitecture, 'parameters'>;

/**
 * Parameters of a Llama-style decoder from its config: embeddings (and an untied output projection), per layer
 * attention (q, k, v, o), a gated MLP per expert plus the router, two RMSNorms, and the final norm.
 */
export function parameterCount(c: Omit<ModelArchitecture, 'parameters'>): number {
  const q = c.attentionHeads * c.headDim;
  const kv = c.kvHeads * c.headDim;
  const attention = c.hiddenSize * (2 * q + 2 * kv) + (c.qkvBias ? q + 2 * kv : 0);
  const mlp = c.experts * 3 * c.hiddenSize * c.intermediateSize + (c.experts > 1 ? c.hiddenSize * c.experts : 0);
  const embeddings = c.vocabSize * c.hiddenSize * (c.tiedEmbeddings ? 1 : 2);
  return embeddings + c.layers * (attention + mlp + 2 * c.hiddenSize) + c.hiddenSize;
}

const architecture = (c: Omit<ArchitectureConfig, 'tiedEmbeddings' | 'qkvBias' | 'experts' | 'headDim'> & Partial<ArchitectureConfig>): ModelArchitecture => {
  const full: ArchitectureConfig = { tiedEmbeddings: false, qkvBias: false, experts: 1, headDim: c.hiddenSize / c.attentionHeads, ...c };
  return { ...full, parameters: parameterCount(full) };
};

/**
 * Known model architectures, from each repository's `config.json` on Hugging Face. Parameter counts are derived
 * from the config and match the published totals (8.03B, 70.6B, 405.9B, 7.24B, 7.62B, 72.7B, 46.7B).
 */
export const MODEL_ARCHITECTURES: readonly ModelArchitecture[] = [
  architecture({
    name: 'Llama-3-8B',
    huggingFaceId: 'meta-llama/Meta-Llama-3-8B',
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    attentionHeads: 32,
    kvHeads: 8,
    vocabSize: 128256,
  }),
  architecture({
    name: 'Llama-3-70B',
    huggingFaceId: 'meta-llama/Meta-Llama-3-70B',
    layers: 80,
    hiddenSize: 8192,
    intermediateSize: 28672,
    attentionHeads: 64,
    kvHeads: 8,
    vocabSize: 128256,
  }),
  architecture({
    name: 'Llama-3.1-405B',
    huggingFaceId: 'meta-llama/Llama-3.1-405B',
    layers: 126,
    hiddenSize: 16384,
    intermediateSize: 53248,
    attentionHeads: 128,
    kvHeads: 8,
    vocabSize: 128256,
  }),
  architecture({
    name: 'Mistral-7B-v0.1',
    huggingFaceId: 'mistralai/Mistral-7B-v0.1',
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    attentionHeads: 32,
    kvHeads: 8,
    vocabSize: 32000,
  }),
  architecture({
    name: 'Qwen2.5-7B',
    huggingFaceId: 'Qwen/Qwen2.5-7B',
    layers: 28,
    hiddenSize: 3584,
    intermediateSize: 18944,
    attentionHeads: 28,
    kvHeads: 4,
    vocabSize: 152064,
    qkvBias: true,
  }),
  architecture({
    name: 'Qwen2.5-72B',
    huggingFaceId: 'Qwen/Qwen2.5-72B',
    layers: 80,
    hiddenSize: 8192,
    intermediateSize: 29568,
    attentionHeads: 64,
    kvHeads: 8,
    vocabSize: 152064,
    qkvBias: true,
  }),
  architecture({
    name: 'Mixtral-8x7B',
    huggingFaceId: 'mistralai/Mixtral-8x7B-v0.1',
    layers: 32,
    hiddenSize: 4096,
    intermediateSize: 14336,
    attentionHeads: 32,
    kvHeads: 8,
    vocabSize: 32000,
    experts: 8,
  }),
];

/** Finds a known model architecture by name or Hugging Face id, ignoring case. */
export function findModel(nameOrId: string): ModelArchitecture | undefined {
  const key = nameOrId.toLowerCase();
  return MODEL_ARCHITECTURES.find(m => m.name.toLowerCase() === key || m.huggingFaceId.toLowerCase() === key);
}

/**
 * Memory reserved on every GPU besides weights and KV cache. The fixed part is the CUDA or HIP context, cuBLAS /
 * hipBLASLt workspaces and NCCL buffers (about 1 GiB on current drivers); the proportional part covers
 * activations, CUDA graphs and allocator fragmentation, which grow with what is resident.
 */
export interface OverheadModel {
  /**
   * Fixed memory per GPU, in MiB.
   * @default 1024
   */
  readonly fixedMiB?: number;
  /**
   * Fraction of the weights and KV cache on a GPU added on top.
   * @default 0.1
   */
  readonly fraction?: number;
}

/** What to size: a model, its formats, the context it serves and how it is split. */
export interface VramInput {
  /** The model to size: a known architecture or any shape. */
  readonly model: ModelShape;
  /**
   * Format of the weights.
   * @default 'bf16'
   */
  readonly dtype?: WeightDtype;
  /**
   * Format of the KV cache.
   * @default 'fp32' for fp32 weights, otherwise 'bf16' (vLLM's `auto`: the activation dtype, which quantised models keep at 16 bits)
   */
  readonly kvDtype?: KvDtype;
  /**
   * Tokens of context per sequence (prompt and output).
   * @default 8192
   */
  readonly contextTokens?: number;
  /**
   * Sequences served at once, each with a full context.
   * @default 1
   */
  readonly sequences?: number;
  /**
   * GPUs the model is split across by tensor parallelism.
   * @default 1
   */
  readonly tensorParallel?: number;
  /**
   * Memory reserved per GPU besides weights and KV cache.
   * @default - 1024 MiB plus 10% of the weights and KV cache on each GPU
   */
  readonly overhead?: OverheadModel;
}

/** An amount of memory in bytes, and the same in MiB (not rounded). */
export interface MemoryAmount {
  /** Bytes (whole, except per token with a fractional-byte format). */
  readonly bytes: number;
  /** The same in MiB. */
  readonly mib: number;
}

/** A sizing with every default applied. */
export interface ResolvedVramInput {
  /** The model sized. */
  readonly model: ModelShape;
  /** Format of the weights. */
  readonly dtype: WeightDtype;
  /** Format of the KV cache. */
  readonly kvDtype: KvDtype;
  /** Tokens of context per sequence. */
  readonly contextTokens: number;
  /** Sequences served at once. */
  readonly sequences: number;
  /** GPUs the model is split across. */
  readonly tensorParallel: number;
  /** Memory reserved per GPU besides weights and KV cache. */
  readonly overhead: Required<OverheadModel>;
}

/** Where the memory of one model replica goes. */
export interface VramBreakdown {
  /** The input, with defaults applied. */
  readonly input: ResolvedVramInput;
  /** All weights (split across the GPUs under tensor parallelism). */
  readonly weights: MemoryAmount;
  /** KV cache of one token of one sequence: 2 (K and V) x layers x KV heads x head dim x KV bytes. */
  readonly kvPerToken: MemoryAmount;
  /** KV cache of every sequence at full context. */
  readonly kvCache: MemoryAmount;
  /** Overhead on each GPU. */
  readonly overheadPerGpu: MemoryAmount;
  /**
   * What one GPU holds: its share of the weights and KV cache, and the overhead. When tensor parallelism exceeds
   * the KV heads, each GPU keeps a whole head (vLLM replicates them).
   */
  readonly perGpu: MemoryAmount;
  /** What the replica needs across its GPUs: `perGpu` x tensor parallelism. */
  readonly total: MemoryAmount;
}

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
const amount = (bytes: number): MemoryAmount => ({ bytes, mib: bytes / MiB });

/** Applies the defaults of a sizing. */
export function resolveVramInput(input: VramInput): ResolvedVramInput {
  const dtype = input.dtype ?? 'bf16';
  return {
    model: input.model,
    dtype,
    kvDtype: input.kvDtype ?? (dtype === 'fp32' ? 'fp32' : 'bf16'),
    contextTokens: input.contextTokens ?? 8192,
    sequences: input.sequences ?? 1,
    tensorParallel: input.tensorParallel ?? 1,
    overhead: { fixedMiB: input.overhead?.fixedMiB ?? 1024, fraction: input.overhead?.fraction ?? 0.1 },
  };
}

function isPositiveInteger(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1;
}

/**
 * Checks a sizing: whole positive numbers, and tensor parallelism that divides the attention heads (vLLM and
 * SGLang refuse anything else). `field` prefixes the field names, such as `resources.vram`.
 */
export function checkVramInput(issues: Issues, field: string, input: VramInput): void {
  const r = resolveVramInput(input);
  const at = (name: string) => (field ? `${field}.${name}` : name);
  issues.check(isPositiveInteger(r.contextTokens), at('contextTokens'), r.contextTokens, 'is not a positive whole number of tokens', 'Use 1 or more, such as 8192');
  issues.check(isPositiveInteger(r.sequences), at('sequences'), r.sequences, 'is not a positive whole number of sequences', 'Use 1 or more');
  if (issues.check(isPositiveInteger(r.tensorParallel), at('tensorParallel'), r.tensorParallel, 'is not a positive whole number of GPUs', 'Use 1 or more')) {
    const heads = r.model.attentionHeads;
    issues.check(heads % r.tensorParallel === 0, at('tensorParallel'), r.tensorParallel,
      `does not divide the model's ${heads} attention heads`, `Use a divisor of ${heads}, such as ${largestDivisorAtMost(heads, r.tensorParallel)}`);
  }
}

function largestDivisorAtMost(n: number, max: number): number {
  let d = Math.min(n, max);
  while (n % d !== 0) d--;
  return d;
}

/**
 * Estimates the GPU memory of one model replica: weights = parameters x bytes per weight; KV cache =
 * 2 x layers x KV heads x head dim x KV bytes per token, x context tokens x sequences; plus the overhead on each
 * GPU. Weights and KV cache are split across the GPUs under tensor parallelism. Call `checkVramInput` first:
 * this assumes whole positive numbers.
 */
export function estimateVram(input: VramInput): VramBreakdown {
  const r = resolveVramInput(input);
  const m = r.model;
  const tp = r.tensorParallel;
  const weights = Math.ceil(m.parameters * WEIGHT_BYTES[r.dtype]);
  const kvPerToken = 2 * m.layers * m.kvHeads * m.headDim * KV_BYTES[r.kvDtype];
  const kvCache = Math.ceil(kvPerToken * r.contextTokens * r.sequences);
  const kvCachePerGpu = Math.ceil((kvCache * Math.ceil(m.kvHeads / tp)) / m.kvHeads);
  const resident = Math.ceil(weights / tp) + kvCachePerGpu;
  const overhead = Math.ceil(r.overhead.fixedMiB * MiB + r.overhead.fraction * resident);
  const perGpu = resident + overhead;
  return {
    input: r,
    weights: amount(weights),
    kvPerToken: amount(kvPerToken),
    kvCache: amount(kvCache),
    overheadPerGpu: amount(overhead),
    perGpu: amount(perGpu),
    total: amount(perGpu * tp),
  };
}

/** The smallest tensor parallelism, among divisors of the attention heads up to 64, at which the model fits `gpu`. */
export function smallestFittingTensorParallel(input: VramInput, gpu: GpuSpec): number | undefined {
  const r = resolveVramInput(input);
  for (let tp = 1; tp <= Math.min(64, r.model.attentionHeads); tp++) {
    if (r.model.attentionHeads % tp === 0 && estimateVram({ ...r, tensorParallel: tp }).perGpu.mib <= gpu.memoryMiB) return tp;
  }
  return undefined;
}

const gib = (bytes: number) => (bytes / GiB).toFixed(2);

/**
 * Records an issue when the replica does not fit `count` GPUs of kind `gpu`, naming the shortfall per GPU in MiB
 * and GiB and the fixes (more GPUs, a bigger GPU, a smaller context, quantisation). The value shown is
 * `<count> x <gpu>`.
 */
export function checkFits(issues: Issues, field: string, breakdown: VramBreakdown, gpu: GpuSpec, count: number): void {
  const r = breakdown.input;
  const value = `${count} x ${gpu.name}`;
  if (!issues.check(count >= r.tensorParallel, field, value, `is fewer GPUs than the tensor parallelism of ${r.tensorParallel}`,
    `Request ${r.tensorParallel} GPUs, or lower the tensor parallelism`)) return;
  const capacity = gpu.memoryMiB * MiB;
  const shortfall = breakdown.perGpu.bytes - capacity;
  if (shortfall <= 0) return;
  const fitsAt = smallestFittingTensorParallel(r, gpu);
  const more = fitsAt === undefined ? `more GPUs (no tensor parallelism up to 64 fits ${gpu.name})` : `${fitsAt} GPUs with tensor parallelism ${fitsAt}`;
  issues.add(field, value,
    `needs ${gib(breakdown.perGpu.bytes)} GiB (${Math.ceil(breakdown.perGpu.mib)} MiB) per GPU but one ${gpu.name} has ${gib(capacity)} GiB ` +
    `(${gpu.memoryMiB} MiB): ${Math.ceil(shortfall / MiB)} MiB (${gib(shortfall)} GiB) short, with tensor parallelism ${r.tensorParallel}, ` +
    `${r.dtype} weights and ${r.sequences} x ${r.contextTokens} tokens of ${r.kvDtype} KV cache`,
    `Use ${more}, a GPU with more memory, a shorter context or fewer sequences, or a quantised dtype (fp8, int4 or a GGUF quant)`);
}
