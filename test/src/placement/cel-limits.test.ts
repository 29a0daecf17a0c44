import { placementProvider } from '../../../providers/placement';
import {
  compileDeviceSelector, deviceSelectorError, evaluateDeviceSelector, FleetDevice, FleetInventory, MAX_SELECTOR_COST, place, PlacementDemand,
  SpecError,
} from '../../../src';

/** A device whose product name is the text a backtracking engine needs exponential time on. */
const hostile: FleetDevice = {
  name: 'gpu',
  driver: 'gpu.nvidia.com',
  deviceClassName: 'gpu.nvidia.com',
  count: 8,
  attributes: { productName: `${'a'.repeat(30)}!`, pattern: '^(a+)+$' },
  capacity: { memory: '80Gi' },
};

const inventory: FleetInventory = { clusters: [{ name: 'a', nodePools: [{ name: 'h100', nodes: 1, devicesPerNode: [hostile] }] }] };

function demand(selector: string): PlacementDemand {
  return { name: 'llm', replicas: 1, engines: [{ name: 'llm', members: [{ deviceRequests: [{ name: 'gpu', deviceClassName: 'gpu.nvidia.com', selectors: [selector] }] }] }] };
}

const within = (ms: number, run: () => unknown) => {
  const start = Date.now();
  const result = run();
  expect(Date.now() - start).toBeLessThan(ms);
  return result;
};

const list = (n: number) => `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
/** Four comprehensions nested over lists of 100: 10^8 evaluations of the body. */
const FOUR_NESTED = `${list(100)}.all(a, ${list(100)}.all(b, ${list(100)}.all(c, ${list(100)}.all(d, a + b + c + d >= 0))))`;

describe('a regular expression that backtracks catastrophically runs in linear time (RE2), as in Kubernetes', () => {
  test("given 'aaa…a!'.matches('^(a+)+$') as a literal, the selector compiles and evaluates at once", () => {
    const expression = "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('^(a+)+$')";
    expect(within(1000, () => evaluateDeviceSelector(expression, hostile))).toBe(false);
  });

  test('given the text and the pattern from the device, placement answers at once', () => {
    const selector = "device.attributes['gpu.nvidia.com'].productName.matches(device.attributes['gpu.nvidia.com'].pattern)";
    const result = within(1000, () => place(demand(selector), inventory));
    expect((result as ReturnType<typeof place>).assignments).toEqual([]);
    expect(within(1000, () => evaluateDeviceSelector("device.attributes['gpu.nvidia.com'].productName.matches('^a+!$')", hostile))).toBe(true);
  });

  test('a pattern RE2 does not accept (a backreference) is refused when compiling, naming the pattern', () => {
    expect(deviceSelectorError("device.driver.matches('(a)\\\\1')")).toBe(
      "matches(): '(a)\\1' is not an RE2 regular expression: error parsing regexp: invalid escape sequence: `\\1`");
  });

  test('a type error in a matches() call still names matches()', () => {
    expect(deviceSelectorError('device.driver.matches(1)')).toContain('string.matches(int)');
  });

  test('a pattern that only fails on a device (from an attribute) means no match, with the reason', () => {
    const selector = compileDeviceSelector("device.driver.matches(device.attributes['gpu.nvidia.com'].productName + '(')");
    expect(selector.matches(hostile)).toEqual({ matched: false, error: expect.stringContaining('is not an RE2 regular expression: error parsing regexp: missing closing )') });
  });
});

describe('a selector whose estimated cost exceeds the Kubernetes limit is refused', () => {
  const costly = `its estimated cost 1104040402 exceeds Kubernetes' limit of ${MAX_SELECTOR_COST} per selector `
    + '(comprehensions nested over large lists, or long strings): nest fewer all/exists/map/filter calls, or iterate over shorter lists';

  test('four nested comprehensions over lists of 100 are refused at once', () => {
    expect(within(1000, () => deviceSelectorError(FOUR_NESTED))).toBe(costly);
    expect(() => compileDeviceSelector(FOUR_NESTED)).toThrow(`CEL selector ${JSON.stringify(FOUR_NESTED)} does not compile: ${costly}`);
  });

  test('four nested comprehensions over a device\'s attributes are refused too (DRA bounds them, not enough)', () => {
    const attrs = "device.attributes['gpu.nvidia.com']";
    const expression = `${attrs}.exists(k, ${attrs}.exists(l, ${attrs}.exists(m, ${attrs}.exists(n, k == l))))`;
    expect(deviceSelectorError(expression)).toMatch(/^its estimated cost \d+ exceeds Kubernetes' limit of 1000000 per selector/);
  });

  test('place() refuses it before evaluating anything, naming the request, the selector and the limit', () => {
    const run = () => within(1000, () => place(demand(FOUR_NESTED), inventory));
    expect(run).toThrow(SpecError);
    expect(run).toThrow(`Unable to synthesize ModelDeployment/llm: engines[0].members[0].deviceRequests[0].selectors[0] '${FOUR_NESTED.slice(0, 76)}... `
      + `of request 'gpu' is not a valid device selector: ${costly}. Write a CEL expression`);
  });

  test('the Placement provider refuses it at preview (check), with the same message', async () => {
    const result = await placementProvider.check!({}, { demand: demand(FOUR_NESTED), clusters: [{ name: 'a', nodePools: inventory.clusters[0].nodePools }] });
    expect(result.failures).toEqual([{ property: 'engines', reason: expect.stringContaining(`of request 'gpu' is not a valid device selector: ${costly}.`) }]);
  });

  test.each([
    "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0",
    "device.attributes['gpu.nvidia.com'].productName.matches('^NVIDIA H(100|200)')",
    "device.attributes['gpu.nvidia.com'].exists(k, device.attributes['gpu.nvidia.com'].exists(l, k == l))",
    `${list(1000)}.exists(x, x == 999)`,
    "['a', 'b'].map(x, x + x).join(',').size() > 1",
  ])('an ordinary selector stays well within the limit: %s', expression => {
    expect(deviceSelectorError(expression)).toBeUndefined();
  });
});
