import {
  Accelerator, canonicalJson, formatQuantity, KubernetesVersion, nameProblem, NameRule,
  parseQuantity, ResourceTotals, revisionHash, stableHash,
} from '../../src';

describe('quantities', () => {
  test.each([
    ['8', 8_000_000_000n],
    ['500m', 500_000_000n],
    ['1.5', 1_500_000_000n],
    ['80Gi', 80n * 1024n ** 3n * 1_000_000_000n],
    ['1e3', 1000n * 1_000_000_000n],
    ['2k', 2000n * 1_000_000_000n],
  ])('parses %s exactly', (text, nanos) => {
    expect(parseQuantity(text)).toBe(nanos);
  });

  test('rejects text that is not a quantity', () => {
    expect(() => parseQuantity('eight')).toThrow("'eight' is not a Kubernetes quantity");
  });

  test.each([
    ['8', '8'], ['1500m', '1500m'], ['640Gi', '640Gi'], ['1.5Gi', '1536Mi'], ['0', '0'],
  ])('formats %s as %s', (text, out) => {
    expect(formatQuantity(parseQuantity(text))).toBe(out);
  });

  test('adds resource lists exactly, sorted, leaving out zeros', () => {
    const t = new ResourceTotals().add({ 'nvidia.com/gpu': 8, 'cpu': '500m', 'memory': '1Gi' }, 3).add({ cpu: '1', memory: '512Mi', ephemeral: '0' });
    expect(t.toRecord()).toEqual({ 'cpu': '2500m', 'memory': '3584Mi', 'nvidia.com/gpu': '24' });
    expect(Object.keys(t.toRecord())).toEqual(['cpu', 'memory', 'nvidia.com/gpu']);
  });
});

describe('hashes', () => {
  test('canonical JSON does not depend on key order and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(stableHash({ a: 1, b: 2 })).toBe(stableHash({ b: 2, a: 1 }));
  });

  test('a revision ignores replica counts at any depth but sees every other change', () => {
    const t = { roles: [{ name: 'decode', replicas: 2, workerReplicas: 3, entryTemplate: { image: 'a' } }] };
    const scaled = { roles: [{ name: 'decode', replicas: 7, workerReplicas: 3, entryTemplate: { image: 'a' } }] };
    const moreWorkers = { roles: [{ name: 'decode', replicas: 2, workerReplicas: 4, entryTemplate: { image: 'a' } }] };
    const newImage = { roles: [{ name: 'decode', replicas: 2, workerReplicas: 3, entryTemplate: { image: 'b' } }] };
    expect(revisionHash(scaled)).toBe(revisionHash(t));
    expect(revisionHash(moreWorkers)).not.toBe(revisionHash(t));
    expect(revisionHash(newImage)).not.toBe(revisionHash(t));
    expect(revisionHash(t)).toMatch(/^[0-9a-f]{10}$/);
  });
});

describe('names', () => {
  test.each([
    ['sample-0-decode-0-0', NameRule.DNS1035_LABEL, undefined, undefined],
    ['0-sample', NameRule.DNS1035_LABEL, undefined, 'is not a DNS-1035 label'],
    ['0-sample', NameRule.DNS1123_LABEL, undefined, undefined],
    ['Sample', NameRule.DNS1123_LABEL, undefined, 'is not a DNS-1123 label'],
    ['a'.repeat(64), NameRule.DNS1123_LABEL, undefined, 'is 64 characters long, more than 63'],
    ['a'.repeat(53), NameRule.DNS1123_LABEL, 52, 'is 53 characters long, more than 52'],
  ])('%s as a %s', (name, rule, max, problem) => {
    const p = nameProblem(name, rule, max);
    if (problem === undefined) expect(p).toBeUndefined();
    else expect(p).toContain(problem);
  });
});

describe('Kubernetes versions', () => {
  test('1.34 is the default and uses DRA v1; 1.33 and 1.32 the beta shapes', () => {
    expect(KubernetesVersion.DEFAULT).toBe(KubernetesVersion.V1_34);
    expect(KubernetesVersion.of('v1.34.1').resourceApiVersion).toBe('resource.k8s.io/v1');
    expect(KubernetesVersion.of('1.33').resourceApiVersion).toBe('resource.k8s.io/v1beta2');
    expect(KubernetesVersion.of('1.32').resourceApiVersion).toBe('resource.k8s.io/v1beta1');
    expect(KubernetesVersion.forResourceApi('resource.k8s.io/v1beta2')).toBe(KubernetesVersion.V1_33);
    expect(KubernetesVersion.forResourceApi('resource.k8s.io/v1alpha3')).toBeUndefined();
    expect(KubernetesVersion.V1_33.atLeast(KubernetesVersion.V1_32)).toBe(true);
    expect(KubernetesVersion.V1_32.atLeast(KubernetesVersion.V1_33)).toBe(false);
  });

  test('an unsupported version names the supported ones', () => {
    expect(() => KubernetesVersion.of('1.28')).toThrow("Unable to use Kubernetes version '1.28': supported versions are 1.32, 1.33, 1.34. Choose one of them.");
  });
});

describe('accelerators', () => {
  test('resource names and product labels per vendor', () => {
    expect(Accelerator.nvidia(8, 'NVIDIA-H100-80GB-HBM3').resourceName).toBe('nvidia.com/gpu');
    expect(Accelerator.nvidia(8, 'NVIDIA-H100-80GB-HBM3').nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    expect(Accelerator.amd(4, 'MI300X').resourceName).toBe('amd.com/gpu');
    expect(Accelerator.amd(4, 'MI300X').nodeSelector).toEqual({ 'amd.com/gpu.product-name': 'MI300X' });
    expect(Accelerator.nvidia(1).nodeSelector).toEqual({});
  });

  test('a count below one is refused', () => {
    expect(() => Accelerator.nvidia(0)).toThrow('Unable to create an accelerator: count 0 is not a positive integer. Use 1 or more GPUs.');
  });
});
