import { Testing } from 'cdk8s';
import { buildExamples, EXAMPLES } from '../examples/main';

const IDS = [
  'any-cluster', 'inference-service', 'inference-single', 'lws-single-pod', 'model-amd-rocm', 'model-basic', 'model-gguf', 'model-maxwell', 'model-scale-to-zero',
  'model-shared-gpu', 'modelinfer-simple-advanced', 'modelinfer-simple-basic', 'modelinfer-simple-gpu-autoscaling', 'modelinfer-simple-queue-autoscaling', 'multi-node-gang', 'replica-leader-worker',
  'replica-standalone', 'seed-sample',
  'single-gpu', 'kthena-lora-model', 'kthena-autoscaled-infer',
  // ModelDeployments: a chart per cluster.
  'deployment-fleet/eu-west', 'deployment-leader-worker/gke-a3', 'deployment-prefill-decode/gke-a3', 'deployment-standalone/local',
].sort();

describe('examples', () => {
  const app = buildExamples(Testing.app());

  test('every example is a chart of the app', () => {
    expect(app.charts.map(c => c.node.path).sort()).toEqual(IDS);
    expect(Object.keys(EXAMPLES)).toHaveLength(IDS.length);
  });

  // Whole-chart shape only; behaviour is pinned by explicit asserts in test/constructs.
  test.each(IDS)('%s keeps its shape', id => {
    expect(Testing.synth(app.charts.find(c => c.node.path === id)!)).toMatchSnapshot();
  });
});
