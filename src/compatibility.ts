import { GpuVendor } from './accelerator';
import { EngineSpec, EngineVendor } from './engines';
import { Issues } from './errors';
import { GpuSpec, isMaxwell } from './gpus';

/** The vendor a model asks for (FlexInfer `spec.gpu.vendor`): `auto` lets the product decide. */
export type GpuVendorChoice = 'auto' | 'nvidia' | 'amd' | 'cpu';

/** The GPUs a model asks for (FlexInfer `spec.gpu`). */
export interface GpuRequest {
  /** The vendor asked for; `nvidia` and `amd` never fall back to the other. */
  readonly vendor: GpuVendorChoice;
  /**
   * GPUs per replica; not allowed with vendor `cpu`.
   * @default 1 with a GPU vendor
   */
  readonly count?: number;
  /**
   * The GPU product to run on, from the catalogue.
   * @default - any product of the vendor
   */
  readonly product?: GpuSpec;
}

/** What else the compatibility rules look at. */
export interface CompatibilityOptions {
  /** The engine settings (`spec.config`). */
  readonly config?: Readonly<Record<string, unknown>>;
  /** The name the model is served as, for paths in messages. */
  readonly modelName?: string;
  /**
   * An image that replaces the engine's own.
   * @default - the engine's image for the vendor
   */
  readonly image?: string;

  /**
   * The field that sets the image, as fixes name it.
   * @default 'image' (under the checked field)
   */
  readonly imageField?: string;
}

const vendorOf = (gpu: GpuSpec): EngineVendor => (gpu.vendor === GpuVendor.NVIDIA ? 'nvidia' : 'amd');
const VENDOR_NAMES: Record<EngineVendor, string> = { nvidia: 'NVIDIA', amd: 'AMD', cpu: 'CPU' };

/**
 * The vendor images are chosen for: the one asked for; for `auto`, the product's vendor, else NVIDIA.
 */
export function resolveVendor(gpu: GpuRequest): EngineVendor {
  if (gpu.vendor !== 'auto') return gpu.vendor;
  return gpu.product ? vendorOf(gpu.product) : 'nvidia';
}

function capabilityBelow(actual: string, min: string): boolean {
  const [a, b] = [actual, min].map(v => v.split('.').map(Number));
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/**
 * Checks that an engine can serve on the GPUs asked for, recording every problem: a GPU count or product with
 * vendor `cpu`; a vendor that is not the product's (there is no cross-vendor fallback); an engine that needs a
 * newer GPU (vllm, vllm-omni and diffusers on Maxwell) or engine-specific rules (mlc-llm on Maxwell needs a
 * precompiled library); an engine with no image for the vendor or the product's gfx target. Fields are named
 * `engine`, `gpu.vendor`, `gpu.count`, `gpu.product`, `config.<key>`, under `field` when it is not empty.
 */
export function checkEngineCompatibility(
  issues: Issues, field: string, engine: EngineSpec, gpu: GpuRequest, options: CompatibilityOptions = {},
): void {
  const at = (name: string) => (field ? `${field}.${name}` : name);
  // With vendor cpu, a product is an error of its own, not a GPU to check.
  const product = gpu.vendor === 'cpu' ? undefined : gpu.product;
  const config = options.config ?? {};
  if (gpu.vendor === 'cpu') {
    issues.check(gpu.count === undefined, at('gpu.count'), gpu.count, 'is set with vendor cpu', 'Remove count, or choose vendor nvidia, amd or auto');
    issues.check(gpu.product === undefined, at('gpu.product'), gpu.product?.name, 'is a GPU product but the vendor is cpu', 'Remove the product, or choose vendor auto');
  } else if (gpu.count !== undefined) {
    issues.check(Number.isInteger(gpu.count) && gpu.count >= 1, at('gpu.count'), gpu.count, 'is not a positive whole number of GPUs', 'Use 1 or more');
  }
  if (product && gpu.vendor !== 'auto' && vendorOf(product) !== gpu.vendor) {
    const own = vendorOf(product);
    issues.add(at('gpu.vendor'), gpu.vendor, `selects vendor ${gpu.vendor} on an ${VENDOR_NAMES[own]}-only product (${product.name}): there is no cross-vendor fallback`,
      `Set vendor to ${own} or auto, or choose an ${VENDOR_NAMES[gpu.vendor]} product`);
  }
  if (product?.computeCapability && engine.minComputeCapability && capabilityBelow(product.computeCapability, engine.minComputeCapability)) {
    const maxwell = isMaxwell(product) ? 'Maxwell ' : '';
    issues.add(at('engine'), engine.name, `cannot run on ${maxwell}GPU ${product.name} (compute capability ${product.computeCapability}): ` +
      `it needs ${engine.minComputeCapability} or newer`, `Use another engine (llamacpp, ollama, mlc-llm), or a GPU of compute capability ${engine.minComputeCapability} or newer`);
  }
  if (product && engine.checkGpu) {
    engine.checkGpu(product, { modelName: options.modelName ?? '<modelName>', config }, (key, value, cause, fix) => issues.add(at(`config.${key}`), value, cause, fix));
  }
  if (options.image !== undefined) return;
  const imageField = options.imageField ?? at('image');
  const vendor = resolveVendor(gpu);
  const vendors = Object.keys(engine.images);
  if (engine.images[vendor] === undefined) {
    issues.add(at('engine'), engine.name, vendors.length > 0 ? `has no image for vendor ${vendor}; it has images for ${vendors.join(', ')}` : 'has no built-in image',
      vendors.length > 0 ? `Choose vendor ${vendors.join(' or ')}, or set ${imageField}` : `Set ${imageField} to an image that runs ${engine.name}`);
  } else if (vendor === 'amd' && product?.gfxTarget && engine.amdGfxTargets && !engine.amdGfxTargets.includes(product.gfxTarget)) {
    issues.add(at('engine'), engine.name, `has an AMD image built for ${engine.amdGfxTargets.join(', ')}, not for ${product.name} (${product.gfxTarget})`,
      `Set ${imageField} to an image built for ${product.gfxTarget}, or choose another engine or GPU`);
  }
}
