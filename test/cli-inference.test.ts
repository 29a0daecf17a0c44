import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { main, parseSynthArgs } from '../cli/inferkit';

const multiModel = path.join(__dirname, '..', 'examples', 'manifests', 'inference-multi-model.yaml');

function run(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

/** The seed's two model versions, as KubeDL's ModelVersion objects with the image tags the user chose. */
const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach(d => fs.rmSync(d, { recursive: true, force: true })));

function modelVersionsFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-mv-'));
  tmpDirs.push(dir);
  const file = path.join(dir, 'model-versions.yaml');
  fs.writeFileSync(file, ['model-a', 'model-b'].map(name => [
    'apiVersion: model.kubedl.io/v1alpha1',
    'kind: ModelVersion',
    `metadata: {name: ${name}}`,
    `spec: {modelName: mnist, imageRepo: modelhub/mnist, imageTag: ${name}}`,
  ].join('\n')).join('\n---\n'));
  return file;
}

describe('inferkit synth of KubeDL Inferences', () => {
  test('--gateway attaches the 90/10 route to the Gateway; ModelVersions in the input are loaded into the predictors; no warning', () => {
    const { code, out, err } = run('synth', '-f', multiModel, '-f', modelVersionsFile(), '--gateway', 'edge/public');
    expect(err).toBe('');
    expect(code).toBe(0);
    const docs = parseAllDocuments(out).map(d => d.toJS());
    const route = docs.find(d => d.kind === 'HTTPRoute');
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'edge' }]);
    expect(route.spec.rules[0].backendRefs.map((b: any) => [b.name, b.port, b.weight])).toEqual([
      ['hello-inference-model-a-predictor', 8080, 90], ['hello-inference-model-b-predictor', 8080, 10],
    ]);
    expect(docs.filter(d => d.kind === 'Deployment').map(d => d.spec.template.spec.initContainers.map((c: any) => c.image))).toEqual([
      ['modelhub/mnist:model-a'], ['modelhub/mnist:model-b'],
    ]);
  });

  test('without --gateway the split and the missing ModelVersions are warnings on stderr, exit 0', () => {
    const { code, err } = run('synth', '-f', multiModel);
    expect(code).toBe(0);
    expect(err).toContain('Warning: Inference/hello-inference spec.predictors[*].trafficPercentage [90,10]: are split only where Gateway API routes the traffic');
    expect(err).toContain("Warning: Inference/hello-inference spec.predictors[0].modelVersion 'model-a': names no ModelVersion among the input documents");
  });

  test.each(['public', 'edge/public/x', '/public'])('--gateway %s is refused: it is not NAMESPACE/NAME', gateway => {
    expect(() => parseSynthArgs(['-f', multiModel, '--gateway', gateway]))
      .toThrow(`--gateway '${gateway}' is not NAMESPACE/NAME: give the Gateway's namespace and name, such as edge/public`);
  });
});
