// `inferkit status` where no cluster is read: the errors of a missing or invalid kubeconfig, the usage errors (exit 2),
// an input without any seed workload, and kubectl's age format. The command against a real cluster (the table, -o
// json|yaml, the exit codes, KIND/NAME, --watch, a fleet with one cluster down) is test/integration/cli-status.int.test.ts.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { entryWorkerGroups } from './_helpers';
import { mainAsync } from '../cli/inferkit';
import { formatAge } from '../cli/status';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Writes files into a new folder; returns their paths. */
function write(files: Record<string, string>): Record<string, string> {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-status-'));
  dirs.push(d);
  return Object.fromEntries(Object.entries(files).map(([name, text]) => {
    fs.writeFileSync(path.join(d, name), text);
    return [name, path.join(d, name)];
  }));
}


async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await mainAsync(['status', ...argv], s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

/** A valid kubeconfig of a cluster at port 1 of 127.0.0.1, which these commands stop before reaching. */
const UNREACHED_KUBECONFIG = [
  'apiVersion: v1', 'kind: Config', 'current-context: c',
  'clusters:', '- name: c', '  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}',
  'users:', '- name: u', '  user: {token: t}',
  'contexts:', '- name: c', '  context: {cluster: c, user: u}',
].join('\n');

describe('inferkit status errors', () => {
  const input = write({ 'llm.k8s.yaml': entryWorkerGroups().map(o => stringify(o)).join('---\n') })['llm.k8s.yaml'];

  test('a missing kubeconfig is named, exit 1', async () => {
    const r = await run('-f', input, '--kubeconfig', '/nonexistent/kubeconfig');
    expect(r).toEqual({ code: 1, out: '', err: 'error: --kubeconfig /nonexistent/kubeconfig: no such file. Give the path of a kubeconfig file.\n' });
  });

  test.each([
    ['not YAML', 'a: [', /^error: --kubeconfig \S+: Unable to read the kubeconfig: it is not YAML \(/],
    ['without a current context', 'clusters: []', /^error: --kubeconfig \S+: Unable to read the kubeconfig: it has no current-context\. Set current-context, or name a context\.\n$/],
  ])('an invalid kubeconfig (%s) is refused with what is wrong, exit 1', async (_, text, message) => {
    const { kubeconfig } = write({ kubeconfig: text });
    const r = await run('-f', input, '--kubeconfig', kubeconfig);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(message);
  });

  test.each([
    [['-f', 'x.yaml'], 'no cluster: give --kubeconfig <file>'],
    [['--kubeconfig', 'k'], 'no input: give -f <file.yaml|dir>, or KIND/NAME'],
    [['Pod/x', '--kubeconfig', 'k'], '\'Pod/x\' is not KIND/NAME: KIND is one of ModelInfer, ModelServing, Model, Inference, ModelDeployment, ModelReplica, for example ModelInfer/llama'],
    [['-f', 'x.yaml', '-o', 'wide', '--kubeconfig', 'k'], '-o \'wide\' is not an output format: use table, json or yaml'],
    [['-f', 'x.yaml', '--kubeconfig', 'a=k', '--kubeconfig', 'a=j'], '--kubeconfig a=j: cluster a is given twice; give one kubeconfig per cluster as <cluster>=<file>'],
    [['-f', 'x.yaml', '--kubeconfig', 'k', '--kubeconfig', 'a=j'], 'with several kubeconfigs, name the cluster of each: --kubeconfig <cluster>=<file>'],
  ])('usage error %j: exit 2 with the usage', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err.startsWith(`${message}\n\nUsage: inferkit status`)).toBe(true);
  });

  test('an input without any seed workload is an error, exit 1', async () => {
    const { cm, kubeconfig } = write({ cm: stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }), kubeconfig: UNREACHED_KUBECONFIG });
    const r = await run('-f', cm, '--kubeconfig', kubeconfig);
    expect(r).toEqual({ code: 1, out: '', err: 'nothing to report: the input has no ModelInfer, ModelServing, Model, Inference, ModelDeployment or ModelReplica\n' });
  });

  test.each([[undefined, '<none>'], ['2026-11-28T08:00:00Z', '90s'], ['2026-11-28T07:00:00Z', '61m'], ['2026-11-27T08:00:00Z', '24h'], ['2026-11-20T08:00:00Z', '8d']])(
    'age of %s is %s, as kubectl prints it', (createdAt, age) => {
      expect(formatAge(createdAt, Date.parse('2026-11-28T08:01:30Z'))).toBe(age);
    });
});
