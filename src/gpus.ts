import { GpuVendor } from './accelerator';

/** GPU micro-architectures the catalogue knows. */
export enum GpuArchitecture {
  MAXWELL = 'Maxwell',
  TURING = 'Turing',
  AMPERE = 'Ampere',
  ADA = 'Ada Lovelace',
  HOPPER = 'Hopper',
  BLACKWELL = 'Blackwell',
  CDNA2 = 'CDNA2',
  CDNA3 = 'CDNA3',
  RDNA3 = 'RDNA3',
}

/**
 * One GPU product: what the scheduler sees of it (node labels) and what sizing needs (memory).
 *
 * Memory is what the driver reports per device, the value of the feature-discovery memory label, not the
 * marketing figure: an H100 80GB reports 81559 MiB.
 */
export interface GpuSpec {
  /** Short catalogue name, such as `H100-80GB`, `L4`, `MI300X`. */
  readonly name: string;
  /** Who makes it, and so which device plugin resource (`nvidia.com/gpu`, `amd.com/gpu`) it is requested as. */
  readonly vendor: GpuVendor;
  /** Memory of one device (one `nvidia.com/gpu` or `amd.com/gpu`), in MiB. */
  readonly memoryMiB: number;
  /** Micro-architecture, which engines' compatibility rules look at. */
  readonly architecture: GpuArchitecture;
  /** CUDA compute capability (`major.minor`), NVIDIA only. */
  readonly computeCapability?: string;
  /** LLVM gfx target, AMD only, such as `gfx942`. */
  readonly gfxTarget?: string;
  /**
   * Value of the product label: `nvidia.com/gpu.product` (NVIDIA GPU feature discovery) or
   * `amd.com/gpu.product-name` (AMD node labeller).
   */
  readonly productLabel: string;
}

/** Node label that GPU feature discovery sets to the NVIDIA product name. */
export const NVIDIA_PRODUCT_LABEL = 'nvidia.com/gpu.product';
/** Node label that the AMD node labeller sets to the product name. */
export const AMD_PRODUCT_LABEL = 'amd.com/gpu.product-name';

const nvidia = (name: string, architecture: GpuArchitecture, computeCapability: string, memoryMiB: number, productLabel: string): GpuSpec =>
  ({ name, vendor: GpuVendor.NVIDIA, architecture, computeCapability, memoryMiB, productLabel });
const amd = (name: string, architecture: GpuArchitecture, gfxTarget: string, memoryMiB: number, productLabel: string): GpuSpec =>
  ({ name, vendor: GpuVendor.AMD, architecture, gfxTarget, memoryMiB, productLabel });

/**
 * The GPU catalogue.
 *
 * NVIDIA product labels are the NVML device name with spaces as dashes, as GPU feature discovery writes them
 * (SXM variants where a product has several); memory is the NVML total in MiB. Values seen on real nodes:
 * T4 `Tesla-T4`, A10 `NVIDIA-A10` 23028, L4 `NVIDIA-L4` 23034, L40S `NVIDIA-L40S` 46068, A100 80GB
 * `NVIDIA-A100-SXM4-80GB` 81920, H100 `NVIDIA-H100-80GB-HBM3` 81559, H200 `NVIDIA-H200`, B200 `NVIDIA-B200`.
 * Not certain: the GTX 980 Ti name (drivers before ~R470 omit the `NVIDIA-` prefix) and the memory of the
 * T4 (15360; some drivers report 15109), A100 40GB, H200 (143771) and B200 (183359), which vary with driver
 * and ECC.
 *
 * AMD product labels are the sysfs `product_name` with spaces as underscores (k8s-device-plugin node labeller);
 * `AMD_Instinct_MI300X_OAM` is AMD's documented example. Not certain: the MI210, MI250 and RX 7900 XTX
 * names. An MI250 shows up as two devices (one per GCD) of 64 GiB each, so it is catalogued per GCD.
 */
export const GPUS: readonly GpuSpec[] = [
  nvidia('GTX-980-Ti', GpuArchitecture.MAXWELL, '5.2', 6144, 'NVIDIA-GeForce-GTX-980-Ti'),
  nvidia('T4', GpuArchitecture.TURING, '7.5', 15360, 'Tesla-T4'),
  nvidia('A10', GpuArchitecture.AMPERE, '8.6', 23028, 'NVIDIA-A10'),
  nvidia('L4', GpuArchitecture.ADA, '8.9', 23034, 'NVIDIA-L4'),
  nvidia('L40S', GpuArchitecture.ADA, '8.9', 46068, 'NVIDIA-L40S'),
  nvidia('A100-40GB', GpuArchitecture.AMPERE, '8.0', 40960, 'NVIDIA-A100-SXM4-40GB'),
  nvidia('A100-80GB', GpuArchitecture.AMPERE, '8.0', 81920, 'NVIDIA-A100-SXM4-80GB'),
  nvidia('H100-80GB', GpuArchitecture.HOPPER, '9.0', 81559, 'NVIDIA-H100-80GB-HBM3'),
  nvidia('H200', GpuArchitecture.HOPPER, '9.0', 143771, 'NVIDIA-H200'),
  nvidia('B200', GpuArchitecture.BLACKWELL, '10.0', 183359, 'NVIDIA-B200'),
  amd('MI210', GpuArchitecture.CDNA2, 'gfx90a', 65536, 'AMD_Instinct_MI210'),
  amd('MI250', GpuArchitecture.CDNA2, 'gfx90a', 65536, 'AMD_Instinct_MI250'),
  amd('MI300X', GpuArchitecture.CDNA3, 'gfx942', 196608, 'AMD_Instinct_MI300X_OAM'),
  amd('RX-7900-XTX', GpuArchitecture.RDNA3, 'gfx1100', 24576, 'AMD_Radeon_RX_7900_XTX'),
];

/** Finds a GPU by catalogue name or product label value, ignoring case. */
export function findGpu(nameOrProductLabel: string): GpuSpec | undefined {
  const key = nameOrProductLabel.toLowerCase();
  return GPUS.find(g => g.name.toLowerCase() === key || g.productLabel.toLowerCase() === key);
}

/**
 * Node labels that select nodes with this product: the product label alone, which both labellers set.
 * Under NVIDIA time-slicing or MPS the label gains a `-SHARED` suffix, which this selector does not match.
 */
export function gpuNodeSelector(gpu: GpuSpec): Record<string, string> {
  return gpu.vendor === GpuVendor.NVIDIA ? { [NVIDIA_PRODUCT_LABEL]: gpu.productLabel } : { [AMD_PRODUCT_LABEL]: gpu.productLabel };
}

/** GPU feature discovery's `nvidia.com/gpu.family` value per architecture. */
const NVIDIA_FAMILY: Partial<Record<GpuArchitecture, string>> = {
  [GpuArchitecture.MAXWELL]: 'maxwell',
  [GpuArchitecture.TURING]: 'turing',
  [GpuArchitecture.AMPERE]: 'ampere',
  [GpuArchitecture.ADA]: 'ada-lovelace',
  [GpuArchitecture.HOPPER]: 'hopper',
  [GpuArchitecture.BLACKWELL]: 'blackwell',
};

/**
 * The product labels a labelled node with this GPU carries (for fake nodes in tests and for node affinity):
 * NVIDIA product, memory (MiB), family and compute capability; AMD product name and VRAM (`<GiB>G`, as the
 * node labeller rounds it).
 */
export function gpuNodeLabels(gpu: GpuSpec): Record<string, string> {
  if (gpu.vendor === GpuVendor.AMD) {
    return { [AMD_PRODUCT_LABEL]: gpu.productLabel, 'amd.com/gpu.vram': `${Math.round(gpu.memoryMiB / 1024)}G` };
  }
  const [major, minor] = gpu.computeCapability!.split('.');
  return {
    [NVIDIA_PRODUCT_LABEL]: gpu.productLabel,
    'nvidia.com/gpu.memory': String(gpu.memoryMiB),
    'nvidia.com/gpu.family': NVIDIA_FAMILY[gpu.architecture]!,
    'nvidia.com/gpu.compute.major': major,
    'nvidia.com/gpu.compute.minor': minor,
  };
}

/** Whether the GPU is an NVIDIA Maxwell (compute capability 5.x), which several engines cannot run on. */
export function isMaxwell(gpu: GpuSpec): boolean {
  return gpu.architecture === GpuArchitecture.MAXWELL;
}
