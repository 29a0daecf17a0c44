// The kubeconfig files of `inferkit status` and `inferkit rollout`, against a fake API server over TLS (discovery and
// empty lists, a bearer token checked): relative paths in a kubeconfig are taken from its folder, as kubectl takes
// them, and the client's warnings (insecure-skip-tls-verify) are printed once on stderr, as synth prints its own.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { entryWorkerGroups } from './_helpers';
import { mainAsync } from '../cli/inferkit';
import { status } from '../cli/status';

const TOKEN = 'token-from-a-file';
/** The resources the fake server serves, by group version; the other group versions are not served (404). */
const RESOURCES: Record<string, Array<[string, string]>> = {
  '/api/v1': [['pods', 'Pod'], ['events', 'Event'], ['persistentvolumeclaims', 'PersistentVolumeClaim']],
  '/apis/apps/v1': [['statefulsets', 'StatefulSet'], ['deployments', 'Deployment']],
  '/apis/batch/v1': [['jobs', 'Job']],
};

let dir: string;
let server: https.Server;
let port: number;
let cert: string;
let input: string;
const sockets = new Set<{ destroy(): void }>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-cli-kubeconfig-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', 'key.pem', '-out', 'cert.pem'], { cwd: dir, stdio: 'pipe' });
  cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  server = https.createServer({ cert, key: fs.readFileSync(path.join(dir, 'key.pem')) }, (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url!, 'https://x');
    const answer = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return answer(401, { kind: 'Status', code: 401, message: 'Unauthorized' });
    const served = RESOURCES[url.pathname];
    if (served) return answer(200, { resources: served.map(([name, kind]) => ({ name, kind, namespaced: true })) });
    if (/^\/apis\/[^/]+\/[^/]+$/.test(url.pathname)) return answer(404, { kind: 'Status', code: 404 });
    return answer(200, { kind: 'List', items: [], metadata: {} });
  });
  server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
  input = path.join(dir, 'llm.k8s.yaml');
  fs.writeFileSync(input, entryWorkerGroups().map(o => stringify(o)).join('---\n'));
});
afterAll(async () => {
  sockets.forEach(s => s.destroy());
  await new Promise(r => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig file in a folder of its own, with `files` beside it; returns its path. */
function kubeconfigFolder(cluster: object, user: object, files: Record<string, string> = {}): string {
  const folder = fs.mkdtempSync(path.join(dir, 'conf-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(folder, name)), { recursive: true });
    fs.writeFileSync(path.join(folder, name), text, { mode: 0o755 });
  }
  const file = path.join(folder, 'kubeconfig');
  fs.writeFileSync(file, stringify({
    'apiVersion': 'v1',
    'kind': 'Config',
    'current-context': 'c',
    'clusters': [{ name: 'c', cluster: { server: `https://127.0.0.1:${port}`, ...cluster } }],
    'users': [{ name: 'u', user }],
    'contexts': [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
  }));
  return file;
}

/** An exec plugin (a node script) that prints the server's token. */
const PLUGIN = `#!${process.execPath}\nprocess.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', ` +
  `status: { token: '${TOKEN}' } }));\n`;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await mainAsync(argv, s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

const insecureWarning = () => `Warning: cluster https://127.0.0.1:${port} insecure-skip-tls-verify: the server's certificate is not verified, ` +
  'so anyone on the network path can pose as the API server and read the credentials. ' +
  'Set certificate-authority-data in the kubeconfig, and remove insecure-skip-tls-verify.\n';

describe('relative paths in a kubeconfig file are taken from its folder, as kubectl takes them', () => {
  test('inferkit status reads the CA and the tokenFile beside the kubeconfig, whatever the working directory', async () => {
    const kubeconfig = kubeconfigFolder({ 'certificate-authority': 'pki/ca.crt' }, { tokenFile: './secrets/token' },
      { 'pki/ca.crt': cert, 'secrets/token': `${TOKEN}\n` });
    const r = await run('status', '-f', input, '--kubeconfig', kubeconfig);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^NAMESPACE\s+NAME\s+PHASE/);
    expect(r.code).toBe(3);
  });

  test('inferkit rollout runs an exec plugin given as a path relative to the kubeconfig', async () => {
    const kubeconfig = kubeconfigFolder({ 'certificate-authority-data': Buffer.from(cert).toString('base64') },
      { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/get-token', interactiveMode: 'Never' } }, { 'bin/get-token': PLUGIN });
    const r = await run('rollout', '-f', input, '--kubeconfig', kubeconfig, '--dry-run');
    expect(r).toMatchObject({ code: 0, err: '' });
    // Planned against the live state the plugin's token read: no group exists yet.
    expect(r.out).toMatch(/^ml\/modelinfer\.llm: 2 unit\(s\) to revision \S+; maxUnavailable 1, maxSurge 0, partition 0: 0 wave\(s\)\n {2}create: llm-0, llm-1\n$/);
  });

  test('a relative file missing from the kubeconfig\'s folder is named with where it was looked for', async () => {
    const kubeconfig = kubeconfigFolder({ 'certificate-authority': 'ca.crt' }, { token: TOKEN });
    const r = await run('status', '-f', input, '--kubeconfig', kubeconfig);
    expect(r).toEqual({
      code: 1,
      out: '',
      err: `error: --kubeconfig ${kubeconfig}: Unable to read the kubeconfig: cluster 'c' has certificate-authority ${path.join(path.dirname(kubeconfig), 'ca.crt')}, ` +
        "which cannot be read (ENOENT; relative paths are taken from the kubeconfig's folder). Give the path of a PEM file readable by this process, " +
        'or certificate-authority-data.\n',
    });
  });
});

describe('the client\'s warnings are printed on stderr, once', () => {
  test('inferkit status with insecure-skip-tls-verify: the warning, then the table', async () => {
    const kubeconfig = kubeconfigFolder({ 'insecure-skip-tls-verify': true }, { token: TOKEN });
    const r = await run('status', '-f', input, '--kubeconfig', kubeconfig);
    expect(r.err).toBe(insecureWarning());
    expect(r.out).toMatch(/^NAMESPACE\s+NAME\s+PHASE/);
    expect(r.code).toBe(3);
  });

  test('inferkit status --watch warns once, not at every redraw', async () => {
    const kubeconfig = kubeconfigFolder({ 'insecure-skip-tls-verify': true }, { token: TOKEN });
    const controller = new AbortController();
    let err = '';
    let redraws = 0;
    const code = await status(['-f', input, '--kubeconfig', kubeconfig, '--watch'], () => entryWorkerGroups(), s => {
      if (s.startsWith('NAMESPACE') && ++redraws === 3) controller.abort();
    }, s => { err += s; }, { signal: controller.signal, intervalMs: 10 });
    expect(code).toBe(3);
    expect(redraws).toBe(3);
    expect(err).toBe(insecureWarning());
  });

  test('inferkit rollout --dry-run with insecure-skip-tls-verify: the warning, then the waves', async () => {
    const kubeconfig = kubeconfigFolder({ 'insecure-skip-tls-verify': true }, { token: TOKEN });
    const r = await run('rollout', '-f', input, '--kubeconfig', kubeconfig, '--dry-run');
    expect(r.err).toBe(insecureWarning());
    expect(r.out).toMatch(/^ml\/modelinfer\.llm: 2 unit\(s\) .*\n {2}create: llm-0, llm-1\n$/);
    expect(r.code).toBe(0);
  });

  test('a kubeconfig whose certificate is verified gives no warning', async () => {
    const kubeconfig = kubeconfigFolder({ 'certificate-authority-data': Buffer.from(cert).toString('base64') }, { token: TOKEN });
    expect((await run('rollout', '-f', input, '--kubeconfig', kubeconfig, '--dry-run')).err).toBe('');
  });
});
