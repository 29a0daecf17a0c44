import {
  EngineDemand, FleetInventory, formatIssue, Issues, place, PlacementDemand, SpecError, validateDemand, validateInventory,
} from '../../../src';

const standalone = (name: string, extra: Partial<EngineDemand> = {}): EngineDemand => ({
  name,
  members: [{ deviceRequests: [{ name: 'gpu', deviceClassName: 'gpu.nvidia.com' }] }],
  ...extra,
});

const valid: PlacementDemand = { name: 'llama', replicas: 2, engines: [standalone('llama')] };

function messages(demand: PlacementDemand): string[] {
  const issues = new Issues('ModelDeployment/llama');
  validateDemand(issues, demand);
  return issues.all.map(formatIssue);
}

describe('validateDemand: one test per message', () => {
  test('a valid demand has no issues', () => {
    expect(messages(valid)).toEqual([]);
  });

  test('a CEL selector that does not compile names the request and the expression', () => {
    const demand: PlacementDemand = {
      ...valid,
      engines: [{
        name: 'llama',
        members: [{ deviceRequests: [{ name: 'gpu', deviceClassName: 'gpu.nvidia.com', selectors: ["device.capacity['gpu.nvidia.com'].memory >="] }] }],
      }],
    };
    expect(messages(demand)).toEqual([
      "Unable to synthesize ModelDeployment/llama: engines[0].members[0].deviceRequests[0].selectors[0] 'device.capacity['gpu.nvidia.com'].memory >=' "
      + "of request 'gpu' is not a valid device selector: Unexpected token: EOF at character 44. "
      + "Write a CEL expression over device.driver, device.attributes['<domain>'].<name> and device.capacity['<domain>'].<name> that returns a bool, "
      + "such as device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('80Gi')) >= 0.",
    ]);
  });

  test('a CEL selector of the wrong type is refused too', () => {
    const demand: PlacementDemand = {
      ...valid,
      engines: [{ name: 'llama', members: [{ deviceRequests: [{ name: 'gpu', deviceClassName: 'gpu.nvidia.com', selectors: ["device.capacity['gpu.nvidia.com'].memory"] }] }] }],
    };
    expect(messages(demand)).toEqual([expect.stringContaining("of request 'gpu' is not a valid device selector: it returns Quantity, not a bool.")]);
  });

  test('a Worker without a Leader', () => {
    const demand: PlacementDemand = {
      ...valid,
      engines: [{ name: 'llama', members: [{ role: 'Worker', pods: 2, deviceRequests: [{ name: 'gpu', count: 8, deviceClassName: 'gpu.nvidia.com' }] }] }],
    };
    expect(messages(demand)).toEqual([
      "Unable to synthesize ModelDeployment/llama: engines[0].members 'Worker' has a Worker without a Leader: workers join a leader pod. "
      + 'Give one Standalone member, or one Leader and one Worker.',
    ]);
  });

  test('9 engines', () => {
    const engines = Array.from({ length: 9 }, (_, i) => standalone(`engine-${i}`));
    expect(messages({ ...valid, engines })).toEqual([
      'Unable to synthesize ModelDeployment/llama: engines 9 is outside 1 to 8: a replica runs one to 8 engines. '
      + 'Give 1 to 8 engines; put further models in another deployment.',
    ]);
  });

  test.each<[string, EngineDemand[], string]>([
    ['one engine', [standalone('both', { phase: 'Prefill' })], '["Prefill"]'],
    ['two Prefill engines', [standalone('p1', { phase: 'Prefill' }), standalone('p2', { phase: 'Prefill' })], '["Prefill","Prefill"]'],
    ['an engine without a phase', [standalone('p', { phase: 'Prefill' }), standalone('d')], '["Prefill","none"]'],
    ['three engines', [standalone('p', { phase: 'Prefill' }), standalone('d', { phase: 'Decode' }), standalone('x', { phase: 'Decode' })], '["Prefill","Decode","Decode"]'],
  ])('PrefillDecode with %s', (_, engines, shown) => {
    expect(messages({ ...valid, servingMode: 'PrefillDecode', engines })).toEqual([
      `Unable to synthesize ModelDeployment/llama: engines ${shown} do not make PrefillDecode serving, which needs exactly two engines, one Prefill and one Decode. `
      + 'Give one engine with phase Prefill and one with phase Decode, or use Unified serving.',
    ]);
  });

  test('PrefillDecode with one Prefill and one Decode engine is valid', () => {
    expect(messages({ ...valid, servingMode: 'PrefillDecode', engines: [standalone('p', { phase: 'Prefill' }), standalone('d', { phase: 'Decode' })] })).toEqual([]);
  });

  test.each<[string, PlacementDemand, string]>([
    ['no engines', { ...valid, engines: [] }, 'engines 0 is outside 1 to 8'],
    ['a negative replica count', { ...valid, replicas: -1 }, 'replicas -1 is not a whole number of replicas'],
    ['a duplicate engine name', { ...valid, engines: [standalone('a'), standalone('a')] }, "engines[1].name 'a' is used by another engine"],
    ['an engine name that is not a DNS label', { ...valid, engines: [standalone('Big_Model')] }, "engines[0].name 'Big_Model' is not a DNS label"],
    ['65 copies', { ...valid, engines: [standalone('a', { copies: 65 })] }, 'engines[0].copies 65 is outside 1 to 64'],
    ['a phase in Unified serving', { ...valid, engines: [standalone('a', { phase: 'Decode' })] }, "engines[0].phase 'Decode' is set, but serving is Unified"],
    ['an engine that claims nothing', { ...valid, engines: [{ name: 'a', members: [{}] }] }, "engines[0].members 'a' claims no devices in any member"],
    ['two Standalone members', { ...valid, engines: [{ name: 'a', members: [{ deviceRequests: [{ name: 'g', deviceClassName: 'c' }] }, {}] }] },
      "engines[0].members 'Standalone+Standalone' is neither one Standalone member nor one Leader and one Worker"],
    ['64 worker nodes', { ...valid, engines: [{ name: 'a', members: [{ role: 'Leader' }, { role: 'Worker', pods: 64, deviceRequests: [{ name: 'g', deviceClassName: 'c' }] }] }] },
      'engines[0].members[1].pods 64 is outside 1 to 63 worker nodes'],
    ['a Leader of two pods', { ...valid, engines: [{ name: 'a', members: [{ role: 'Leader', pods: 2 }, { role: 'Worker', deviceRequests: [{ name: 'g', deviceClassName: 'c' }] }] }] },
      'engines[0].members[0].pods 2 is not 1: a Leader member is one pod'],
    ['a request of 65 devices', { ...valid, engines: [{ name: 'a', members: [{ deviceRequests: [{ name: 'g', count: 65, deviceClassName: 'c' }] }] }] },
      'engines[0].members[0].deviceRequests[0].count 65 is outside 1 to 64 devices'],
    ['a request without a class', { ...valid, engines: [{ name: 'a', members: [{ deviceRequests: [{ name: 'g', deviceClassName: '' }] }] }] },
      "engines[0].members[0].deviceRequests[0].deviceClassName '' is empty"],
    ['two requests of one name', { ...valid, engines: [{ name: 'a', members: [{ deviceRequests: [{ name: 'g', deviceClassName: 'c' }, { name: 'g', deviceClassName: 'd' }] }] }] },
      "engines[0].members[0].deviceRequests[1].name 'g' is used by another request of the member"],
    ['an In expression without values', { ...valid, clusterSelector: { matchExpressions: [{ key: 'region', operator: 'In' }] } },
      'clusterSelector.matchExpressions[0].values [] is empty for operator In'],
    ['an Exists toleration with a value', { ...valid, tolerations: [{ key: 'gpu', operator: 'Exists', value: 'x' }] },
      "tolerations[0].value 'x' is set on an Exists toleration, which ignores values"],
  ])('%s', (_, demand, message) => {
    expect(messages(demand)).toEqual([expect.stringContaining(message)]);
  });
});

describe('validateInventory', () => {
  const messagesOf = (inventory: FleetInventory) => {
    const issues = new Issues('Inventory');
    validateInventory(issues, inventory);
    return issues.all.map(formatIssue);
  };

  test('reports every problem at once', () => {
    const inventory: FleetInventory = {
      clusters: [
        { name: 'a', nodePools: [{ name: 'p', nodes: 1.5, devicesPerNode: [{ name: 'gpu', driver: 'd', count: -1, attributes: { cc: 8.6, v: { version: '12' } }, capacity: { memory: '80GB' } }] }] },
        { name: 'a', nodePools: [] },
      ],
    };
    expect(messagesOf(inventory)).toEqual([
      'Unable to synthesize Inventory: clusters[0].nodePools[0].nodes 1.5 is not a whole number of nodes. Give 0 or more.',
      'Unable to synthesize Inventory: clusters[0].nodePools[0].devicesPerNode[0].count -1 is not a whole number of devices. Give 0 or more.',
      'Unable to synthesize Inventory: clusters[0].nodePools[0].devicesPerNode[0].attributes.cc 8.6 is not an integer: DRA attributes are int, bool, string or version. Give a whole number.',
      "Unable to synthesize Inventory: clusters[0].nodePools[0].devicesPerNode[0].attributes.v '12' is not a semantic version. Give major.minor.patch, such as 1.2.3.",
      "Unable to synthesize Inventory: clusters[0].nodePools[0].devicesPerNode[0].capacity.memory '80GB' is not a Kubernetes quantity. Give a quantity such as '80Gi'.",
      "Unable to synthesize Inventory: clusters[1].name 'a' is empty or names another cluster too. Give every cluster its own name.",
    ]);
  });
  test('node names must name every node of the pool once', () => {
    const pool = (nodeNames: string[]) => ({ clusters: [{ name: 'a', nodePools: [{ name: 'p', nodes: 2, devicesPerNode: [], nodeNames }] }] });
    expect(messagesOf(pool(['n-0']))).toEqual([
      'Unable to synthesize Inventory: clusters[0].nodePools[0].nodeNames 1 names 1 nodes, but the pool has 2. Name every node of the pool once, or leave nodeNames unset.',
    ]);
    expect(messagesOf(pool(['n-0', 'n-0']))).toEqual([
      'Unable to synthesize Inventory: clusters[0].nodePools[0].nodeNames ["n-0","n-0"] has an empty or repeated node name. Name every node of the pool once.',
    ]);
    expect(messagesOf(pool(['n-0', 'n-1']))).toEqual([]);
  });
});

describe('place refuses what does not validate', () => {
  test('with a SpecError carrying every issue', () => {
    const bad: PlacementDemand = { ...valid, engines: Array.from({ length: 9 }, (_, i) => standalone(`e${i}`, { copies: 0 })) };
    let error: unknown;
    try {
      place(bad, { clusters: [] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).issues).toHaveLength(10);
  });

  test('an existing assignment given twice', () => {
    const a = { replica: 0, cluster: 'x', members: [] };
    expect(() => place(valid, { clusters: [] }, [a, a])).toThrow('existing[1].replica 0 is assigned twice');
  });
});
