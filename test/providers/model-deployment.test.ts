// The Pulumi component refuses what synth would refuse before it registers anything with the engine, so
// `pulumi preview` fails with the construct's messages and no placement runs. (Its behaviour with the engine is in
// test/integration/fleet-pulumi.int.test.ts.)
import { MemberRole } from '../../constructs';
import { ModelDeployment } from '../../providers';

const template = { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } };

describe('the ModelDeployment Pulumi component', () => {
  test('a reserved label and a Worker without a Leader are refused before any resource is registered', () => {
    expect(() => new ModelDeployment('qwen', {
      namespace: 'ml',
      replicas: 1,
      labels: { 'inferkit.dev/pool': 'x' },
      engines: [{ name: 'qwen', members: [{ role: MemberRole.WORKER, workerNodes: 1, deviceRequests: [{ name: 'gpu' }], template }] }],
      clusters: [{ name: 'a', kubeconfig: 'unused' }],
    })).toThrow(
      "Unable to synthesize ModelDeployment/ml/qwen: engines[0].members 'Worker' has a Worker without a Leader: workers join a leader pod. Give one Standalone member, or one Leader and one Worker.\n"
      + "Unable to synthesize ModelDeployment/ml/qwen: labels.inferkit.dev/pool 'inferkit.dev/pool' uses a reserved prefix: inferkit.dev and modelplane.ai labels select and count replicas.");
  });
});

describe('the fleet rollout budget', () => {
  test.each([0, 1.5, -1])('maxUnavailable %p is refused before anything is registered', maxUnavailable => {
    expect(() => new ModelDeployment('qwen', {
      namespace: 'ml',
      replicas: 2,
      maxUnavailable,
      engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu' }], template }] }],
      clusters: [{ name: 'a', kubeconfig: 'unused' }],
    })).toThrow(`Unable to deploy ModelDeployment/ml/qwen: maxUnavailable ${maxUnavailable} is not a whole number of replicas from 1. `
      + 'Give 1 or more: the fleet is rolled in waves of that many replicas.');
  });
});
