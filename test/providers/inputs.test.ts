// The pure pieces behind the components' Inputs: which args are plain when the program runs, the checks synth would
// make as far as the values are known, and images given over the rendered ones. (With the engine:
// test/integration/fleet-inputs.int.test.ts.)
import * as pulumi from '@pulumi/pulumi';
import { MemberRole } from '../../constructs';
import { ModelDeployment } from '../../providers';
import { checkDeploymentArgs, DeploymentProps, PENDING, plainOr, withImages } from '../../providers/_inputs';
import { SpecError } from '../../src';

const template = { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } };
const props: DeploymentProps = { namespace: 'ml', engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu' }], template }] }] };
const PATH = 'ModelDeployment/ml/qwen';

describe('plainOr', () => {
  test('a plain value is itself; an Output or a promise is pending until it resolves', () => {
    expect(plainOr(3)).toBe(3);
    expect(plainOr<number | undefined>(undefined)).toBeUndefined();
    expect(plainOr(pulumi.output(3))).toBe(PENDING);
    expect(plainOr(Promise.resolve(3))).toBe(PENDING);
  });
});

describe('checkDeploymentArgs', () => {
  test('given plain values, it refuses a replica count as synth does, naming the deployment, the field, the value and the fix', () => {
    expect(() => checkDeploymentArgs(PATH, props, -1, undefined)).toThrow(new SpecError([{
      path: PATH, field: 'replicas', value: -1, cause: 'is not a whole number of replicas', fix: 'Use 0 to 1000 replicas',
    }]));
    expect(() => checkDeploymentArgs(PATH, props, -1, undefined)).toThrow(
      'Unable to synthesize ModelDeployment/ml/qwen: replicas -1 is not a whole number of replicas. Use 0 to 1000 replicas.');
  });

  test('given a replica count not resolved yet, it judges everything else now and leaves the count to the Placement\'s check', () => {
    expect(() => checkDeploymentArgs(PATH, props, PENDING, undefined)).not.toThrow();
    const worker = { ...props, engines: [{ name: 'qwen', members: [{ role: MemberRole.WORKER, workerNodes: 1, deviceRequests: [{ name: 'gpu' }], template }] }] };
    expect(() => checkDeploymentArgs(PATH, worker, PENDING, undefined)).toThrow(
      "Unable to synthesize ModelDeployment/ml/qwen: engines[0].members 'Worker' has a Worker without a Leader: workers join a leader pod. "
      + 'Give one Standalone member, or one Leader and one Worker.');
  });

  test('given a rollout budget below 1, it refuses it with its own message', () => {
    expect(() => checkDeploymentArgs(PATH, props, 2, 0)).toThrow(
      'Unable to deploy ModelDeployment/ml/qwen: maxUnavailable 0 is not a whole number of replicas from 1. Give 1 or more: the fleet is rolled in waves of that many replicas.');
  });
});

describe('the ModelDeployment component with Outputs', () => {
  test('a replica count from an Output is not judged when the program runs, but the plain props still are, before anything is registered', () => {
    expect(() => new ModelDeployment('qwen', {
      ...props,
      replicas: pulumi.output(1),
      labels: { 'modelplane.ai/replica': 'x' },
      clusters: [{ name: 'a', kubeconfig: 'unused' }],
    })).toThrow(new RegExp('^Unable to synthesize ModelDeployment/ml/qwen: labels.modelplane.ai/replica \'modelplane.ai/replica\' uses a reserved prefix'));
  });
});

describe('withImages', () => {
  const pod = (containers: Array<{ name: string; image: string }>, initContainers: Array<{ name: string; image: string }> = []) => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers, initContainers } } },
  });

  test('replaces the image of every container and init container named, and leaves the others and the input alone', () => {
    const objects = [pod([{ name: 'engine', image: 'a:1' }, { name: 'sidecar', image: 's:1' }], [{ name: 'engine', image: 'a:1' }])];
    const out = withImages(objects, { engine: 'a:2', absent: 'x:1' });
    expect(out[0].spec.template.spec.containers).toEqual([{ name: 'engine', image: 'a:2' }, { name: 'sidecar', image: 's:1' }]);
    expect(out[0].spec.template.spec.initContainers).toEqual([{ name: 'engine', image: 'a:2' }]);
    expect(objects[0].spec.template.spec.containers[0].image).toBe('a:1');
  });

  test('no images: the objects as they are', () => {
    const objects = [pod([{ name: 'engine', image: 'a:1' }])];
    expect(withImages(objects, undefined)).toBe(objects);
    expect(withImages(objects, {})).toBe(objects);
  });
});
