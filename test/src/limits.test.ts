import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseDocument, stringify } from 'yaml';
import { main } from '../../cli/inferkit';
import { place } from '../../src';
import { MAX_DOCUMENTS, MAX_INPUT_BYTES, MAX_NESTING, readManifestFile } from '../../src/limits';

const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-limits-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `inferkit synth -f <file>`, timed: every hostile input below is refused within `ms`. */
function synth(file: string, ms = 5000): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const start = Date.now();
  const code = main(['synth', '-f', file], s => { out += s; }, s => { err += s; });
  expect(Date.now() - start).toBeLessThan(ms);
  return { code, out, err };
}

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** An example manifest with `edit` applied, written to a file of its own. */
function edited(example: string, edit: (doc: any) => void): string {
  const doc = parseDocument(fs.readFileSync(path.join(manifests, example), 'utf8')).toJS();
  edit(doc);
  return write(`${example}-${Math.random().toString(36).slice(2)}.yaml`, stringify(doc));
}

describe('input files: size, documents and nesting', () => {
  test('-f /dev/zero is refused after 4 MiB, not read until memory runs out', () => {
    const { code, err } = synth('/dev/zero');
    expect(code).toBe(1);
    expect(err).toBe(`error: Unable to read /dev/zero: it is larger than ${MAX_INPUT_BYTES} bytes (4 MiB), inferkit's limit for one input file. `
      + 'Split it into several files, each given with -f.\n');
  });

  test('a 20 MiB file of 5,000 documents is refused by its size', () => {
    const doc = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: '${'x'.repeat(4300)}'\n`;
    const file = write('big.yaml', Array.from({ length: 5000 }, () => doc).join('---\n'));
    expect(fs.statSync(file).size).toBeGreaterThan(20 * 1024 * 1024 - 1);
    expect(synth(file).err).toContain(`Unable to read ${file}: it is larger than 4194304 bytes (4 MiB)`);
  });

  test('5,000 small documents are refused by their number', () => {
    const file = write('many.yaml', Array.from({ length: 5000 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n`).join('---\n'));
    expect(synth(file).err).toBe(`error: Unable to read ${file}: it holds 5000 YAML documents, more than inferkit's limit of ${MAX_DOCUMENTS} per run. `
      + 'Synthesize the manifests in several runs.\n');
  });

  test('the documents of every file count towards the limit', () => {
    const file = write('half.yaml', Array.from({ length: 600 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n`).join('---\n'));
    expect(readManifestFile(file)).toHaveLength(600);
    expect(() => readManifestFile(file, 600)).toThrow(`Unable to read ${file}: it holds 600 YAML documents, which with the 600 of the files before exceed `
      + "inferkit's limit of 1000 per run. Synthesize the manifests in several runs.");
  });

  test('5,000 levels of nesting are refused, not a stack overflow', () => {
    const file = write('deep.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    const { code, err } = synth(file);
    expect(code).toBe(1);
    expect(err).toMatch(new RegExp(`^error: Unable to read ${file}: document 1 nests mappings or lists deeper than inferkit's limit of ${MAX_NESTING} levels \\(at line 5, column \\d+\\)\\. Flatten it\\.\\n$`));
  });

  test('nesting that parses but goes past the limit is refused with where it is', () => {
    const file = write('deep-block.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata: ${'['.repeat(70)}${']'.repeat(70)}\n`);
    expect(() => readManifestFile(file)).toThrow(`Unable to read ${file}: document 1 nests mappings or lists deeper than inferkit's limit of 64 levels `
      + `(at data${'[0]'.repeat(63)}). Flatten it.`);
  });

  test('a document that is not a mapping is refused, naming what it is', () => {
    const file = write('scalar.yaml', 'hello\n---\n- a\n');
    expect(() => readManifestFile(file)).toThrow(`Unable to read ${file}: document 1 is the string "hello", not a Kubernetes object. `
      + 'Write each document as a mapping with apiVersion, kind, metadata and spec.');
    expect(() => readManifestFile(write('list.yaml', '- a\n'))).toThrow('document 1 is a list, not a Kubernetes object');
  });

  test('a file that is missing, or a directory, is named with what it is', () => {
    expect(() => readManifestFile(path.join(dir, 'missing.yaml'))).toThrow(`Unable to read ${path.join(dir, 'missing.yaml')}: there is no such file. Give the path of a YAML file.`);
    expect(synth(dir).err).toBe(`error: Unable to read ${dir}: it is a directory. Give the path of a YAML file.\n`);
  });

  test('a YAML syntax error names the file and the place', () => {
    const file = write('bad.yaml', 'a: [\n');
    expect(() => readManifestFile(file)).toThrow(new RegExp(`^Unable to read ${file}: .* at line \\d+, column \\d+.*\\. Fix the YAML syntax\\.$`));
  });
});

describe('counts that multiply into objects', () => {
  test('replicas: 2147483647 in a ModelServing is refused at once, saying the limit', () => {
    const file = edited('modelserving-sample.yaml', d => { d.spec.replicas = 2147483647; });
    const { code, err } = synth(file);
    expect(code).toBe(1);
    expect(err).toBe(`${file}: Unable to synthesize ModelServing/sample: spec.replicas 2147483647 is more than 1000, inferkit's limit. Use 0 to 1000 ServingGroups.\n`);
  });

  test('10^5 groups are refused', () => {
    const file = edited('modelinfer-sample.yaml', d => { d.spec.replicas = 100_000; });
    expect(synth(file).err).toContain('spec.replicas 100000 is more than 1000, inferkit\'s limit. Use 0 to 1000 InferGroups.');
  });

  test('10^4 role replicas are refused', () => {
    const file = edited('modelserving-sample.yaml', d => { d.spec.template.roles[0].replicas = 10_000; });
    expect(synth(file).err).toContain('spec.template.roles[0].replicas 10000 is more than 1000, inferkit\'s limit. Use 1 to 1000 role instances.');
  });

  test('counts within their limits that multiply past the workload limit are refused, showing the product', () => {
    const file = edited('modelserving-sample.yaml', d => {
      d.spec.replicas = 1000;
      d.spec.template.roles[0].replicas = 3;
      d.spec.template.gangPolicy.minRoleReplicas.prefill = 3;
    });
    expect(synth(file).err).toBe(`${file}: Unable to synthesize ModelServing/sample: spec.replicas 1000 makes 1000 ServingGroups × 4 role instances = 4000 role instances, `
      + "more than inferkit's limit of 2000 per resource. Split it into several resources, or lower the counts.\n");
  });

  test('workerReplicas 2^53+1 is refused as beyond int32, not rounded', () => {
    const file = edited('modelserving-sample.yaml', d => { d.spec.template.roles[0].workerReplicas = 2 ** 53 + 1; });
    expect(synth(file).err).toBe(`${file}: Unable to synthesize ModelServing/sample: spec.template.roles[0].workerReplicas 9007199254740992 is beyond ±2147483647, `
      + 'the int32 range of the Kubernetes API. Write spec.template.roles[0].workerReplicas as a smaller whole number.\n');
  });

  test('50,000 predictors are refused before each is read', () => {
    const predictors = Array.from({ length: 50_000 }, (_, i) => `  - {name: p${i}, modelVersion: m}\n`).join('');
    const file = write('predictors.yaml', `apiVersion: serving.kubedl.io/v1alpha1\nkind: Inference\nmetadata:\n  name: hello\nspec:\n  framework: TFServing\n  predictors:\n${predictors}`);
    expect(synth(file, 15_000).err).toBe(`${file}: Unable to synthesize Inference/hello: spec.predictors makes 50000 predictors = 50000 Deployments, more than inferkit's limit `
      + 'of 2000 per resource. Split it into several resources, or lower the counts.\n');
  });

  test('idleTimeout: 99999999999h is refused, not written as a 15-digit cooldown', () => {
    const file = edited('model-basic.yaml', d => { d.spec.serverless = { idleTimeout: '99999999999h' }; });
    expect(synth(file).err).toBe(`${file}: Unable to synthesize Model/llama3-8b: spec.serverless.idleTimeout '99999999999h' is 359999999996400 seconds, `
      + 'more than 2147483647, the int32 Kubernetes fields of seconds hold. Write a shorter duration.\n');
  });

  test('a fleet of 2147483647 replicas is refused before placement', () => {
    const demand = { name: 'llm', replicas: 2147483647, engines: [{ name: 'llm', members: [{ deviceRequests: [{ name: 'gpu', deviceClassName: 'gpu.nvidia.com' }] }] }] };
    expect(() => place(demand, { clusters: [] })).toThrow("replicas 2147483647 is more than 1000, inferkit's limit. Use 0 to 1000 replicas.");
  });
});
