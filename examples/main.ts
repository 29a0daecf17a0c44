// Every example in one cdk8s app: `cdk8s synth` (npm run examples) writes one file per chart into dist/.
import { App } from 'cdk8s';
import { anyCluster } from './any-cluster';
import { inferenceService, inferenceSingle } from './inference-service';
import { KTHENA_EXAMPLES } from './kthena';
import { lwsSinglePod } from './lws-single-pod';
import { MODEL_DEPLOYMENT_EXAMPLES } from './model-deployment';
import { MODEL_REPLICA_EXAMPLES } from './model-replica';
import { SIMPLE_MODEL_INFER_EXAMPLES } from './modelinfer-simple';
import { MODEL_EXAMPLES } from './models';
import { multiNodeGang } from './multi-node-gang';
import { seedSample } from './seed-sample';
import { singleGpu } from './single-gpu';

/** The examples, by name; each makes one chart, or one per cluster (ModelDeployment). Tests apply each of them. */
export const EXAMPLES = {
  seedSample,
  multiNodeGang,
  lwsSinglePod,
  singleGpu,
  anyCluster,
  inferenceService,
  inferenceSingle,
  ...MODEL_EXAMPLES,
  ...SIMPLE_MODEL_INFER_EXAMPLES,
  ...MODEL_REPLICA_EXAMPLES,
  ...MODEL_DEPLOYMENT_EXAMPLES,
  ...KTHENA_EXAMPLES,
};

export function buildExamples(app: App = new App()): App {
  for (const build of Object.values(EXAMPLES)) build(app);
  return app;
}

if (require.main === module) {
  buildExamples().synth();
}
