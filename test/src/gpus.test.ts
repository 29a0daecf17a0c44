import { findGpu, GpuArchitecture, GPUS, gpuNodeLabels, gpuNodeSelector, GpuVendor, isMaxwell } from '../../src';

describe('the GPU catalogue', () => {
  test.each([
    ['GTX-980-Ti', GpuVendor.NVIDIA, GpuArchitecture.MAXWELL, '5.2', undefined, 6144, 'NVIDIA-GeForce-GTX-980-Ti'],
    ['T4', GpuVendor.NVIDIA, GpuArchitecture.TURING, '7.5', undefined, 15360, 'Tesla-T4'],
    ['A10', GpuVendor.NVIDIA, GpuArchitecture.AMPERE, '8.6', undefined, 23028, 'NVIDIA-A10'],
    ['L4', GpuVendor.NVIDIA, GpuArchitecture.ADA, '8.9', undefined, 23034, 'NVIDIA-L4'],
    ['L40S', GpuVendor.NVIDIA, GpuArchitecture.ADA, '8.9', undefined, 46068, 'NVIDIA-L40S'],
    ['A100-40GB', GpuVendor.NVIDIA, GpuArchitecture.AMPERE, '8.0', undefined, 40960, 'NVIDIA-A100-SXM4-40GB'],
    ['A100-80GB', GpuVendor.NVIDIA, GpuArchitecture.AMPERE, '8.0', undefined, 81920, 'NVIDIA-A100-SXM4-80GB'],
    ['H100-80GB', GpuVendor.NVIDIA, GpuArchitecture.HOPPER, '9.0', undefined, 81559, 'NVIDIA-H100-80GB-HBM3'],
    ['H200', GpuVendor.NVIDIA, GpuArchitecture.HOPPER, '9.0', undefined, 143771, 'NVIDIA-H200'],
    ['B200', GpuVendor.NVIDIA, GpuArchitecture.BLACKWELL, '10.0', undefined, 183359, 'NVIDIA-B200'],
    ['MI210', GpuVendor.AMD, GpuArchitecture.CDNA2, undefined, 'gfx90a', 65536, 'AMD_Instinct_MI210'],
    ['MI250', GpuVendor.AMD, GpuArchitecture.CDNA2, undefined, 'gfx90a', 65536, 'AMD_Instinct_MI250'],
    ['MI300X', GpuVendor.AMD, GpuArchitecture.CDNA3, undefined, 'gfx942', 196608, 'AMD_Instinct_MI300X_OAM'],
    ['RX-7900-XTX', GpuVendor.AMD, GpuArchitecture.RDNA3, undefined, 'gfx1100', 24576, 'AMD_Radeon_RX_7900_XTX'],
  ])('%s', (name, vendor, architecture, computeCapability, gfxTarget, memoryMiB, productLabel) => {
    expect(findGpu(name)).toEqual({ name, vendor, architecture, computeCapability, gfxTarget, memoryMiB, productLabel });
  });

  test('lists 14 GPUs with unique names and product labels', () => {
    expect(GPUS).toHaveLength(14);
    expect(new Set(GPUS.map(g => g.name)).size).toBe(14);
    expect(new Set(GPUS.map(g => g.productLabel)).size).toBe(14);
  });

  test('finds a GPU by name or product label, ignoring case', () => {
    expect(findGpu('h100-80gb')?.name).toBe('H100-80GB');
    expect(findGpu('NVIDIA-H100-80GB-HBM3')?.name).toBe('H100-80GB');
    expect(findGpu('tesla-t4')?.name).toBe('T4');
    expect(findGpu('amd_instinct_mi300x_oam')?.name).toBe('MI300X');
    expect(findGpu('H100')).toBeUndefined();
  });

  test('selects nodes by the product label of each vendor', () => {
    expect(gpuNodeSelector(findGpu('H100-80GB')!)).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    expect(gpuNodeSelector(findGpu('MI300X')!)).toEqual({ 'amd.com/gpu.product-name': 'AMD_Instinct_MI300X_OAM' });
  });

  test('node labels are those feature discovery and the AMD labeller write', () => {
    expect(gpuNodeLabels(findGpu('L4')!)).toEqual({
      'nvidia.com/gpu.product': 'NVIDIA-L4',
      'nvidia.com/gpu.memory': '23034',
      'nvidia.com/gpu.family': 'ada-lovelace',
      'nvidia.com/gpu.compute.major': '8',
      'nvidia.com/gpu.compute.minor': '9',
    });
    expect(gpuNodeLabels(findGpu('B200')!)).toMatchObject({ 'nvidia.com/gpu.compute.major': '10', 'nvidia.com/gpu.compute.minor': '0' });
    expect(gpuNodeLabels(findGpu('MI300X')!)).toEqual({ 'amd.com/gpu.product-name': 'AMD_Instinct_MI300X_OAM', 'amd.com/gpu.vram': '192G' });
    expect(gpuNodeLabels(findGpu('RX-7900-XTX')!)).toEqual({ 'amd.com/gpu.product-name': 'AMD_Radeon_RX_7900_XTX', 'amd.com/gpu.vram': '24G' });
  });

  test('only the GTX 980 Ti is Maxwell', () => {
    expect(GPUS.filter(isMaxwell).map(g => g.name)).toEqual(['GTX-980-Ti']);
  });

  test('every NVIDIA GPU has a compute capability and every AMD GPU a gfx target', () => {
    for (const g of GPUS) {
      if (g.vendor === GpuVendor.NVIDIA) expect(g.computeCapability).toMatch(/^\d+\.\d$/);
      else expect(g.gfxTarget).toMatch(/^gfx[0-9a-f]+$/);
    }
  });
});
