// A 405B-class model over two 8-GPU H100 nodes per role instance: one vLLM leader and one Ray worker,
// scheduled as one Volcano gang that must fit under one tier-1 HyperNode (one NVLink/IB island).
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Accelerator, GangScheduling, ModelInfer, NetworkTopology } from '../index';

const image = 'vllm/vllm-openai:v0.11.0';

export function multiNodeGang(app: App): Chart {
  const chart = new Chart(app, 'multi-node-gang', { namespace: 'llm' });
  new ModelInfer(chart, 'llama-405b', {
    replicas: 2,
    gangScheduling: GangScheduling.volcano({ networkTopology: NetworkTopology.hard(1) }),
    rolloutStrategy: { maxUnavailable: 1, maxSurge: 0 },
    roles: [{
      name: 'serve',
      accelerator: Accelerator.nvidia(8, 'NVIDIA-H100-80GB-HBM3'),
      entryTemplate: {
        spec: {
          containers: [{
            name: 'vllm',
            image,
            command: ['sh', '-c'],
            args: ['ray start --head --port=6379 && vllm serve meta-llama/Llama-3.1-405B-Instruct --tensor-parallel-size 8 --pipeline-parallel-size $(GROUP_SIZE) --port 8000'],
            ports: [{ containerPort: 8000, name: 'http' }],
            readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(8000) } },
          }],
        },
      },
      workerReplicas: 1,
      workerTemplate: {
        spec: {
          containers: [{
            name: 'ray-worker',
            image,
            command: ['sh', '-c'],
            args: ['ray start --address=$(ENTRY_ADDRESS):6379 --block'],
          }],
        },
      },
    }],
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  multiNodeGang(app);
  app.synth();
}
