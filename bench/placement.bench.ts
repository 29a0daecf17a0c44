// Placement speed: 10,000 replicas over 2,000 node pools (200 clusters of 10 pools), median wall time of several
// runs per scenario, each run a fresh solve of the same input. Run: npx ts-node --transpile-only bench/placement.bench.ts
import { EngineDemand, FleetDevice, FleetInventory, LedgerEntry, place, PlacementDemand, PlacementResult } from '../src';

const CLUSTERS = 200;
const POOLS_PER_CLUSTER = 10;
const REPLICAS = 10_000;
const RUNS = 5;
/** Median wall time each scenario must stay under. */
const BAR_MS = 1000;
const slow: string[] = [];

const GPU_CLASS = 'gpu.nvidia.com';
const PRODUCTS: ReadonlyArray<[string, string]> = [['H100', '80Gi'], ['A100', '40Gi'], ['L4', '24Gi'], ['H200', '141Gi']];

/** A deterministic fleet: pool sizes and GPU models vary with the indices, never at random. */
function fleet(): FleetInventory {
  return {
    clusters: Array.from({ length: CLUSTERS }, (_, c) => ({
      name: `cluster-${String(c).padStart(3, '0')}`,
      labels: { region: c % 2 ? 'eu' : 'us' },
      nodePools: Array.from({ length: POOLS_PER_CLUSTER }, (__, p) => {
        const [product, memory] = PRODUCTS[(c + p) % PRODUCTS.length];
        const gpu: FleetDevice = {
          name: 'gpu',
          driver: 'gpu.nvidia.com',
          deviceClassName: GPU_CLASS,
          count: 8,
          attributes: { productName: product, cudaComputeCapability: { version: product === 'L4' ? '8.9.0' : '9.0.0' } },
          capacity: { memory },
        };
        return { name: `pool-${p}`, nodes: 4 + ((c * 7 + p * 3) % 13), devicesPerNode: [gpu] };
      }),
    })),
  };
}

/** Other deployments hold two GPUs on one node of every third pool. */
function ledger(inventory: FleetInventory): LedgerEntry[] {
  return inventory.clusters.flatMap((c, i) => c.nodePools.filter((_, p) => (i + p) % 3 === 0).map(p => ({ cluster: c.name, pool: p.name, devices: { gpu: 2 }, owner: 'other' })));
}

const BIG = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0";
const HOPPER = "device.attributes['gpu.nvidia.com'].cudaComputeCapability.isGreaterThan(semver('8.9.0'))";

const standalone = (name: string, gpus: number, selectors: string[] = []): EngineDemand =>
  ({ name, members: [{ deviceRequests: [{ name: 'gpu', count: gpus, deviceClassName: GPU_CLASS, selectors }] }] });

interface Scenario {
  readonly name: string;
  readonly demand: PlacementDemand;
  /** Assignments fed back, computed once before timing. */
  readonly existing?: () => PlacementResult['assignments'];
}

const inventory = fleet();
const others = ledger(inventory);

const oneGpu: PlacementDemand = { name: 'small', replicas: REPLICAS, engines: [standalone('small', 1, [BIG])] };
const scenarios: Scenario[] = [
  { name: '1 GPU, CEL memory selector', demand: oneGpu },
  { name: '8 GPUs, Hopper only', demand: { name: 'large', replicas: REPLICAS, engines: [standalone('large', 8, [HOPPER])] } },
  {
    name: 'Leader + 2 Workers x 8 GPUs',
    demand: {
      name: 'gang',
      replicas: REPLICAS,
      engines: [{
        name: 'gang',
        members: [
          { role: 'Leader', deviceRequests: [{ name: 'gpu', count: 8, deviceClassName: GPU_CLASS }] },
          { role: 'Worker', pods: 2, deviceRequests: [{ name: 'gpu', count: 8, deviceClassName: GPU_CLASS }] },
        ],
      }],
    },
  },
  {
    name: 'PrefillDecode 4 + 2 x 1 GPU',
    demand: {
      name: 'pd',
      replicas: REPLICAS,
      servingMode: 'PrefillDecode',
      engines: [{ ...standalone('prefill', 4, [BIG]), phase: 'Prefill' }, { ...standalone('decode', 1), phase: 'Decode', copies: 2 }],
    },
  },
  {
    name: 'retain 10,000, scale to 11,000',
    demand: { ...oneGpu, replicas: REPLICAS + 1000 },
    existing: () => place(oneGpu, inventory, [], others).assignments,
  },
];

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const pools = inventory.clusters.reduce((n, c) => n + c.nodePools.length, 0);
const gpus = inventory.clusters.reduce((n, c) => n + c.nodePools.reduce((m, p) => m + p.nodes * 8, 0), 0);
console.log(`Placing ${REPLICAS} replicas over ${pools} node pools (${CLUSTERS} clusters, ${gpus} GPUs, ${others.length} ledger entries); ${RUNS} runs each`);
console.log('| scenario                       | replicas | placed | unplaced | median ms |  min ms |  max ms |');
console.log('|--------------------------------|---------:|-------:|---------:|----------:|--------:|--------:|');
for (const s of scenarios) {
  const existing = s.existing?.() ?? [];
  const times: number[] = [];
  let result: PlacementResult | undefined;
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    result = place(s.demand, inventory, existing, others);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const cells = [
    s.name.padEnd(30), String(s.demand.replicas).padStart(8),
    String(result!.assignments.length).padStart(6), String(result!.unplaced.length).padStart(8),
    median(times).toFixed(0).padStart(9), Math.min(...times).toFixed(0).padStart(7), Math.max(...times).toFixed(0).padStart(7),
  ];
  console.log(`| ${cells.join(' | ')} |`);
  if (median(times) > BAR_MS) slow.push(s.name);
}
// The acceptance bar of the placement issue: measured above, asserted here (never in unit tests).
if (slow.length > 0) {
  console.error(`Median above ${BAR_MS} ms: ${slow.join(', ')}`);
  process.exitCode = 1;
}
