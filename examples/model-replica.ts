// Placed replicas of a Modelplane ModelDeployment (seed 004), usable without Pulumi: a single-GPU Standalone
// engine chosen by a CEL memory selector, and a Leader/Worker engine with 8 GPUs per node. Devices are
// claimed through DRA; pods are pinned to their node pool.
import { App, Chart } from 'cdk8s';
import { MemberRole, ModelReplica } from '../index';

const vllm = (...args: string[]) => ({ spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0', args }] } });

export function replicaStandalone(app: App): Chart {
  const chart = new Chart(app, 'replica-standalone', { namespace: 'ml-team' });
  new ModelReplica(chart, 'qwen3-8b-l4-0', {
    clusterName: 'eks-l4',
    engines: [{
      name: 'qwen3-8b',
      members: [{
        role: MemberRole.STANDALONE,
        nodePoolName: 'l4',
        deviceRequests: [{
          name: 'gpu',
          count: 1,
          deviceClassName: 'gpu.nvidia.com',
          selectors: ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('20Gi')) >= 0"],
        }],
        template: vllm('--model=Qwen/Qwen3-8B'),
      }],
    }],
  });
  return chart;
}

export function replicaLeaderWorker(app: App): Chart {
  const chart = new Chart(app, 'replica-leader-worker', { namespace: 'ml-team' });
  const gpus = [{ name: 'gpus', count: 8, deviceClassName: 'gpu.nvidia.com' }];
  new ModelReplica(chart, 'llama-405b-h100-0', {
    clusterName: 'gke-h100',
    engines: [{
      name: 'llama',
      members: [
        { role: MemberRole.LEADER, nodePoolName: 'h100', deviceRequests: gpus, template: vllm('--model=meta-llama/Llama-3.1-405B-Instruct-FP8', '--tensor-parallel-size=8', '--pipeline-parallel-size=2') },
        { role: MemberRole.WORKER, nodePoolName: 'h100', workerNodes: 1, deviceRequests: gpus, template: vllm('ray-worker') },
      ],
    }],
  });
  return chart;
}

export const MODEL_REPLICA_EXAMPLES = { replicaStandalone, replicaLeaderWorker };

if (require.main === module) {
  const app = new App();
  for (const build of Object.values(MODEL_REPLICA_EXAMPLES)) build(app);
  app.synth();
}
