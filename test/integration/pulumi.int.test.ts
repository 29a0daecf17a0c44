import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

const kubeconfig = process.env[KUBECONFIG_ENV]!;
const kube = Kube.fromKubeconfig(kubeconfig);
afterAll(() => kube.close());

// A dynamic resource, served by the Node.js dynamic-provider plugin that ships with @pulumi/pulumi.
const stampProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs) {
    return { id: `stamp-${inputs.seed}`, outs: { seed: inputs.seed, stamped: `${inputs.seed}!` } };
  },
};
class Stamp extends pulumi.dynamic.Resource {
  public readonly stamped!: pulumi.Output<string>;
  constructor(name: string, seed: string) {
    super(stampProvider, name, { seed, stamped: undefined });
  }
}

/** Objects through @pulumi/kubernetes and one dynamic resource. */
async function program() {
  const ns = new k8s.core.v1.Namespace('smoke', {
    metadata: { name: 'pulumi-smoke', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
  });
  const cm = new k8s.core.v1.ConfigMap('answer', { metadata: { name: 'answer', namespace: ns.metadata.name }, data: { answer: '42' } });
  const stamp = new Stamp('stamp', 'inferkit');
  return { configMap: cm.metadata.name, stamped: stamp.stamped };
}

describe('the real Pulumi engine against the test cluster', () => {
  test('up, preview, refresh and destroy with a file backend leave the cluster clean', async () => {
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'smoke', program }, { KUBECONFIG: kubeconfig });
    try {
      const up = await s.stack.up();
      expect(up.summary.result).toBe('succeeded');
      expect(up.summary.resourceChanges).toEqual({ create: 4 });
      expect(Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]))).toEqual({ configMap: 'answer', stamped: 'inferkit!' });
      expect((await kube.get('v1', 'ConfigMap', 'pulumi-smoke', 'answer'))?.data).toEqual({ answer: '42' });

      const preview = await s.stack.preview();
      expect(preview.changeSummary).toEqual({ same: 4 });

      const refresh = await s.stack.refresh();
      expect(refresh.summary.resourceChanges).toEqual({ same: 4 });

      const destroy = await s.stack.destroy();
      expect(destroy.summary.resourceChanges).toEqual({ delete: 4 });
      await kube.waitFor('namespace pulumi-smoke to be gone', async () =>
        (await kube.get('v1', 'Namespace', undefined, 'pulumi-smoke')) === undefined ? true : undefined, 90_000);
      await s.stack.workspace.removeStack('dev');
    } finally {
      s.dispose();
    }
  });
});
