// Two single-GPU replicas of a 7B model on L4 nodes with the default scheduler: no Volcano, no gang,
// built-in controllers only. The accelerator picks the nodes by their GPU feature-discovery label.
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Accelerator, GangScheduling, ModelInfer } from '../index';

export function singleGpu(app: App): Chart {
  const chart = new Chart(app, 'single-gpu', { namespace: 'serving' });
  new ModelInfer(chart, 'mistral-7b', {
    replicas: 2,
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    roles: [{
      name: 'serve',
      accelerator: Accelerator.nvidia(1, 'NVIDIA-L4'),
      entryTemplate: {
        spec: {
          containers: [{
            name: 'vllm',
            image: 'vllm/vllm-openai:v0.11.0',
            args: ['--model', 'mistralai/Mistral-7B-Instruct-v0.3', '--max-model-len', '8192', '--port', '8000'],
            ports: [{ containerPort: 8000, name: 'http' }],
            readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromString('http') } },
          }],
        },
      },
    }],
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  singleGpu(app);
  app.synth();
}
