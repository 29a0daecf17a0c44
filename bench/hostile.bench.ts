// A fixed hostile corpus through `inferkit synth -f`, each input in a process of its own (the compiled CLI), with its
// wall time and peak memory against the bounds the limits promise: every input answered (exit 0 or 1, never a crash
// or a hang) in under 2 s and 512 MB. Run: npx ts-node --transpile-only bench/hostile.bench.ts
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments, stringify } from 'yaml';

const REPO = path.resolve(__dirname, '..');
const BOUND_S = 2;
const BOUND_MB = 512;

const manifest = (name: string): any => parseAllDocuments(fs.readFileSync(path.join(REPO, 'examples', 'manifests', name), 'utf8')).map(d => d.toJS());

/** The corpus: a name per input class, and how to write its file (or the path to read). */
function corpus(dir: string): Array<[string, string]> {
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const serving = manifest('modelserving-sample.yaml')[0];
  const fleet = manifest('modelplane-fleet.yaml');
  const original = "device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('24Gi')) >= 0";
  const replace = (v: unknown, cel: string): unknown => (v === original ? cel : Array.isArray(v) ? v.map(x => replace(x, cel))
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x, cel)])) : v);
  const withSelector = (cel: string) => fleet.map((d: unknown) => stringify(replace(d, cel))).join('---\n');
  const cm = (i: number, data = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  x: "${data}"\n`;
  return [
    ['/dev/zero', '/dev/zero'],
    ['20 MiB in 5,000 documents', write('big.yaml', Array.from({ length: 5000 }, (_, i) => cm(i, 'x'.repeat(4000))).join('---\n'))],
    ['5,000 small documents', write('many.yaml', Array.from({ length: 5000 }, (_, i) => cm(i)).join('---\n'))],
    ['nesting 5,000 deep', write('deep.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\ndata: ${'['.repeat(5000)}${']'.repeat(5000)}\n`)],
    ['replicas 2147483647', write('replicas.yaml', stringify({ ...serving, spec: { ...serving.spec, replicas: 2147483647 } }))],
    ['10,000 role replicas', write('roles.yaml', stringify({
      ...serving,
      spec: {
        ...serving.spec,
        template: {
          ...serving.spec.template,
          roles: serving.spec.template.roles.map((r: any) => ({ ...r, replicas: 10_000 })),
        },
      },
    }))],
    ['50,000 predictors', write('predictors.yaml', `apiVersion: serving.kubedl.io/v1alpha1\nkind: Inference\nmetadata:\n  name: hello\nspec:\n  framework: TFServing\n  predictors:\n${
      Array.from({ length: 50_000 }, (_, i) => `  - {name: p${i}, modelVersion: m}\n`).join('')}`)],
    ['backtracking CEL regex', write('regex.yaml', withSelector("'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('^(a+)+$')"))],
    ['nested CEL comprehensions', write('comprehension.yaml', withSelector(
      '[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, [1,2,3,4,5,6,7,8,9,10].all(d, a + b + c + d > 0))))'))],
  ];
}

function main(): void {
  // The compiled CLI, as users run it (`npm ci` compiles it; compile again in case the sources changed since).
  execFileSync('npx', ['tsc', '--build'], { cwd: REPO, stdio: 'inherit' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-hostile-'));
  const rows: string[][] = [];
  let over = false;
  try {
    for (const [name, file] of corpus(dir)) {
      // GNU time prints the wall seconds and the peak resident set in KB of the CLI's process.
      const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, path.join(REPO, 'lib', 'cli', 'inferkit.js'), 'synth', '-f', file,
        '-o', path.join(dir, 'out')], { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 });
      const [seconds, kb] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
      const mb = kb / 1024;
      const firstError = r.stderr.split('\n').find(l => l.trim()) ?? '';
      const answered = r.status === 0 || r.status === 1;
      over ||= !answered || seconds > BOUND_S || mb > BOUND_MB;
      rows.push([name, String(r.status ?? r.signal), seconds.toFixed(2), mb.toFixed(0), firstError.slice(0, 90)]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const head = ['input', 'exit', 'wall s', 'peak MB', 'first line of stderr'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)));
  console.log(`Hostile inputs through inferkit synth -f (bounds: ${BOUND_S} s, ${BOUND_MB} MB each)`);
  console.log(head.map((h, i) => h.padEnd(widths[i])).join('  '));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log(over ? 'some inputs went past the bounds' : 'every input answered within the bounds');
  if (over) process.exitCode = 1;
}

main();
