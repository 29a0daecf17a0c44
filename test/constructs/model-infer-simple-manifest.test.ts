import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { main } from '../../cli/inferkit';
import { simpleAdvanced, simpleBasic, simpleGpuAutoscaling } from '../../examples/modelinfer-simple';

const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');

function viaCli(file: string): unknown[] {
  let out = '';
  let err = '';
  const code = main(['synth', '-f', path.join(manifests, file)], s => { out += s; }, s => { err += s; });
  expect(err).toBe('');
  expect(code).toBe(0);
  return parseAllDocuments(out).map(d => d.toJS());
}

const sortByName = (objs: any[]) => [...objs].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));

describe('the seed-000 simple ModelInfers load from their manifests like the constructs', () => {
  test.each<[string, (app: App) => unknown]>([
    ['modelinfer-simple-basic.yaml', simpleBasic],
    ['modelinfer-simple-gpu-autoscaling.yaml', simpleGpuAutoscaling],
    ['modelinfer-simple-advanced.yaml', simpleAdvanced],
  ])('%s', (file, build) => {
    const app = Testing.app();
    build(app);
    expect(sortByName(viaCli(file))).toEqual(sortByName(app.charts.flatMap(c => Testing.synth(c))));
  });

  test('a modelRef to a Model that is not in the input is an error naming the fix', () => {
    let err = '';
    const file = path.join(manifests, 'modelinfer-simple-basic.yaml');
    const only = fs.readFileSync(file, 'utf8').split('---\n')[1];
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-')), 'mi.yaml');
    fs.writeFileSync(tmp, only);
    const code = main(['synth', '-f', tmp], () => undefined, s => { err += s; });
    fs.rmSync(path.dirname(tmp), { recursive: true });
    expect(code).toBe(1);
    expect(err).toContain("Unable to synthesize ModelInfer/llama-7b-infer: spec.modelRef 'llama-7b' names no Model in the given files. Add its ai.flexinfer/v1alpha2 Model (in namespace default) to the input.");
  });

  test('an unknown field of the simple form is an error', () => {
    let err = '';
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-')), 'mi.yaml');
    fs.writeFileSync(tmp, fs.readFileSync(path.join(manifests, 'modelinfer-simple-basic.yaml'), 'utf8').replace('  replicas: 2', '  replicas: 2\n  priority: high'));
    const code = main(['synth', '-f', tmp], () => undefined, s => { err += s; });
    fs.rmSync(path.dirname(tmp), { recursive: true });
    expect(code).toBe(1);
    expect(err).toContain("Unable to synthesize ModelInfer/llama-7b-infer: spec.priority 'high' is not a field of workload.matrixinfer.ai/v1alpha1 ModelInfer.");
  });
});
