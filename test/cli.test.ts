import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { main } from '../cli/inferkit';

const manifests = path.join(__dirname, '..', 'examples', 'manifests');

function run(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

describe('inferkit synth', () => {
  test('writes the manifests of several files to stdout', () => {
    const { code, out, err } = run('synth', '-f', path.join(manifests, 'modelinfer-sample.yaml'), '-f', path.join(manifests, 'modelserving-sample.yaml'));
    expect(err).toBe('');
    expect(code).toBe(0);
    const docs = parseAllDocuments(out).map(d => d.toJS());
    expect(docs).toHaveLength(14);
    expect(docs.filter(d => d.kind === 'PodGroup').map(d => d.spec.networkTopology)).toEqual([undefined, { mode: 'hard', highestTierAllowed: 2 }]);
  });

  test('reads every seed example manifest: Kthena, KubeDL, FlexInfer and Modelplane kinds', () => {
    // The two KubeDL examples share a name; each run takes one of them.
    const files = fs.readdirSync(manifests).filter(f => f !== 'inference-single-model.yaml').sort().flatMap(f => ['-f', path.join(manifests, f)]);
    const { code, out, err } = run('synth', ...files);
    expect(err).toBe('');
    expect(code).toBe(0);
    const kinds = new Set(parseAllDocuments(out).map(d => d.toJS().kind));
    expect([...kinds].sort()).toEqual(['ConfigMap', 'Deployment', 'HTTPRoute', 'HorizontalPodAutoscaler', 'PodGroup', 'ResourceClaimTemplate', 'Service', 'StatefulSet']);
  });

  test('a resource defined twice is an error naming both files', () => {
    const a = path.join(manifests, 'inference-single-model.yaml');
    const b = path.join(manifests, 'inference-multi-model.yaml');
    const { code, err } = run('synth', '-f', a, '-f', b);
    expect(code).toBe(1);
    expect(err).toContain(`${b}: Unable to synthesize Inference/hello-inference: it is defined twice, here and in ${a}. Give each resource a unique name.`);
  });

  test('writes one file per manifest with -o', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-cli-'));
    try {
      const { code } = run('synth', '-f', path.join(manifests, 'modelserving-sample.yaml'), '-o', dir, '--backend', 'LeaderWorkerSet');
      expect(code).toBe(0);
      expect(fs.readdirSync(dir)).toEqual(['modelserving-sample.k8s.yaml']);
      const kinds = parseAllDocuments(fs.readFileSync(path.join(dir, 'modelserving-sample.k8s.yaml'), 'utf8')).map(d => d.toJS().kind);
      expect(kinds.sort()).toEqual(['LeaderWorkerSet', 'LeaderWorkerSet', 'PodGroup']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('exits non-zero with every error of every file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-cli-'));
    try {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, [
        'apiVersion: workload.matrixinfer.ai/v1alpha1\nkind: ModelInfer\nmetadata: {name: a}\nspec: {schedulerName: volcano, template: {roles: [{name: decode-worker, workerReplicas: 0, entryTemplate: {spec: {containers: [{name: c, image: x}]}}}]}}',
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: b}',
      ].join('\n---\n'));
      const { code, out, err } = run('synth', '-f', bad);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toContain(`${bad}: Unable to synthesize ModelInfer/a: spec.template.roles[0].name 'decode-worker' is 13 characters long`);
      expect(err).toContain(`${bad}: Unable to synthesize Deployment/b: apiVersion 'apps/v1' kind 'Deployment' is not a kind inferkit reads.`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    [[], 'no command'],
    [['deploy'], "unknown command 'deploy'"],
    [['synth'], 'no input: give at least one -f <file.yaml>'],
    [['synth', '-f'], '-f needs a value'],
    [['synth', '-f', 'x.yaml', '--backend', 'Deployment'], "--backend 'Deployment' is not a backend: use StatefulSet or LeaderWorkerSet"],
    [['synth', '--frobnicate'], "unknown argument '--frobnicate'"],
  ])('refuses %j with a message', (argv, message) => {
    const { code, err } = run(...argv);
    expect(code).not.toBe(0);
    expect(err).toContain(message);
  });
});
