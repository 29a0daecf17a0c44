// KubeDL's multi-model Inference (seed 003) as a construct: TF Serving, two model versions split 90/10
// through a Gateway API HTTPRoute, each predictor autoscaled and batching requests.
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { InferenceService } from '../index';

const tfServing = (image: string): k8s.PodTemplateSpec => ({
  spec: {
    containers: [{
      name: 'tensorflow',
      image,
      command: ['/usr/bin/tensorflow_model_server'],
      args: ['--port=9000', '--rest_api_port=8500', '--model_name=mnist', '--model_base_path=/kubedl-model/'],
      ports: [{ containerPort: 9000, name: 'grpc' }, { containerPort: 8500, name: 'http' }],
      resources: {
        limits: { cpu: k8s.Quantity.fromString('2048m'), memory: k8s.Quantity.fromString('2Gi') },
        requests: { cpu: k8s.Quantity.fromString('1024m'), memory: k8s.Quantity.fromString('1Gi') },
      },
    }],
  },
});

export function inferenceService(app: App): Chart {
  const chart = new Chart(app, 'inference-service', { namespace: 'kubedl' });
  new InferenceService(chart, 'hello-inference', {
    framework: 'TFServing',
    gateways: [{ name: 'inference-gateway' }],
    predictors: [
      {
        name: 'model-a-predictor',
        modelVersion: 'model-a',
        trafficPercentage: 90,
        autoScale: { minReplicas: 1, maxReplicas: 10 },
        batching: { batchSize: 32 },
        template: tfServing('tensorflow/serving:1.11.0'),
      },
      {
        name: 'model-b-predictor',
        modelVersion: 'model-b',
        trafficPercentage: 10,
        autoScale: { minReplicas: 1, maxReplicas: 10 },
        batching: { batchSize: 64 },
        template: tfServing('tensorflow/serving:1.11.1'),
      },
    ],
  });
  return chart;
}

// KubeDL's single-model Inference (seed 003): one predictor takes all the traffic.
export function inferenceSingle(app: App): Chart {
  const chart = new Chart(app, 'inference-single', { namespace: 'kubedl' });
  new InferenceService(chart, 'hello-single', {
    framework: 'TFServing',
    predictors: [{
      name: 'model-predictor',
      modelVersion: 'model',
      replicas: 3,
      autoScale: { minReplicas: 1, maxReplicas: 10 },
      batching: { batchSize: 32 },
      template: tfServing('tensorflow/serving:1.11.1'),
    }],
  });
  return chart;
}

if (require.main === module) {
  const app = new App();
  inferenceService(app);
  inferenceSingle(app);
  app.synth();
}
