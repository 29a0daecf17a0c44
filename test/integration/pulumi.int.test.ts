import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube } from '../harness/kube';
import { PulumiProject } from '../harness/pulumi';

const kubeconfig = process.env[KUBECONFIG_ENV]!;
const kube = Kube.fromKubeconfig(kubeconfig);
afterAll(() => kube.close());

// Objects through @pulumi/kubernetes, and one dynamic resource served by the Node.js dynamic-provider plugin.
const PROGRAM = `
const pulumi = require('@pulumi/pulumi');
const k8s = require('@pulumi/kubernetes');

const stampProvider = {
  async create(inputs) { return { id: 'stamp-' + inputs.seed, outs: { seed: inputs.seed, stamped: 'yes' } }; },
  async diff(id, olds, news) { return { changes: olds.seed !== news.seed, replaces: olds.seed !== news.seed ? ['seed'] : [] }; },
  async read(id, props) { return { id, props }; },
};
class Stamp extends pulumi.dynamic.Resource {
  constructor(name, args, opts) { super(stampProvider, name, { stamped: undefined, ...args }, opts); }
}

const ns = new k8s.core.v1.Namespace('smoke', {
  metadata: { name: 'pulumi-smoke', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
});
const cm = new k8s.core.v1.ConfigMap('answer', {
  metadata: { name: 'answer', namespace: ns.metadata.name },
  data: { answer: '42' },
});
const stamp = new Stamp('stamp', { seed: 'inferkit' });

exports.configMap = cm.metadata.name;
exports.stamped = stamp.stamped;
`;

describe('the real Pulumi engine against the test cluster', () => {
  let project: PulumiProject;
  beforeAll(() => {
    project = PulumiProject.create('smoke', { 'index.js': PROGRAM }, { KUBECONFIG: kubeconfig });
  });
  afterAll(() => project.dispose());

  test('up, preview, refresh and destroy with a file backend leave the cluster clean', async () => {
    await project.ok('stack', 'init', 'dev');

    const up = await project.ok('up', '--yes', '--skip-preview');
    expect(up).toContain('created');
    expect((await kube.get('v1', 'ConfigMap', 'pulumi-smoke', 'answer'))?.data).toEqual({ answer: '42' });
    const outputs = JSON.parse(await project.ok('stack', 'output', '--json'));
    expect(outputs).toEqual({ configMap: 'answer', stamped: 'yes' });

    const preview = await project.run('preview', '--expect-no-changes', '--diff');
    expect(preview.code).toBe(0);

    await project.ok('refresh', '--yes');
    expect((await project.run('preview', '--expect-no-changes')).code).toBe(0);

    await project.ok('destroy', '--yes');
    await kube.waitFor('namespace pulumi-smoke to be gone', async () =>
      (await kube.get('v1', 'Namespace', undefined, 'pulumi-smoke')) === undefined ? true : undefined, 60_000);
    await project.ok('stack', 'rm', '--yes', 'dev');
  });
});
