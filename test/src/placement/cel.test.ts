import {
  CelQuantity, compileDeviceSelector, deviceSelectorError, evaluateDeviceSelector, FleetDevice, parseSemver,
} from '../../../src';

const h100: FleetDevice = {
  name: 'gpu',
  driver: 'gpu.nvidia.com',
  deviceClassName: 'gpu.nvidia.com',
  count: 8,
  attributes: {
    'productName': 'NVIDIA H100 80GB HBM3',
    'architecture': 'Hopper',
    'cudaComputeCapability': { version: '9.0.0' },
    'driverVersion': { version: '550.54.15' },
    'index': 3,
    'mig': false,
    'pci.example.com/slot': 7,
  },
  capacity: { 'memory': '80Gi', 'example.com/bandwidth': '900G' },
};

describe('DRA CEL selectors against a device', () => {
  test.each<[string, boolean]>([
    // device.driver
    ["device.driver == 'gpu.nvidia.com'", true],
    ["device.driver.startsWith('amd')", false],
    // typed attributes in the driver's domain: string, int, bool, version
    ["device.attributes['gpu.nvidia.com'].productName == 'NVIDIA H100 80GB HBM3'", true],
    ["device.attributes['gpu.nvidia.com'].architecture in ['Hopper', 'Blackwell']", true],
    ["device.attributes['gpu.nvidia.com'].index >= 2 && device.attributes['gpu.nvidia.com'].index < 4", true],
    ['!device.attributes["gpu.nvidia.com"].mig', true],
    ["device.attributes['gpu.nvidia.com'].cudaComputeCapability.isGreaterThan(semver('8.0.0'))", true],
    ["device.attributes['gpu.nvidia.com'].driverVersion.compareTo(semver('560.0.0')) < 0", true],
    ["device.attributes['gpu.nvidia.com'].cudaComputeCapability.major() == 9", true],
    ["device.attributes['gpu.nvidia.com'].cudaComputeCapability == semver('9.0.0')", true],
    // an attribute given as <domain>/<name> is read under its own domain
    ["device.attributes['pci.example.com'].slot == 7", true],
    // capacity as quantities
    ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80Gi')) >= 0", true],
    ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('141Gi')) >= 0", false],
    ["device.capacity['gpu.nvidia.com'].memory.isGreaterThan(quantity('40Gi'))", true],
    ["device.capacity['gpu.nvidia.com'].memory.isLessThan(quantity('40Gi'))", false],
    ["device.capacity['gpu.nvidia.com'].memory == quantity('81920Mi')", true],
    ["device.capacity['gpu.nvidia.com'].memory != quantity('80G')", true],
    ["device.capacity['example.com'].bandwidth.asInteger() == 900000000000", true],
    // a domain the device has nothing in reads as an empty map, as in Kubernetes
    ["'x' in device.attributes['other.example.com']", false],
    ["!('memory' in device.capacity['other.example.com'])", true],
    ["'productName' in device.attributes['gpu.nvidia.com']", true],
  ])('%s is %s', (expression, expected) => {
    expect(deviceSelectorError(expression)).toBeUndefined();
    expect(evaluateDeviceSelector(expression, h100)).toBe(expected);
  });

  test('a runtime error means no match, and says why', () => {
    const outcome = compileDeviceSelector("device.attributes['gpu.nvidia.com'].memoryClock > 1000").matches(h100);
    expect(outcome).toEqual({ matched: false, error: expect.stringContaining('No such key: memoryClock') });
  });

  test('a dyn result that is not a bool at run time means no match', () => {
    expect(compileDeviceSelector("device.attributes['gpu.nvidia.com'].productName").matches(h100))
      .toEqual({ matched: false, error: 'returns string, not a bool' });
  });

  test('a device without attributes or capacity still evaluates', () => {
    const bare: FleetDevice = { name: 'nic', driver: 'rdma.example.com' };
    expect(evaluateDeviceSelector("device.driver == 'rdma.example.com'", bare)).toBe(true);
    expect(evaluateDeviceSelector("'memory' in device.capacity['rdma.example.com']", bare)).toBe(false);
  });
});

describe('selectors that do not compile', () => {
  test.each<[string, string]>([
    ['device.driver ==', 'Unexpected token'],
    ['', 'the expression is empty'],
    ['1 + 1', 'it returns int, not a bool'],
    ["device.vendor == 'nvidia'", 'No such key: vendor'],
    ['quantity(80)', "found no matching overload for 'quantity(int)'"],
    ["device.capacity['gpu.nvidia.com'].memory.compareTo(80) > 0", 'no matching overload'],
    ["device.capacity['gpu.nvidia.com'].memory > quantity('1Gi')", 'no such overload'],
    ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80GB')) >= 0", "quantity('80GB') is not a Kubernetes quantity"],
    ["device.attributes['gpu.nvidia.com'].driverVersion.isGreaterThan(semver('v550'))", "semver('v550') is not a semantic version"],
  ])('%s: %s', (expression, problem) => {
    expect(deviceSelectorError(expression)).toContain(problem);
    expect(() => compileDeviceSelector(expression)).toThrow(problem);
  });

  test('an expression longer than the 10240 characters Kubernetes allows does not compile', () => {
    expect(deviceSelectorError(`device.driver == '${'x'.repeat(10_240)}'`)).toBe('the expression is longer than 10240 characters');
  });

  test('the error says where', () => {
    expect(deviceSelectorError('device.driver ==')).toBe('Unexpected token: EOF at character 17');
  });
});

describe('the Kubernetes quantity library', () => {
  test.each([
    "quantity('1Gi').compareTo(quantity('1024Mi')) == 0",
    "quantity('1').compareTo(quantity('1001m')) == -1",
    "quantity('2k').compareTo(quantity('1999')) == 1",
    "quantity('1.5Gi').isInteger()",
    "!quantity('1500m').isInteger()",
    "quantity('5').asInteger() == 5",
    "quantity('1500m').asApproximateFloat() == 1.5",
    "quantity('-3').sign() == -1",
    "quantity('1Gi').add(quantity('1Gi')) == quantity('2Gi')",
    "quantity('1Gi').add(1) == quantity('1073741825')",
    "quantity('1').sub(quantity('500m')) == quantity('0.5')",
    "quantity('10').sub(3).asInteger() == 7",
    "isQuantity('80Gi')",
    "!isQuantity('80GB')",
  ])('%s', expression => {
    expect(evaluateDeviceSelector(expression, h100)).toBe(true);
  });

  test('asInteger of a fraction fails at run time', () => {
    expect(compileDeviceSelector("quantity('1500m').asInteger() == 1").matches(h100).error).toContain('is not an integer');
  });

  test('parses exactly, to the nano-unit', () => {
    expect(CelQuantity.parse('80Gi').nanos).toBe(80n * 1024n ** 3n * 1_000_000_000n);
    expect(CelQuantity.parse('500m').toString()).toBe('500m');
  });
});

describe('the Kubernetes semver library', () => {
  test.each([
    "semver('1.2.3').compareTo(semver('1.2.4')) == -1",
    "semver('1.10.0').isGreaterThan(semver('1.9.9'))",
    "semver('1.0.0-alpha').isLessThan(semver('1.0.0'))",
    "semver('1.0.0-alpha.1').isLessThan(semver('1.0.0-alpha.beta'))",
    "semver('1.0.0-alpha.2').isLessThan(semver('1.0.0-alpha.10'))",
    "semver('1.0.0+build.1') == semver('1.0.0+build.2')",
    "semver('2.7.13').major() == 2",
    "semver('2.7.13').minor() == 7",
    "semver('2.7.13').patch() == 13",
    "semver('v1.2', true) == semver('1.2.0')",
    "isSemver('1.2.3')",
    "!isSemver('1.2')",
    "!isSemver('01.2.3')",
    "isSemver('v01.2', true)",
  ])('%s', expression => {
    expect(evaluateDeviceSelector(expression, h100)).toBe(true);
  });

  test('parses strictly unless asked to normalize', () => {
    expect(() => parseSemver('1.2')).toThrow("'1.2' is not a semantic version");
    expect(() => parseSemver('1.2.3-01')).toThrow();
    expect(parseSemver('v1.2', true).toString()).toBe('1.2.0');
    expect(parseSemver('1.2.3-rc.1+sha.5114f85').toString()).toBe('1.2.3-rc.1+sha.5114f85');
  });
});
