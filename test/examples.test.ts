import { Testing } from 'cdk8s';
import { buildExamples, EXAMPLES } from '../examples/main';

describe('examples', () => {
  const app = buildExamples(Testing.app());

  test('every example is a chart of the app', () => {
    expect(app.charts.map(c => c.node.id).sort()).toEqual(['any-cluster', 'inference-service', 'lws-single-pod', 'multi-node-gang', 'seed-sample', 'single-gpu']);
    expect(Object.keys(EXAMPLES)).toHaveLength(app.charts.length);
  });

  // Whole-chart shape only; behaviour is pinned by explicit asserts in test/constructs.
  test.each(['any-cluster', 'inference-service', 'lws-single-pod', 'multi-node-gang', 'seed-sample', 'single-gpu'])('%s keeps its shape', id => {
    expect(Testing.synth(app.charts.find(c => c.node.id === id)!)).toMatchSnapshot();
  });
});
