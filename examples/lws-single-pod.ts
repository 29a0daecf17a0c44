// A single-pod-per-role model on the LeaderWorkerSet backend: LWS recreates a failed role instance
// (RoleRecreate), which the StatefulSet backend cannot do.
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Accelerator, ModelInfer, WorkloadBackend } from '../index';

export function lwsSinglePod(app: App): Chart {
  const chart = new Chart(app, 'lws-single-pod', { namespace: 'llm' });
  new ModelInfer(chart, 'qwen-7b', {
    backend: WorkloadBackend.LEADER_WORKER_SET,
    replicas: 1,
    roles: [{
      name: 'serve',
      replicas: 2,
      accelerator: Accelerator.nvidia(1, 'NVIDIA-L4'),
      entryTemplate: {
        spec: {
          containers: [{
            name: 'vllm',
            image: 'vllm/vllm-openai:v0.11.0',
            args: ['--model', 'Qwen/Qwen2.5-7B-Instruct', '--port', '8000'],
            ports: [{ containerPort: 8000, name: 'http' }],
            readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(8000) } },
          }],
        },
      },
    }],
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  lwsSinglePod(app);
  app.synth();
}
