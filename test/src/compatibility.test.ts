import { checkEngineCompatibility, CompatibilityOptions, ENGINES, findGpu, formatIssue, GpuRequest, Issues, resolveVendor } from '../../src';

const gpu = (name: string) => findGpu(name)!;

function errorsOf(engine: string, request: GpuRequest, options?: CompatibilityOptions): string[] {
  const issues = new Issues('Model/m');
  checkEngineCompatibility(issues, 'spec', ENGINES.get(engine)!, request, options);
  return issues.all.map(formatIssue);
}

describe('engine and GPU compatibility', () => {
  test.each<[string, string, GpuRequest, CompatibilityOptions | undefined]>([
    ['vllm on 8 H100s', 'vllm', { vendor: 'nvidia', product: gpu('H100-80GB'), count: 8 }, undefined],
    ['vllm on a T4', 'vllm', { vendor: 'auto', product: gpu('T4') }, undefined],
    ['vllm on MI300X', 'vllm', { vendor: 'amd', product: gpu('MI300X') }, undefined],
    ['sglang on MI300X, its image target', 'sglang', { vendor: 'auto', product: gpu('MI300X') }, undefined],
    ['llamacpp on Maxwell', 'llamacpp', { vendor: 'nvidia', product: gpu('GTX-980-Ti') }, undefined],
    ['ollama on Maxwell', 'ollama', { vendor: 'auto', product: gpu('GTX-980-Ti') }, undefined],
    ['ollama on CPU', 'ollama', { vendor: 'cpu' }, undefined],
    ['llamacpp on an RDNA3 card', 'llama.cpp', { vendor: 'amd', product: gpu('RX-7900-XTX') }, undefined],
    ['mlc-llm on Maxwell with a read-only JIT and an image', 'mlc', { vendor: 'nvidia', product: gpu('GTX-980-Ti') },
      { image: 'registry.example/mlc:cuda-maxwell', config: { jitPolicy: 'READONLY' } }],
    ['TFServing on CPU', 'TFServing', { vendor: 'cpu' }, undefined],
    ['Triton on NVIDIA with no product', 'Triton', { vendor: 'nvidia', count: 1 }, undefined],
  ])('accepts %s', (_, engine, request, options) => {
    expect(errorsOf(engine, request, options)).toEqual([]);
  });

  test.each<[string, string, GpuRequest, CompatibilityOptions | undefined, string[]]>([
    ['vllm on Maxwell', 'vllm', { vendor: 'nvidia', product: gpu('GTX-980-Ti') }, undefined,
      ["Unable to synthesize Model/m: spec.engine 'vllm' cannot run on Maxwell GPU GTX-980-Ti (compute capability 5.2): it needs 7.0 or newer. " +
        'Use another engine (llamacpp, ollama, mlc-llm), or a GPU of compute capability 7.0 or newer.']],
    ['vllm-omni on Maxwell', 'vllm-omni', { vendor: 'auto', product: gpu('GTX-980-Ti') }, undefined,
      ["Unable to synthesize Model/m: spec.engine 'vllm-omni' cannot run on Maxwell GPU GTX-980-Ti (compute capability 5.2): it needs 7.0 or newer. " +
        'Use another engine (llamacpp, ollama, mlc-llm), or a GPU of compute capability 7.0 or newer.']],
    ['diffusers on Maxwell', 'diffusers', { vendor: 'nvidia', product: gpu('GTX-980-Ti') }, { image: 'registry.example/diffusers-api:cuda' },
      ["Unable to synthesize Model/m: spec.engine 'diffusers' cannot run on Maxwell GPU GTX-980-Ti (compute capability 5.2): it needs 6.0 or newer. " +
        'Use another engine (llamacpp, ollama, mlc-llm), or a GPU of compute capability 6.0 or newer.']],
    ['mlc-llm on Maxwell without a precompiled library', 'mlc-llm', { vendor: 'nvidia', product: gpu('GTX-980-Ti') },
      { image: 'registry.example/mlc:cuda-maxwell', modelName: 'llama3-8b', config: { jitPolicy: 'ON' } },
      ["Unable to synthesize Model/m: spec.config.jitPolicy 'ON' must be 'READONLY' for mlc-llm on Maxwell GPU GTX-980-Ti, which its JIT cannot compile for. " +
        'Compile the model library for sm_52 (FP32 quantisation), put it at /models/llama3-8b/maxwell-lib.so or set config.modelLibPath, and set ' +
        'config.jitPolicy to READONLY.']],
    ['vendor nvidia on an AMD product', 'vllm', { vendor: 'nvidia', product: gpu('MI300X') }, undefined,
      ["Unable to synthesize Model/m: spec.gpu.vendor 'nvidia' selects vendor nvidia on an AMD-only product (MI300X): there is no cross-vendor fallback. " +
        'Set vendor to amd or auto, or choose an NVIDIA product.']],
    ['vendor amd on an NVIDIA product', 'vllm', { vendor: 'amd', product: gpu('H100-80GB') }, undefined,
      ["Unable to synthesize Model/m: spec.gpu.vendor 'amd' selects vendor amd on an NVIDIA-only product (H100-80GB): there is no cross-vendor fallback. " +
        'Set vendor to nvidia or auto, or choose an AMD product.']],
    ['vendor cpu with a GPU count', 'llamacpp', { vendor: 'cpu', count: 1 }, undefined,
      ['Unable to synthesize Model/m: spec.gpu.count 1 is set with vendor cpu. Remove count, or choose vendor nvidia, amd or auto.']],
    ['vendor cpu with a GPU product', 'llamacpp', { vendor: 'cpu', product: gpu('L4') }, undefined,
      ["Unable to synthesize Model/m: spec.gpu.product 'L4' is a GPU product but the vendor is cpu. Remove the product, or choose vendor auto."]],
    ['no GPUs', 'vllm', { vendor: 'nvidia', count: 0 }, undefined,
      ['Unable to synthesize Model/m: spec.gpu.count 0 is not a positive whole number of GPUs. Use 1 or more.']],
    ['vllm on CPU', 'vllm', { vendor: 'cpu' }, undefined,
      ["Unable to synthesize Model/m: spec.engine 'vllm' has no image for vendor cpu; it has images for nvidia, amd. Choose vendor nvidia or amd, or set spec.image."]],
    ['TFServing on AMD', 'TFServing', { vendor: 'amd' }, undefined,
      ["Unable to synthesize Model/m: spec.engine 'TFServing' has no image for vendor amd; it has images for nvidia, cpu. Choose vendor nvidia or cpu, " +
        'or set spec.image.']],
    ['mlc-llm with no image', 'mlc-llm', { vendor: 'nvidia' }, undefined,
      ["Unable to synthesize Model/m: spec.engine 'mlc-llm' has no built-in image. Set spec.image to an image that runs mlc-llm."]],
    ['sglang on MI210, which its AMD image is not built for', 'sglang', { vendor: 'amd', product: gpu('MI210') }, undefined,
      ["Unable to synthesize Model/m: spec.engine 'sglang' has an AMD image built for gfx942, not for MI210 (gfx90a). Set spec.image to an image built for gfx90a, " +
        'or choose another engine or GPU.']],
    ['everything at once', 'diffusers', { vendor: 'amd', product: gpu('GTX-980-Ti') }, undefined, [
      "Unable to synthesize Model/m: spec.gpu.vendor 'amd' selects vendor amd on an NVIDIA-only product (GTX-980-Ti): there is no cross-vendor fallback. " +
        'Set vendor to nvidia or auto, or choose an AMD product.',
      "Unable to synthesize Model/m: spec.engine 'diffusers' cannot run on Maxwell GPU GTX-980-Ti (compute capability 5.2): it needs 6.0 or newer. " +
        'Use another engine (llamacpp, ollama, mlc-llm), or a GPU of compute capability 6.0 or newer.',
      "Unable to synthesize Model/m: spec.engine 'diffusers' has no built-in image. Set spec.image to an image that runs diffusers.",
    ]],
  ])('refuses %s', (_, engine, request, options, expected) => {
    expect(errorsOf(engine, request, options)).toEqual(expected);
  });

  test('field names need no prefix', () => {
    const issues = new Issues('Model/m');
    checkEngineCompatibility(issues, '', ENGINES.get('vllm')!, { vendor: 'cpu' });
    expect(issues.all.map(i => i.field)).toEqual(['engine']);
  });

  test.each<[GpuRequest, string]>([
    [{ vendor: 'auto' }, 'nvidia'],
    [{ vendor: 'auto', product: gpu('MI300X') }, 'amd'],
    [{ vendor: 'auto', product: gpu('L4') }, 'nvidia'],
    [{ vendor: 'amd' }, 'amd'],
    [{ vendor: 'cpu' }, 'cpu'],
  ])('%j chooses images for %s', (request, vendor) => {
    expect(resolveVendor(request)).toBe(vendor);
  });
});
