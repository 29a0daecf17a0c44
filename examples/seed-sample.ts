// Kthena's 1-prefill/1-decode sample with three workers per role instance, as a construct.
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { ModelInfer } from '../index';

const pod = (name: string): k8s.PodTemplateSpec => ({
  spec: { containers: [{ name, image: 'nginx', ports: [{ containerPort: 8080 }] }] },
});

export function seedSample(app: App): Chart {
  const chart = new Chart(app, 'seed-sample', { namespace: 'default' });
  new ModelInfer(chart, 'sample', {
    replicas: 1,
    roles: ['prefill', 'decode'].map(name => ({
      name,
      replicas: 1,
      entryTemplate: pod('leader'),
      workerReplicas: 3,
      workerTemplate: pod('worker'),
    })),
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  seedSample(app);
  app.synth();
}
