// The package as a user gets it: `npm pack` (which compiles first), installed from the tarball into a scratch project
// whose other dependencies come from the registry. It does not use the test cluster.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const MANIFEST = path.join(ROOT, 'examples', 'manifests', 'modelinfer-sample.yaml');

// The outer `npm test` passes its own settings down as npm_* variables: the scratch project must not inherit them.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function run(command: string, args: readonly string[], cwd: string): string {
  return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

describe('the npm package', () => {
  let scratch: string;
  let tarball: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-package-'));
    run('npm', ['pack', '--pack-destination', scratch], ROOT);
    tarball = path.join(scratch, fs.readdirSync(scratch).find(f => f.endsWith('.tgz'))!);
    fs.writeFileSync(path.join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }));
    // The Pulumi peers are optional: installed here for inferkit/pulumi. Scripts are skipped: @pulumi/kubernetes's
    // would download the provider plugin, which no test here runs.
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts',
      tarball, '@pulumi/pulumi@3.248.0', '@pulumi/kubernetes@4.24.1'], scratch);
  }, 900_000);

  afterAll(() => {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  test('the tarball holds the compiled JavaScript, its types, the README and the LICENSE, nothing else', () => {
    const files = run('tar', ['-tzf', tarball], scratch).trim().split('\n').map(f => f.replace(/^package\//, ''));
    expect(files.filter(f => !/^lib\/.+(\.js|\.d\.ts)$/.test(f)).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files).toEqual(expect.arrayContaining(['lib/index.js', 'lib/index.d.ts', 'lib/providers/index.js', 'lib/cli/inferkit.js']));
    // Nothing stale: every compiled file has its source.
    expect(files.filter(f => f.endsWith('.js') && !fs.existsSync(path.join(ROOT, f.replace(/^lib\//, '').replace(/\.js$/, '.ts'))))).toEqual([]);
  });

  test('the compiled JavaScript does not embed the TypeScript sources in its source maps', () => {
    const index = fs.readFileSync(path.join(scratch, 'node_modules', 'inferkit', 'lib', 'index.js'), 'utf8');
    const map = JSON.parse(Buffer.from(index.match(/sourceMappingURL=data:application\/json;base64,(\S+)/)![1], 'base64').toString());
    expect(map.sourcesContent).toBeUndefined();
  });

  test('cdk8s, constructs and cdk8s-plus-34 are peers: the project holds one copy of each', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(scratch, 'node_modules', 'inferkit', 'package.json'), 'utf8'));
    for (const name of ['cdk8s', 'constructs', 'cdk8s-plus-34']) {
      expect(manifest.peerDependencies[name]).toBeDefined();
      expect(manifest.dependencies[name]).toBeUndefined();
      const copies = run('npm', ['ls', name, '--all', '--parseable'], scratch).trim().split('\n');
      expect(copies).toEqual([path.join(fs.realpathSync(scratch), 'node_modules', name)]);
    }
  });

  test('`npx inferkit synth -f` compiles a seed manifest', () => {
    const yaml = run('npx', ['--no-install', 'inferkit', 'synth', '-f', MANIFEST], scratch);
    expect(yaml).toContain('kind: StatefulSet');
    expect(yaml).toContain('kind: PodGroup');
    expect(yaml).toContain('name: sample-0-prefill-0');
  });

  test('require(\'inferkit\') composes with the project\'s own cdk8s app', () => {
    const script = `
      const { App, Chart } = require('cdk8s');
      const { ModelInfer } = require('inferkit');
      const app = new App({ outdir: 'out' });
      const chart = new Chart(app, 'llm');
      new ModelInfer(chart, 'm', { roles: [{ name: 'serve', entryTemplate: { spec: { containers: [{ name: 'c', image: 'vllm/vllm-openai:v0.11.0' }] } } }] });
      console.log(chart.toJson().map(o => o.kind).sort().join(','));`;
    expect(run('node', ['-e', script], scratch).trim()).toBe('PodDisruptionBudget,PodGroup,Service,StatefulSet');
  });

  test('require(\'inferkit/pulumi\') loads the Pulumi side', () => {
    const script = 'const p = require(\'inferkit/pulumi\'); console.log([p.ModelDeployment, p.Placement, p.Rollout].map(c => typeof c).join(\',\'));';
    expect(run('node', ['-e', script], scratch).trim()).toBe('function,function,function');
  });

  test('TypeScript resolves the types of both entry points', () => {
    fs.writeFileSync(path.join(scratch, 'app.ts'), [
      'import { App } from \'cdk8s\';',
      'import { ModelInfer, ModelInferProps } from \'inferkit\';',
      'import { ModelDeploymentArgs } from \'inferkit/pulumi\';',
      'const props: ModelInferProps = { roles: [{ name: \'serve\', entryTemplate: { spec: { containers: [{ name: \'c\', image: \'i\' }] } } }] };',
      'new ModelInfer(new App(), \'m\', props);',
      'export const args: Partial<ModelDeploymentArgs> = { replicas: 1 };',
    ].join('\n'));
    run(path.join(ROOT, 'node_modules', '.bin', 'tsc'),
      ['--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--skipLibCheck', 'app.ts'],
      scratch);
  });
});
