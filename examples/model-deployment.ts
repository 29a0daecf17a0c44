// ModelDeployments (Modelplane, seed 004) placed at synth against a declared inventory: each cluster's share is a
// chart of its own. A single-GPU Standalone model chosen by a CEL memory selector, a Leader/Worker model with 8 GPUs
// per node, PrefillDecode serving behind an InferencePool, and a fleet of three clusters with a clusterSelector and
// a drained cluster. `pulumi up` does the same placement from the live clusters: see examples/pulumi/.
import { App, Chart } from 'cdk8s';
import { EnginePhase, FleetDevice, FleetInventory, MemberRole, ModelDeployment, Placement, ServingMode } from '../index';

const GPU_CLASS = 'gpu.nvidia.com';
const nvidia = (count: number, product: string, memory: string): FleetDevice => ({
  name: 'gpu', driver: GPU_CLASS, deviceClassName: GPU_CLASS, count, attributes: { productName: product }, capacity: { memory },
});
const h100 = (name: string, nodes: number) => ({ name, nodes, devicesPerNode: [nvidia(8, 'NVIDIA H100 80GB HBM3', '80Gi')] });
const l4 = (name: string, nodes: number) => ({ name, nodes, devicesPerNode: [nvidia(4, 'NVIDIA L4', '24Gi')] });
/** One cluster with an H100 and an L4 pool: the shape of the test cluster, where the first example runs. */
const LOCAL: FleetInventory = { clusters: [{ name: 'local', nodePools: [h100('h100', 2), l4('l4', 2)] }] };
/** A GPU cloud cluster with larger pools. */
const CLOUD: FleetInventory = { clusters: [{ name: 'gke-a3', nodePools: [h100('a3-highgpu-8g', 4), l4('g2-standard-48', 4)] }] };

const vllm = (...args: string[]) => ({ spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0', args }] } });
const memoryAtLeast = (q: string) => `device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('${q}')) >= 0`;

/** Two replicas of a 1-GPU model; any GPU with 20Gi or more. The fullest pool that fits wins: L4. */
export function deploymentStandalone(app: App): Chart[] {
  const md = new ModelDeployment(app, 'deployment-standalone', {
    name: 'qwen3-8b',
    namespace: 'fleet-demo',
    replicas: 2,
    engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu', selectors: [memoryAtLeast('20Gi')] }], template: vllm('--model=Qwen/Qwen3-8B') }] }],
    placement: Placement.solve(LOCAL),
  });
  return md.clusters.map(c => md.clusterChart(c));
}

/** A 405B model over a leader and one worker, 8 GPUs on each node, placed whole on an 80Gi pool. */
export function deploymentLeaderWorker(app: App): Chart[] {
  const gpus = [{ name: 'gpu', count: 8, selectors: [memoryAtLeast('80Gi')] }];
  const md = new ModelDeployment(app, 'deployment-leader-worker', {
    name: 'llama-405b',
    namespace: 'fleet-demo',
    replicas: 1,
    engines: [{
      name: 'llama',
      members: [
        { role: MemberRole.LEADER, deviceRequests: gpus, template: vllm('--model=meta-llama/Llama-3.1-405B-Instruct-FP8', '--tensor-parallel-size=8', '--pipeline-parallel-size=2') },
        { role: MemberRole.WORKER, workerNodes: 1, deviceRequests: gpus, template: vllm('ray-worker') },
      ],
    }],
    placement: Placement.solve(CLOUD),
  });
  return md.clusters.map(c => md.clusterChart(c));
}

/** Prefill on H100s, decode on L4s, paired by the InferencePool's endpoint picker and reached through a Gateway. */
export function deploymentPrefillDecode(app: App): Chart[] {
  const md = new ModelDeployment(app, 'deployment-prefill-decode', {
    name: 'qwen3-32b-pd',
    namespace: 'fleet-demo',
    replicas: 1,
    serving: { mode: ServingMode.PREFILL_DECODE, gateway: { name: 'inference-gateway' } },
    engines: [
      { name: 'prefill', phase: EnginePhase.PREFILL, members: [{ deviceRequests: [{ name: 'gpu', count: 2, selectors: [memoryAtLeast('80Gi')] }], template: vllm('--model=Qwen/Qwen3-32B') }] },
      { name: 'decode', phase: EnginePhase.DECODE, copies: 2, members: [{ deviceRequests: [{ name: 'gpu', selectors: ["device.attributes['gpu.nvidia.com'].productName == 'NVIDIA L4'"] }], template: vllm('--model=Qwen/Qwen3-32B') }] },
    ],
    placement: Placement.solve(CLOUD),
  });
  return md.clusters.map(c => md.clusterChart(c));
}

/**
 * Three clusters: eu-west and eu-central in the EU, us-east in the US. The clusterSelector keeps the model in the EU;
 * eu-central is being drained (a NoExecute taint), so replica 0, which ran there, moves to eu-west with the others.
 * The model is staged once in each hosting cluster by a ModelCache.
 */
export function deploymentFleet(app: App): Chart[] {
  const fleet: FleetInventory = {
    clusters: [
      { name: 'eu-central', labels: { region: 'eu' }, taints: [{ key: 'inferkit.dev/drain', value: 'true', effect: 'NoExecute' }], nodePools: [l4('l4-pool', 2)] },
      { name: 'eu-west', labels: { region: 'eu' }, nodePools: [h100('h100-pool', 2), l4('l4-pool', 2)] },
      { name: 'us-east', labels: { region: 'us' }, nodePools: [h100('h100-pool', 4)] },
    ],
  };
  const md = new ModelDeployment(app, 'deployment-fleet', {
    name: 'mistral-7b',
    namespace: 'fleet-demo',
    replicas: 3,
    clusterSelector: { matchLabels: { region: 'eu' } },
    modelCache: { repo: 'mistralai/Mistral-7B-Instruct-v0.3', sizeGiB: 20 },
    engines: [{ name: 'mistral', members: [{ deviceRequests: [{ name: 'gpu', selectors: [memoryAtLeast('20Gi')] }], template: vllm('--model=mistralai/Mistral-7B-Instruct-v0.3') }] }],
    // What the last run decided: replica 0 on eu-central, which is now drained.
    placement: Placement.solve(fleet, { existing: [{ replica: 0, cluster: 'eu-central', members: [{ engine: 'mistral', member: 0, pool: 'l4-pool' }] }] }),
  });
  return md.clusters.map(c => md.clusterChart(c));
}

export const MODEL_DEPLOYMENT_EXAMPLES = { deploymentStandalone, deploymentLeaderWorker, deploymentPrefillDecode, deploymentFleet };

if (require.main === module) {
  const app = new App();
  for (const build of Object.values(MODEL_DEPLOYMENT_EXAMPLES)) build(app);
  app.synth();
}
