// The Model and InferenceService Pulumi components on the real engine: a change rolls through each Deployment's own
// rolling update, awaited by the Rollout resource, and a rollout that never becomes Ready fails the update with the
// same report as a group rollout.
import * as fs from 'fs';
import { isReady } from './_rollout-helpers';
import { InferenceService, Model } from '../../providers';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

const kubeconfigFile = process.env[KUBECONFIG_ENV]!;
const kubeconfig = fs.readFileSync(kubeconfigFile, 'utf8');
const kube = Kube.fromKubeconfig(kubeconfigFile);
afterAll(() => kube.close());

const live = async (ns: string, selector: string) => (await kube.list('v1', 'Pod', ns, selector)).filter(p => !p.metadata.deletionTimestamp);

describe('Model and InferenceService components', () => {
  test('a Model\'s new image is rolled by its Deployment and awaited: when up returns, only new pods run, all Ready', async () => {
    const ns = 'rollout-model';
    await kube.apply(restrictedNamespace(ns));
    const program = (image: string) => async () => {
      new Model('llama3', { namespace: ns, backend: 'ollama', source: 'ollama://llama3:8b', replicas: 2, image, kubeconfig, progressDeadlineSeconds: 120 });
    };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'model', program: program('ollama/ollama:0.5.0') });
    try {
      expect((await s.stack.up()).summary.result).toBe('succeeded');
      const next = await s.withProgram(program('ollama/ollama:0.6.0'));
      let output = '';
      expect((await next.up({ onOutput: o => { output += o; } })).summary.result).toBe('succeeded');
      const pods = await live(ns, 'rollout.inferkit.dev/set=deployment.llama3');
      expect(pods.map(p => [p.spec.containers[0].image, isReady(p)])).toEqual([['ollama/ollama:0.6.0', true], ['ollama/ollama:0.6.0', true]]);
      expect(output).toMatch(/rollout-model\/deployment\.llama3: wave 1: updating units llama3-0/);
      await next.destroy();
    } finally {
      s.dispose();
    }
  });

  test('a predictor whose new pods never become Ready fails the update, naming the pod and its reason', async () => {
    const ns = 'rollout-kubedl';
    await kube.apply(restrictedNamespace(ns));
    const template = (image: string, annotations: Record<string, string> = {}) => ({ metadata: { annotations }, spec: { containers: [{ name: 'tensorflow', image }] } });
    const program = (t: ReturnType<typeof template>) => async () => {
      new InferenceService('hello', {
        namespace: ns,
        framework: 'TFServing',
        kubeconfig,
        progressDeadlineSeconds: 5,
        predictors: [{ name: 'model-a', template: t }],
      });
    };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'kubedl', program: program(template('tensorflow/serving:1.11.0')) });
    try {
      expect((await s.stack.up()).summary.result).toBe('succeeded');
      const next = await s.withProgram(program(template('tensorflow/serving:1.12.0', { 'test.inferkit.dev/fail': 'ImagePullBackOff' })));
      const failure = await next.up().then(() => undefined, (e: Error) => e.message);
      expect(failure).toMatch(/Unable to roll rollout-kubedl\/deployment\.[\w-]+ to revision \w+: [\w-]+ not Ready after \d+ s \(progress deadline 5 s\)/);
      expect(failure).toMatch(/pod [\w-]+: container tensorflow ImagePullBackOff/);
      // The Deployment's own rolling update keeps the old pod serving.
      const pods = await live(ns, 'serving.kubedl.io/predictor=model-a');
      expect(pods.filter((p: KubeObject) => isReady(p)).map(p => p.spec.containers[0].image)).toEqual(['tensorflow/serving:1.11.0']);
    } finally {
      s.dispose();
    }
  });
});
