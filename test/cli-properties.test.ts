import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import { main } from '../cli/inferkit';

const manifests = path.join(__dirname, '..', 'examples', 'manifests');
const examples = fs.readdirSync(manifests).filter(f => f.endsWith('.yaml')).sort()
  .map(f => ({ name: f, docs: parseAllDocuments(fs.readFileSync(path.join(manifests, f), 'utf8')).map(d => d.toJS()).filter(d => d) }));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-props-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Values a hand-edited or hostile manifest puts where something else belongs. */
const HOSTILE: readonly unknown[] = [{}, [], null, 'x', '', 'A B', 'http', '-5', 0, -1, 2.5, 70000, 1e10, 1e300, true, { a: 1 }, [1, 'a'], [{}], 'a'.repeat(300)];

/** Every path into a JSON value, depth first. */
function paths(value: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  if (at.length > 0) out.push(at);
  if (value !== null && typeof value === 'object') {
    for (const k of Object.keys(value)) paths((value as Record<string, unknown>)[k], [...at, Array.isArray(value) ? Number(k) : k], out);
  }
  return out;
}

/** One edit: at the `where`-th path of document `doc`, put a hostile value, or delete what is there. */
interface Mutation {
  readonly doc: number;
  readonly where: number;
  readonly value: unknown;
  readonly remove: boolean;
}

function mutate(docs: unknown[], m: Mutation): void {
  const doc = docs[m.doc % docs.length];
  const all = paths(doc);
  if (all.length === 0) return;
  const at = all[m.where % all.length];
  let parent = doc as Record<string | number, unknown>;
  for (const k of at.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = at[at.length - 1];
  if (!m.remove) parent[key] = structuredClone(m.value);
  else if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
}

/** What no message may show: JavaScript's own words for a value or an error, rather than the user's. */
const INTERNALS = /undefined|\[object Object\]|NaN|TypeError|is not a function|Cannot read propert|is not iterable|call stack|Received: /;

describe('inferkit synth over mutated example manifests', () => {
  test('exits 0, or exits 1 with messages that start with "Unable to" and name a resource, never JavaScript internals', () => {
    const mutation = fc.record({ doc: fc.nat(), where: fc.nat(), value: fc.constantFrom(...HOSTILE), remove: fc.boolean() });
    fc.assert(fc.property(fc.nat({ max: examples.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (example, mutations) => {
      const docs = structuredClone(examples[example].docs);
      for (const m of mutations) mutate(docs, m);
      const file = path.join(dir, 'input.yaml');
      fs.writeFileSync(file, docs.map(d => stringify(d)).join('---\n'));
      let err = '';
      const code = main(['synth', '-f', file, '-o', path.join(dir, 'out')], () => undefined, s => { err += s; });
      const lines = err.split('\n').filter(l => l !== '' && !l.startsWith('wrote '));
      for (const line of lines) expect(line).not.toMatch(INTERNALS);
      expect([0, 1]).toContain(code);
      if (code === 1) {
        const errors = lines.filter(l => !l.startsWith('Warning: '));
        expect(errors.length).toBeGreaterThan(0);
        const at = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        for (const line of errors) expect(line).toMatch(new RegExp(`^(error: )?(${at}: )?Unable to (read ${at}|synthesize [^:/]+/[^:]*):`));
      }
    }), { numRuns: 60, seed: 20261128 });
  });
});

describe('inputs that once leaked JavaScript internals, each with its message now', () => {
  const serving = () => structuredClone(examples.find(e => e.name === 'modelserving-sample.yaml')!.docs[0]) as any;
  const inference = () => structuredClone(examples.find(e => e.name === 'inference-single-model.yaml')!.docs[0]) as any;
  const synth = (...docs: unknown[]) => {
    const file = path.join(dir, 'case.yaml');
    fs.writeFileSync(file, docs.map(d => (typeof d === 'string' ? d : stringify(d))).join('---\n'));
    let out = '';
    let err = '';
    const code = main(['synth', '-f', file], s => { out += s; }, s => { err += s; });
    return { code, out, err: err.split(`${file}: `).join('').split('\n').filter(l => l !== '' && !l.startsWith('Warning: ')) };
  };
  const ENTRY = 'spec.template.roles[0].entryTemplate';

  test.each<[string, () => unknown, string]>([
    ['ports that are not a list (obj.ports?.map is not a function)', () => { const d = serving(); d.spec.template.roles[0].entryTemplate.spec.containers[0].ports = 'x'; return d; },
      `Unable to synthesize ModelServing/sample: ${ENTRY}.spec.containers[0].ports 'x' is not a list. Write it as a list.`],
    ['a null in a list of objects (Cannot read properties of null)', () => {
      const d = serving();
      d.spec.template.roles[0].entryTemplate.spec.affinity = { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [null] } };
      return d;
    }, `Unable to synthesize ModelServing/sample: ${ENTRY}.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0] null is empty. `
      + 'Remove it, or give its value.'],
    ['a template whose spec is empty (a pod of no container)', () => { const d = serving(); d.spec.template.roles[0].entryTemplate.spec = null; return d; },
      `Unable to synthesize ModelServing/sample: ${ENTRY}.spec is missing, so the pod would have no container. Give the pod spec with its containers.`],
    ['an empty document (undefined/undefined)', () => '{}\n',
      'Unable to synthesize (no kind)/(unnamed): the document has no apiVersion or kind, so it is not a Kubernetes object. Give both, or remove the document.'],
    ["a kind that is a mapping (kind '[object Object]')", () => { const d = serving(); d.kind = { a: 1 }; return d; },
      'Unable to synthesize (no kind)/sample: the document has no apiVersion or kind, so it is not a Kubernetes object. Give both, or remove the document.'],
    ['an annotation whose value is a mapping ([object Object])', () => { const d = serving(); d.metadata.annotations = { a: { b: 1 } }; return d; },
      'Unable to synthesize ModelServing/sample: metadata.annotations.a {"b":1} is not a string. Quote the value.'],
    ['a negative restartGracePeriodSeconds (Duration amounts cannot be negative)', () => { const d = serving(); d.spec.template.restartGracePeriodSeconds = -1; return d; },
      'Unable to synthesize ModelServing/sample: spec.template.restartGracePeriodSeconds -1 is negative. Give 0 or more seconds.'],
    ["a simple ModelInfer whose modelRef has no name (modelRef 'undefined')", () => 'apiVersion: workload.matrixinfer.ai/v1alpha1\nkind: ModelInfer\n'
      + 'metadata:\n  name: infer\nspec:\n  modelRef: {}\n',
    'Unable to synthesize ModelInfer/infer: spec.modelRef.name is missing. Name the Model the ModelInfer runs.'],
  ])('%s', (_, doc, message) => {
    expect(synth(doc())).toMatchObject({ code: 1, err: [message] });
  });

  test('the same kind and name in two namespaces are two resources, not one defined twice', () => {
    const [a, b] = [inference(), inference()];
    a.metadata.namespace = 'team-a';
    b.metadata.namespace = 'team-b';
    const { code, out } = synth(a, b);
    expect(code).toBe(0);
    const deployments = parseAllDocuments(out).map(d => d.toJS()).filter(d => d.kind === 'Deployment');
    expect(deployments.map(d => d.metadata.namespace).sort()).toEqual(['team-a', 'team-b']);
  });

  test('in one namespace, it is defined twice', () => {
    const [a, b] = [inference(), inference()];
    a.metadata.namespace = 'team-a';
    b.metadata.namespace = 'team-a';
    expect(synth(a, b)).toMatchObject({ code: 1, err: [expect.stringMatching(/^Unable to synthesize Inference\/hello-inference: it is defined twice in namespace team-a, here and in /)] });
  });
});
