/** GPU vendors inferkit knows, each with its device-plugin extended resource. */
export enum GpuVendor {
  NVIDIA = 'nvidia',
  AMD = 'amd',
}

/** Extended resource names of the vendors' device plugins. */
export const GPU_RESOURCE_NAMES: Readonly<Record<GpuVendor, string>> = {
  [GpuVendor.NVIDIA]: 'nvidia.com/gpu',
  [GpuVendor.AMD]: 'amd.com/gpu',
};

/**
 * A number of GPUs of one vendor (and optionally one product) per pod: a value, not a bare number.
 *
 * @example Accelerator.nvidia(8, 'H100-80GB')
 */
export class Accelerator {
  /** `count` NVIDIA GPUs per pod, optionally of one product (the `nvidia.com/gpu.product` label value). */
  public static nvidia(count: number, product?: string): Accelerator {
    return new Accelerator(GpuVendor.NVIDIA, count, product);
  }

  /** `count` AMD GPUs per pod, optionally of one product (the `amd.com/gpu.product-name` label value). */
  public static amd(count: number, product?: string): Accelerator {
    return new Accelerator(GpuVendor.AMD, count, product);
  }

  private constructor(public readonly vendor: GpuVendor, public readonly count: number, public readonly product?: string) {
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`Unable to create an accelerator: count ${count} is not a positive integer. Use 1 or more GPUs.`);
    }
  }

  /** The extended resource this accelerator is requested as. */
  public get resourceName(): string {
    return GPU_RESOURCE_NAMES[this.vendor];
  }

  /** Node labels (GPU feature discovery) that select this accelerator's product, if one was given. */
  public get nodeSelector(): Record<string, string> {
    if (!this.product) return {};
    return this.vendor === GpuVendor.NVIDIA
      ? { 'nvidia.com/gpu.product': this.product }
      : { 'amd.com/gpu.product-name': this.product };
  }
}
