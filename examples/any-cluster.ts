// A small CPU model that runs on any cluster: the default scheduler, no gang, built-in controllers only.
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { GangScheduling, ModelInfer } from '../index';

export function anyCluster(app: App): Chart {
  const chart = new Chart(app, 'any-cluster', { namespace: 'demo' });
  new ModelInfer(chart, 'tinyllama', {
    schedulerName: 'default-scheduler',
    gangScheduling: GangScheduling.none(),
    roles: [{
      name: 'serve',
      entryTemplate: {
        spec: {
          containers: [{
            name: 'llama-cpp',
            image: 'ghcr.io/ggml-org/llama.cpp:server',
            args: ['--hf-repo', 'TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF', '--hf-file', 'tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf', '--port', '8080', '--host', '0.0.0.0'],
            ports: [{ containerPort: 8080, name: 'http' }],
            readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(8080) } },
            resources: { requests: { cpu: k8s.Quantity.fromString('1'), memory: k8s.Quantity.fromString('2Gi') } },
          }],
        },
      },
    }],
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  anyCluster(app);
  app.synth();
}
