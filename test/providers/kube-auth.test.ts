// How the Kubernetes client authenticates as kubeconfig users do: every form of user and proxy-url the parse takes or
// refuses (with its message), and exec credential plugins run for real (small node scripts in a temp folder that count
// their runs in a file): caching until expiry, one run for concurrent callers, refresh, and every failure's message.
// Relative paths of a kubeconfig file, taken from its folder. The proxy of the environment (HTTPS_PROXY, NO_PROXY), chosen
// as Go's net/http chooses it, through a local CONNECT proxy to a local TLS server. What needs an API server (the 401
// refresh, proxy tunnels, kubectl beside the client, pulumi up) is in test/integration/kube-auth.int.test.ts.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { configurationProblem, KubeClient, parseKubeconfig, ProxyConnectError, proxyFromEnvironment } from '../../providers/_kube';
import { ExecConfig, ExecCredentials, KubeCredentialError, TOKEN_FILE_REREAD_MS, TokenFileCredentials } from '../../providers/_kube-auth';
import { readLiveCluster } from '../../providers/inventory';
import { placementProvider } from '../../providers/placement';

const V1 = 'client.authentication.k8s.io/v1';
const SERVER = 'https://127.0.0.1:6443';
const OWNER = { server: SERVER, context: 'prod', user: 'admin' };

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-kube-auth-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  jest.restoreAllMocks();
});

/** A kubeconfig of one context `prod`, cluster `c` (server {@link SERVER} unless `cluster` says) and user `admin`. */
function kubeconfig(user: object, cluster: object = { server: SERVER }): string {
  return [
    'apiVersion: v1', 'kind: Config', 'current-context: prod',
    `clusters: [{name: c, cluster: ${JSON.stringify(cluster)}}]`,
    `users: [{name: admin, user: ${JSON.stringify(user)}}]`,
    'contexts: [{name: prod, context: {cluster: c, user: admin}}]',
  ].join('\n');
}

let plugins = 0;
/**
 * An exec plugin: a node script that appends to `<script>.runs` each time it starts, then runs `body` (with `runs`, the
 * count so far, and `fs`). Returns its path.
 */
function plugin(body: string): string {
  const file = path.join(dir, `plugin-${++plugins}`);
  fs.writeFileSync(file, [
    `#!${process.execPath}`, "const fs = require('fs');",
    `fs.appendFileSync(${JSON.stringify(`${file}.runs`)}, 'x');`,
    `const runs = fs.readFileSync(${JSON.stringify(`${file}.runs`)}, 'utf8').length;`,
    body,
  ].join('\n'), { mode: 0o755 });
  return file;
}
const runsOf = (file: string) => fs.existsSync(`${file}.runs`) ? fs.readFileSync(`${file}.runs`, 'utf8').length : 0;

/** Plugin code that prints an ExecCredential of `apiVersion` with the status `status` (JavaScript). */
const prints = (status: string, apiVersion = V1) =>
  `process.stdout.write(JSON.stringify({ apiVersion: '${apiVersion}', kind: 'ExecCredential', status: ${status} }));`;
/** A status JavaScript expression: token `t-<run>`, expiring `seconds` from now. */
const expiring = (seconds: number) => `{ token: 't-' + runs, expirationTimestamp: new Date(Date.now() + ${seconds * 1000}).toISOString() }`;

function execCredentials(exec: Partial<ExecConfig> & { command: string }, timeoutMs = 10_000, cluster: object = {}): ExecCredentials {
  return new ExecCredentials({ apiVersion: V1, ...exec }, { server: SERVER, ...cluster }, OWNER, timeoutMs);
}

/** The message `promise` rejects with; fails when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a rejection');
}

describe('parsing a kubeconfig user and cluster', () => {
  test('an exec plugin is read with every field, and neither the parse nor the client runs it', () => {
    const command = plugin(prints("{ token: 't' }"));
    const text = kubeconfig({
      exec: {
        apiVersion: V1,
        command,
        args: ['eks', 'get-token'],
        env: [{ name: 'AWS_PROFILE', value: 'prod' }],
        installHint: 'brew install awscli',
        provideClusterInfo: true,
        interactiveMode: 'Never',
      },
    }, { server: SERVER, extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'x' } }] });
    const access = parseKubeconfig(text);
    expect(access).toMatchObject({
      server: SERVER,
      context: 'prod',
      user: 'admin',
      exec: {
        apiVersion: V1,
        command,
        args: ['eks', 'get-token'],
        env: [{ name: 'AWS_PROFILE', value: 'prod' }],
        installHint: 'brew install awscli',
        provideClusterInfo: true,
        clusterConfig: { audience: 'x' },
      },
    });
    new KubeClient(access).close();
    expect(runsOf(command)).toBe(0);
  });

  test('a v1beta1 plugin needs no interactiveMode; IfAvailable is taken and run without a terminal', () => {
    expect(parseKubeconfig(kubeconfig({ exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws' } })).exec)
      .toMatchObject({ apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: [], env: [], provideClusterInfo: false });
    expect(parseKubeconfig(kubeconfig({ exec: { apiVersion: V1, command: 'aws', interactiveMode: 'IfAvailable' } })).exec).toMatchObject({ command: 'aws' });
  });

  test.each<[string, object, string]>([
    ['v1alpha1', { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'aws' },
      "user 'admin' has an exec plugin of client.authentication.k8s.io/v1alpha1, which Kubernetes removed in 1.24 and which is not supported. " +
      'Set exec.apiVersion to client.authentication.k8s.io/v1 (or v1beta1), the version the plugin prints, with a version of the plugin that prints it.'],
    ['no apiVersion', { command: 'aws' },
      "user 'admin' has an exec plugin without apiVersion. Set exec.apiVersion to client.authentication.k8s.io/v1 (or v1beta1), the version the plugin prints."],
    ['another apiVersion', { apiVersion: 'example.com/v2', command: 'aws' },
      "user 'admin' has an exec plugin of apiVersion \"example.com/v2\", which is not supported. Set exec.apiVersion to client.authentication.k8s.io/v1 (or v1beta1)"],
    ['no command', { apiVersion: V1, interactiveMode: 'Never' }, "user 'admin' has an exec plugin without command. Set exec.command to the plugin's program."],
    ['args that are not strings', { apiVersion: V1, command: 'aws', interactiveMode: 'Never', args: ['eks', 3] },
      "user 'admin' has exec.args that are not a list of strings. Quote each argument."],
    ['env that is not name and value', { apiVersion: V1, command: 'aws', interactiveMode: 'Never', env: [{ name: 'A' }] },
      "user 'admin' has exec.env that is not a list of name and value strings. Give each variable as {name: NAME, value: \"text\"}."],
    ['an installHint that is not a string', { apiVersion: V1, command: 'aws', interactiveMode: 'Never', installHint: ['x'] },
      "user 'admin' has an exec.installHint that is not a string. Quote it."],
    ['a provideClusterInfo that is not a boolean', { apiVersion: V1, command: 'aws', interactiveMode: 'Never', provideClusterInfo: 'yes' },
      "user 'admin' has an exec.provideClusterInfo that is not true or false. Give true or false."],
    ['v1 without interactiveMode', { apiVersion: V1, command: 'aws' },
      "user 'admin' has an exec plugin of client.authentication.k8s.io/v1 without interactiveMode, which kubectl and the Pulumi Kubernetes provider refuse. " +
      'Set exec.interactiveMode to Never (or IfAvailable).'],
    ['interactiveMode Always', { apiVersion: V1, command: 'aws', interactiveMode: 'Always' },
      "user 'admin' has an exec plugin with interactiveMode Always: it needs a terminal, and the client never has one (it runs in Pulumi, in CI, in scripts). " +
      'Set exec.interactiveMode to Never (or IfAvailable), and let the plugin authenticate without a prompt (a cached login, environment variables).'],
    ['another interactiveMode', { apiVersion: V1, command: 'aws', interactiveMode: 'Sometimes' },
      "user 'admin' has exec.interactiveMode \"Sometimes\", which is not Never, IfAvailable or Always. Set it to Never (or IfAvailable)."],
  ])('an exec plugin with %s is refused with the fix', (_, exec, message) => {
    expect(() => parseKubeconfig(kubeconfig({ exec }))).toThrow(`Unable to read the kubeconfig: ${message}`);
  });

  test('an exec plugin beside a token or a client certificate is refused: kubectl would never run it', () => {
    const exec = { apiVersion: V1, command: 'aws', interactiveMode: 'Never' };
    expect(() => parseKubeconfig(kubeconfig({ exec, token: 'abc' }))).toThrow(
      "Unable to read the kubeconfig: user 'admin' has both an exec plugin and a token, and kubectl would use the latter without running the plugin. Keep one of them.");
    const pem = Buffer.from('PEM').toString('base64');
    expect(() => parseKubeconfig(kubeconfig({ exec, 'client-certificate-data': pem, 'client-key-data': pem }))).toThrow(
      "user 'admin' has both an exec plugin and a client certificate");
  });

  test('an auth provider is refused with the exec plugin that replaces it', () => {
    expect(() => parseKubeconfig(kubeconfig({ 'auth-provider': { name: 'gcp', config: {} } }))).toThrow(
      "Unable to read the kubeconfig: user 'admin' authenticates with the auth provider 'gcp', which Kubernetes removed in 1.26 and which is not supported. " +
      "Use the provider's exec credential plugin instead (gke-gcloud-auth-plugin for GKE, kubelogin for AKS and OIDC).");
  });

  test('a tokenFile is kept as a path to read when requests need it; one that cannot be read is refused naming the user', () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'from-file\n');
    expect(parseKubeconfig(kubeconfig({ tokenFile: file }))).toMatchObject({ tokenFile: file, token: undefined });
    expect(() => parseKubeconfig(kubeconfig({ tokenFile: path.join(dir, 'missing') }))).toThrow(
      `Unable to read the kubeconfig: user 'admin' has tokenFile ${path.join(dir, 'missing')}, which cannot be read (ENOENT). ` +
      'Give the path of a file holding a bearer token, readable by this process.');
  });

  test('relative paths of a kubeconfig file are taken from its folder, as kubectl takes them; a command without a slash is looked up on PATH', () => {
    const folder = fs.mkdtempSync(path.join(dir, 'conf-'));
    fs.mkdirSync(path.join(folder, 'pki'));
    fs.writeFileSync(path.join(folder, 'pki', 'ca.crt'), 'CA PEM');
    fs.writeFileSync(path.join(folder, 'pki', 'client.crt'), 'CERT PEM');
    fs.writeFileSync(path.join(folder, 'pki', 'client.key'), 'KEY PEM');
    fs.writeFileSync(path.join(folder, 'token'), 'from-file');
    const files = kubeconfig({ 'tokenFile': 'token', 'client-certificate': 'pki/client.crt', 'client-key': './pki/client.key' },
      { 'server': SERVER, 'certificate-authority': 'pki/ca.crt' });
    expect(parseKubeconfig(files, { baseDir: folder })).toMatchObject({
      ca: 'CA PEM', clientCertificate: 'CERT PEM', clientKey: 'KEY PEM', tokenFile: path.join(folder, 'token'),
    });
    const exec = (command: string) => parseKubeconfig(kubeconfig({ exec: { apiVersion: V1, command, interactiveMode: 'Never' } }), { baseDir: folder }).exec?.command;
    expect(exec('./bin/get-token')).toBe(path.join(folder, 'bin', 'get-token'));
    expect(exec('bin/get-token')).toBe(path.join(folder, 'bin', 'get-token'));
    expect(exec('/usr/local/bin/aws')).toBe('/usr/local/bin/aws');
    expect(exec('aws')).toBe('aws');
  });

  test('a relative file that is not in the kubeconfig\'s folder is refused with where it was looked for', () => {
    const folder = fs.mkdtempSync(path.join(dir, 'conf-'));
    expect(() => parseKubeconfig(kubeconfig({ token: 't' }, { 'server': SERVER, 'certificate-authority': 'ca.crt' }), { baseDir: folder })).toThrow(
      `Unable to read the kubeconfig: cluster 'c' has certificate-authority ${path.join(folder, 'ca.crt')}, which cannot be read ` +
      "(ENOENT; relative paths are taken from the kubeconfig's folder). Give the path of a PEM file readable by this process, or certificate-authority-data.");
    expect(() => parseKubeconfig(kubeconfig({ tokenFile: 'token' }), { baseDir: folder })).toThrow(
      `Unable to read the kubeconfig: user 'admin' has tokenFile ${path.join(folder, 'token')}, which cannot be read ` +
      "(ENOENT; relative paths are taken from the kubeconfig's folder). Give the path of a file holding a bearer token, readable by this process.");
  });

  test('a kubeconfig given as text (Pulumi args) takes relative paths from the working directory, and says so', () => {
    expect(() => parseKubeconfig(kubeconfig({ 'client-certificate': 'inferkit-no-such.crt', 'client-key': 'inferkit-no-such.key' }))).toThrow(
      "Unable to read the kubeconfig: user 'admin' has client-certificate inferkit-no-such.crt, which cannot be read " +
      `(ENOENT; relative paths are taken from the working directory ${process.cwd()}, as the kubeconfig is text, not a file). ` +
      'Give the path of a PEM file readable by this process, or client-certificate-data.');
    expect(parseKubeconfig(kubeconfig({ exec: { apiVersion: V1, command: './bin/get-token', interactiveMode: 'Never' } })).exec?.command).toBe('./bin/get-token');
  });

  test('an http:// or https:// proxy-url is taken as given', () => {
    for (const proxy of ['http://proxy.example.com:3128', 'https://user:secret@proxy.example.com']) {
      expect(parseKubeconfig(kubeconfig({ token: 't' }, { 'server': SERVER, 'proxy-url': proxy })).proxyUrl).toBe(proxy);
    }
  });

  test.each([
    ['a SOCKS proxy', 'socks5://user:secret@proxy:1080',
      "cluster 'c' has proxy-url socks5://proxy:1080, a SOCKS proxy, which is not supported. Give an http:// or https:// proxy (one that tunnels by HTTP CONNECT), or reach the server directly."],
    ['another scheme', 'ftp://user:secret@proxy', "cluster 'c' has a proxy-url of scheme 'ftp:', which is not a proxy scheme. Give an http:// or https:// proxy, such as http://proxy.example.com:3128."],
    ['no URL', 'user:secret@proxy:3128', "cluster 'c' has a proxy-url of scheme 'user:', which is not a proxy scheme."],
    ['not a URL', '://secret', "cluster 'c' has a proxy-url that is not a URL."],
  ])('a proxy-url with %s is refused without showing its credentials', (_, proxy, message) => {
    const text = kubeconfig({ token: 't' }, { 'server': SERVER, 'proxy-url': proxy });
    expect(() => parseKubeconfig(text)).toThrow(`Unable to read the kubeconfig: ${message}`);
    expect(() => parseKubeconfig(text)).not.toThrow(/secret/);
  });
});

describe('an exec credential plugin', () => {
  test('its credential is used until shortly before it expires, then the plugin runs again', async () => {
    const command = plugin(prints(expiring(2)));
    const creds = execCredentials({ command });
    expect(await creds.get()).toEqual(expect.objectContaining({ token: 't-1' }));
    expect(await creds.get()).toEqual(expect.objectContaining({ token: 't-1' }));
    expect(runsOf(command)).toBe(1);
    // Used until a quarter of its 2 s lifetime is left (10 s before expiry for long-lived ones).
    await new Promise(r => setTimeout(r, 1_700));
    expect(await creds.get()).toEqual(expect.objectContaining({ token: 't-2' }));
    expect(runsOf(command)).toBe(2);
  });

  test('a credential that expires in an hour is refreshed 10 s before, one without expirationTimestamp never', async () => {
    const hour = plugin(prints(expiring(3600)));
    const creds = execCredentials({ command: hour });
    await creds.get();
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + 3_580_000);
    await creds.get();
    expect(runsOf(hour)).toBe(1);
    jest.spyOn(Date, 'now').mockReturnValue(now + 3_591_000);
    expect(await creds.get()).toEqual(expect.objectContaining({ token: 't-2' }));

    const forever = plugin(prints("{ token: 'static' }"));
    const once = execCredentials({ command: forever });
    await once.get();
    jest.spyOn(Date, 'now').mockReturnValue(now + 365 * 24 * 3_600_000);
    await once.get();
    expect(runsOf(forever)).toBe(1);
  });

  test('concurrent requests share one run of the plugin', async () => {
    const command = plugin(`setTimeout(() => { ${prints(expiring(3600))} }, 300);`);
    const creds = execCredentials({ command });
    const tokens = await Promise.all(Array.from({ length: 20 }, () => creds.get()));
    expect(new Set(tokens.map(t => t.token))).toEqual(new Set(['t-1']));
    expect(runsOf(command)).toBe(1);
  });

  test('after a 401 the plugin runs once for every caller that saw the refused credential, and not for a caller that saw an older one', async () => {
    const command = plugin(`setTimeout(() => { ${prints(expiring(3600))} }, 200);`);
    const creds = execCredentials({ command });
    const first = await creds.get();
    const refreshed = await Promise.all(Array.from({ length: 5 }, () => creds.refresh(first)));
    expect(refreshed.map(c => c?.token)).toEqual(['t-2', 't-2', 't-2', 't-2', 't-2']);
    expect(runsOf(command)).toBe(2);
    // A caller whose request carried the first credential gets the second one, without a run.
    expect((await creds.refresh(first))?.token).toBe('t-2');
    expect(runsOf(command)).toBe(2);
  });

  test('it gets args, env and KUBERNETES_EXEC_INFO with interactive false; the cluster only with provideClusterInfo', async () => {
    const seen = path.join(dir, 'seen.json');
    const command = plugin(`fs.writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ args: process.argv.slice(2), profile: process.env.AWS_PROFILE, ` +
      `info: JSON.parse(process.env.KUBERNETES_EXEC_INFO) })); ${prints("{ token: 't' }")}`);
    await execCredentials({ command, args: ['eks', 'get-token'], env: [{ name: 'AWS_PROFILE', value: 'prod' }] }).get();
    expect(JSON.parse(fs.readFileSync(seen, 'utf8'))).toEqual({
      args: ['eks', 'get-token'], profile: 'prod', info: { apiVersion: V1, kind: 'ExecCredential', spec: { interactive: false } },
    });
    const cluster = { ca: 'CA PEM', tlsServerName: 'api.internal', insecureSkipTlsVerify: true, proxyUrl: 'http://proxy:3128' };
    await execCredentials({ command, provideClusterInfo: true, clusterConfig: { audience: 'x' } }, 10_000, cluster).get();
    expect(JSON.parse(fs.readFileSync(seen, 'utf8')).info).toEqual({
      apiVersion: V1,
      kind: 'ExecCredential',
      spec: {
        interactive: false,
        cluster: {
          'server': SERVER,
          'certificate-authority-data': Buffer.from('CA PEM').toString('base64'),
          'tls-server-name': 'api.internal',
          'insecure-skip-tls-verify': true,
          'proxy-url': 'http://proxy:3128',
          'config': { audience: 'x' },
        },
      },
    });
  });

  test('a command that is not installed fails with its installHint, the command, the user, the context and the cluster', async () => {
    const creds = execCredentials({ command: 'inferkit-no-such-plugin', installHint: 'Install it with: brew install inferkit-no-such-plugin' });
    expect(await rejection(creds.get())).toBe(
      `Unable to get the credentials of user 'admin' (context 'prod') for cluster ${SERVER}: the exec plugin 'inferkit-no-such-plugin' was not found on PATH. ` +
      'Install it with: brew install inferkit-no-such-plugin.');
    expect(await rejection(execCredentials({ command: path.join(dir, 'absent') }).get())).toBe(
      `Unable to get the credentials of user 'admin' (context 'prod') for cluster ${SERVER}: the exec plugin '${path.join(dir, 'absent')}' was not found. ` +
      `Install '${path.join(dir, 'absent')}', or give its full path in the kubeconfig's exec.command.`);
  });

  test('a plugin file that is not executable fails with what to check', async () => {
    const command = path.join(dir, 'not-executable');
    fs.writeFileSync(command, '#!/bin/sh\n', { mode: 0o644 });
    expect(await rejection(execCredentials({ command }).get())).toBe(
      `Unable to get the credentials of user 'admin' (context 'prod') for cluster ${SERVER}: the exec plugin '${command}' could not be started (EACCES). ` +
      'Check that it is an executable file.');
  });

  test('a failing plugin fails with its exit code and the end of its standard error, trimmed', async () => {
    const command = plugin("process.stderr.write('\\n  ' + 'x'.repeat(5000) + '\\nerror: the SSO session expired, run aws sso login\\n\\n'); process.exit(3);");
    const message = await rejection(execCredentials({ command }).get());
    expect(message).toMatch(new RegExp(`^Unable to get the credentials of user 'admin' \\(context 'prod'\\) for cluster ${SERVER}: the exec plugin '.+' exited with code 3: \\.\\.\\.x+ ` +
      'error: the SSO session expired, run aws sso login\\. Fix its configuration \\(exec in the kubeconfig, its login\\), or run it yourself to see why\\.$'));
    expect(message.length).toBeLessThan(1_400);
  });

  test('a plugin that does not finish is killed at the timeout', async () => {
    const command = plugin("process.stderr.write('waiting for the browser'); setTimeout(() => {}, 60_000);");
    const started = Date.now();
    expect(await rejection(execCredentials({ command }, 300).get())).toMatch(
      /the exec plugin '.+' did not finish in 300 ms: waiting for the browser\. Run it yourself to see what it waits for \(a login, the network\), or raise the client's execTimeoutMs\.$/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  test.each<[string, string, string]>([
    ['no JSON', "process.stdout.write('token=SECRET-TOKEN')",
      `printed something that is not JSON on its standard output, not an ExecCredential. Check the plugin and its arguments: it must print an ExecCredential of ${V1}.`],
    ['nothing', '', `printed nothing on its standard output, not an ExecCredential. Check the plugin and its arguments: it must print an ExecCredential of ${V1}.`],
    ['another kind', "process.stdout.write(JSON.stringify({ kind: 'Secret', token: 'SECRET-TOKEN' }))",
      "printed JSON of kind 'Secret', not an ExecCredential. Check the plugin and its arguments."],
    ['another apiVersion', prints("{ token: 'SECRET-TOKEN' }", 'client.authentication.k8s.io/v1beta1'),
      `printed an ExecCredential of apiVersion 'client.authentication.k8s.io/v1beta1', not ${V1} as the kubeconfig says. Set exec.apiVersion to the version the plugin prints.`],
    ['no status', "process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential' }))",
      'printed an ExecCredential without status. Check the plugin.'],
    ['no credential', prints("{ expirationTimestamp: '2030-01-01T00:00:00Z' }"),
      'printed an ExecCredential with neither a token nor a client certificate and key. Check the plugin.'],
    ['a certificate without its key', prints("{ clientCertificateData: 'SECRET-CERT' }"), 'printed an ExecCredential with a client certificate but no key. Check the plugin.'],
    ['a time that is not one', prints("{ token: 'SECRET-TOKEN', expirationTimestamp: 'tomorrow' }"),
      'printed an ExecCredential whose expirationTimestamp is not an RFC 3339 time. Check the plugin.'],
  ])('output with %s is refused without showing it', async (_, body, reason) => {
    const command = plugin(body);
    const message = await rejection(execCredentials({ command }).get());
    expect(message).toBe(`Unable to get the credentials of user 'admin' (context 'prod') for cluster ${SERVER}: the exec plugin '${command}' ${reason}`);
    expect(message).not.toMatch(/SECRET/);
  });

  test('a failure is not cached: the next request runs the plugin again', async () => {
    const command = plugin(`if (runs === 1) process.exit(1); ${prints("{ token: 'ok' }")}`);
    const creds = execCredentials({ command });
    await expect(creds.get()).rejects.toThrow(KubeCredentialError);
    expect((await creds.get()).token).toBe('ok');
    expect(runsOf(command)).toBe(2);
  });
});

describe('a token file', () => {
  test('is read when first needed, again after a minute and at once after a 401', async () => {
    const file = path.join(dir, 'rotated-token');
    fs.writeFileSync(file, 'one\n');
    const creds = new TokenFileCredentials(file, OWNER);
    const first = await creds.get();
    expect(first.token).toBe('one');
    fs.writeFileSync(file, 'two');
    expect((await creds.get()).token).toBe('one');
    const now = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(now + TOKEN_FILE_REREAD_MS + 1);
    const second = await creds.get();
    expect(second.token).toBe('two');
    fs.writeFileSync(file, 'three');
    expect((await creds.refresh(second))?.token).toBe('three');
  });

  test('one that cannot be read after a first read keeps its last token, and is read again at the next request', async () => {
    const file = path.join(dir, 'flaky-token');
    fs.writeFileSync(file, 'one');
    const creds = new TokenFileCredentials(file, OWNER);
    expect((await creds.get()).token).toBe('one');
    jest.spyOn(Date, 'now').mockReturnValue(Date.now() + TOKEN_FILE_REREAD_MS + 1);
    fs.rmSync(file);
    expect((await creds.get()).token).toBe('one');
    fs.writeFileSync(file, '\n');
    expect((await creds.get()).token).toBe('one');
    fs.writeFileSync(file, 'two');
    expect((await creds.get()).token).toBe('two');
  });

  test('one removed after the parse fails the request naming the user, the context and the cluster', async () => {
    const file = path.join(dir, 'gone-token');
    fs.writeFileSync(file, 'secret-token');
    const client = KubeClient.fromKubeconfigYaml(kubeconfig({ tokenFile: file }));
    fs.rmSync(file);
    try {
      expect(await rejection(client.request('GET', '/api'))).toBe(`Unable to get the credentials of user 'admin' (context 'prod') for cluster ${SERVER}: ` +
        `the tokenFile ${file} cannot be read (ENOENT). Give the path of a file holding a bearer token, readable by this process.`);
    } finally {
      client.close();
    }
  });
});

describe('a credential that cannot be obtained is a configuration problem, not an unreachable cluster', () => {
  const missing = { exec: { apiVersion: V1, command: 'inferkit-no-such-plugin', interactiveMode: 'Never', installHint: 'brew install inferkit-no-such-plugin' } };

  test('configurationProblem names the user and the context and keeps the hint', () => {
    expect(configurationProblem(new KubeCredentialError(OWNER, "the exec plugin 'aws' exited with code 1. Fix it."))).toBe(
      "the credentials of user 'admin' (context 'prod') could not be obtained: the exec plugin 'aws' exited with code 1. Fix it");
    expect(configurationProblem(new ProxyConnectError('the proxy http://proxy:3128 answered CONNECT a:443 with 407 Proxy Authentication Required', 407)))
      .toBe('the proxy http://proxy:3128 answered CONNECT a:443 with 407 Proxy Authentication Required');
    expect(configurationProblem(new ProxyConnectError('the proxy http://proxy:3128 answered CONNECT a:443 with 502 Bad Gateway', 502))).toBeUndefined();
  });

  test('reading a live cluster stops with the plugin\'s reason instead of calling the cluster unreachable', async () => {
    await expect(readLiveCluster({ name: 'east', kubeconfig: kubeconfig(missing) })).rejects.toThrow(
      `Unable to read cluster 'east' at ${SERVER}: the credentials of user 'admin' (context 'prod') could not be obtained: ` +
      "the exec plugin 'inferkit-no-such-plugin' was not found on PATH. brew install inferkit-no-such-plugin. Nothing was placed.");
  });

  test('the Placement\'s check (preview) takes an exec kubeconfig without running the plugin', async () => {
    const command = plugin(prints("{ token: 't' }"));
    const demand = { name: 'ml/qwen', replicas: 1, engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu' }] }] }] };
    const user = { exec: { apiVersion: V1, command, interactiveMode: 'Never' } };
    const checked = await placementProvider.check!({}, { demand, clusters: [{ name: 'east', kubeconfig: kubeconfig(user) }] });
    expect(checked.failures).toEqual([]);
    expect(runsOf(command)).toBe(0);
    const v1alpha1 = { exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command } };
    const refused = await placementProvider.check!({}, { demand, clusters: [{ name: 'east', kubeconfig: kubeconfig(v1alpha1) }] });
    expect(refused.failures).toEqual([expect.objectContaining({ reason: expect.stringContaining('has an exec plugin of client.authentication.k8s.io/v1alpha1, which Kubernetes removed in 1.24') })]);
  });
});

describe('a client certificate printed by a plugin', () => {
  // Not an API server: a TLS server that asks for a client certificate and answers with the name in the one it got.
  let server: https.Server;
  let port: number;
  let ca: string;
  const certs: Record<string, { cert: string; key: string }> = {};

  beforeAll(async () => {
    const pki = fs.mkdtempSync(path.join(dir, 'pki-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: pki, stdio: 'pipe' });
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca', '-keyout', 'ca.key', '-out', 'ca.crt');
    fs.writeFileSync(path.join(pki, 'san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    for (const name of ['server', 'alice', 'bob']) {
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1',
        ...(name === 'server' ? ['-extfile', 'san.cnf'] : []), '-out', `${name}.crt`);
      certs[name] = { cert: fs.readFileSync(path.join(pki, `${name}.crt`), 'utf8'), key: fs.readFileSync(path.join(pki, `${name}.key`), 'utf8') };
    }
    ca = fs.readFileSync(path.join(pki, 'ca.crt'), 'utf8');
    server = https.createServer({ ...certs.server, ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ cn: (req.socket as import('tls').TLSSocket).getPeerCertificate().subject.CN }));
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise(r => server.close(r));
  });

  test('is presented on the connection, and a new one replaces it once the first expires', async () => {
    const pems = path.join(dir, 'pems.json');
    fs.writeFileSync(pems, JSON.stringify([certs.alice, certs.bob]));
    const command = plugin(`const pem = JSON.parse(fs.readFileSync(${JSON.stringify(pems)}, 'utf8'))[runs - 1]; ` +
      prints('{ clientCertificateData: pem.cert, clientKeyData: pem.key, expirationTimestamp: new Date(Date.now() + 1000).toISOString() }'));
    const user = { exec: { apiVersion: V1, command, interactiveMode: 'Never' } };
    const client = KubeClient.fromKubeconfigYaml(kubeconfig(user, { 'server': `https://127.0.0.1:${port}`, 'certificate-authority-data': Buffer.from(ca).toString('base64') }));
    try {
      expect((await client.request('GET', '/whoami')).body).toEqual({ cn: 'alice' });
      await new Promise(r => setTimeout(r, 1_100));
      expect((await client.request('GET', '/whoami')).body).toEqual({ cn: 'bob' });
      expect(runsOf(command)).toBe(2);
    } finally {
      client.close();
    }
  });
});

describe('a proxy-url that refuses the tunnel', () => {
  test('a 407 names the proxy without its password and says how to give credentials', async () => {
    const seen: string[] = [];
    const proxy = http.createServer();
    proxy.on('connect', (req: http.IncomingMessage, socket: net.Socket) => {
      seen.push(`${req.url} ${req.headers['proxy-authorization']}`);
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
    });
    await new Promise<void>(r => proxy.listen(0, '127.0.0.1', r));
    const proxyPort = (proxy.address() as net.AddressInfo).port;
    const client = KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, { 'server': SERVER, 'proxy-url': `http://me:wrong-secret@127.0.0.1:${proxyPort}` }));
    try {
      const message = await rejection(client.request('GET', '/api'));
      expect(message).toBe(`the proxy http://***@127.0.0.1:${proxyPort} answered CONNECT 127.0.0.1:6443 with 407 Proxy Authentication Required. ` +
        "Give the proxy's credentials in proxy-url (http://user:password@host:port)");
      expect(seen).toEqual([`127.0.0.1:6443 Basic ${Buffer.from('me:wrong-secret').toString('base64')}`]);
    } finally {
      client.close();
      await new Promise(r => proxy.close(r));
    }
  });

  test('a proxy that is not there fails like an unreachable cluster, without the password', async () => {
    const client = KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, { 'server': SERVER, 'proxy-url': 'http://me:secret@127.0.0.1:1' }));
    try {
      const message = await rejection(client.request('GET', '/api'));
      expect(message).toBe('the proxy http://***@127.0.0.1:1 could not be reached for CONNECT 127.0.0.1:6443 (ECONNREFUSED)');
      expect(configurationProblem(await client.request('GET', '/api').catch(e => e))).toBeUndefined();
    } finally {
      client.close();
    }
  });
});

/** Runs `act` with the environment's proxy variables set as given (and the others unset), then restores them. */
function withProxyEnv<T>(vars: Record<string, string>, act: () => T): T {
  const names = ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'HTTP_PROXY', 'http_proxy'];
  const saved = names.map(n => [n, process.env[n]] as const);
  for (const n of names) delete process.env[n];
  Object.assign(process.env, vars);
  try {
    return act();
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
}

describe('the proxy of the environment, chosen as client-go chooses it', () => {
  // Each row was checked against Go 1.26.8's http.ProxyFromEnvironment, the function client-go (kubectl, the Pulumi
  // Kubernetes provider) uses when a cluster has no proxy-url.
  test.each<[string, Record<string, string>, string]>([
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128' }, 'http://proxy:3128/'],
    ['https://api.example.com:6443', { https_proxy: 'http://lower:3128' }, 'http://lower:3128/'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128' }, 'http://upper:3128/'],
    ['https://api.example.com:6443', { HTTP_PROXY: 'http://plain:3128' }, 'direct'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'proxy.corp:3128' }, 'http://proxy.corp:3128/'],
    ['https://api.example.com:6443', { HTTPS_PROXY: '10.1.2.3:3128' }, 'http://10.1.2.3:3128/'],
    ['https://127.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128' }, 'direct'],
    ['https://127.5.5.5:6443', { HTTPS_PROXY: 'http://proxy:3128' }, 'direct'],
    ['https://localhost:6443', { HTTPS_PROXY: 'http://proxy:3128' }, 'direct'],
    ['https://[::1]:6443', { HTTPS_PROXY: 'http://proxy:3128' }, 'direct'],
    ['https://[::ffff:127.0.0.1]:6443', { HTTPS_PROXY: 'http://proxy:3128' }, 'direct'],
    ['https://localhost.localdomain:6443', { HTTPS_PROXY: 'http://proxy:3128' }, 'http://proxy:3128/'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com' }, 'direct'],
    ['https://example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com' }, 'direct'],
    ['https://notexample.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com' }, 'http://proxy:3128/'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.example.com' }, 'direct'],
    ['https://example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.example.com' }, 'http://proxy:3128/'],
    ['https://example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*.example.com' }, 'http://proxy:3128/'],
    ['https://a.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*.example.com' }, 'direct'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com:6443' }, 'direct'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com:443' }, 'http://proxy:3128/'],
    ['https://api.example.com', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'example.com:443' }, 'direct'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: ' other.org , EXAMPLE.COM ' }, 'direct'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'other.org', no_proxy: 'example.com' }, 'http://proxy:3128/'],
    ['https://api.example.com:6443', { HTTPS_PROXY: 'http://proxy:3128', no_proxy: 'example.com' }, 'direct'],
    ['https://10.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '*' }, 'direct'],
    ['https://10.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '10.0.0.0/8' }, 'direct'],
    ['https://11.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '10.0.0.0/8' }, 'http://proxy:3128/'],
    ['https://10.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '10.0.0.1:6443' }, 'direct'],
    ['https://10.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '10.0.0.1:443' }, 'http://proxy:3128/'],
    ['https://10.0.0.1:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '0.0.1' }, 'http://proxy:3128/'],
    ['https://[fd00::1]:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'fd00::/8' }, 'direct'],
    ['https://[fd00::1]:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '[fd00::1]:6443' }, 'direct'],
    ['https://[fd00::1]:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '[fd00::1]' }, 'http://proxy:3128/'],
    ['https://kubernetes.default.svc:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.svc' }, 'direct'],
    ['https://xn--bcher-kva.example:6443', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'bücher.example' }, 'direct'],
  ])('%s with %j: %s', (server, env, expected) => {
    expect(proxyFromEnvironment(server, env)?.url.href ?? 'direct').toBe(expected);
  });

  test('the variable the proxy came from is named; a proxy with credentials keeps them for Proxy-Authorization', () => {
    expect(proxyFromEnvironment('https://api.example.com', { https_proxy: 'user:secret@proxy:3128' })).toEqual({
      url: new URL('http://user:secret@proxy:3128'), variable: 'https_proxy',
    });
  });

  test('a SOCKS proxy in HTTPS_PROXY is refused without its password, with the fixes; NO_PROXY still exempts a server from it', () => {
    const env = { HTTPS_PROXY: 'socks5://me:secret@proxy:1080' };
    const refusal = 'Unable to reach cluster https://api.example.com:6443 through HTTPS_PROXY socks5://***@proxy:1080: it is a SOCKS proxy, which is not supported. ' +
      "Give an http:// or https:// proxy (one that tunnels by HTTP CONNECT) in HTTPS_PROXY or in the cluster's proxy-url, or add api.example.com to NO_PROXY.";
    expect(() => proxyFromEnvironment('https://api.example.com:6443', env)).toThrow(refusal);
    expect(() => withProxyEnv(env, () => KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, { server: 'https://api.example.com:6443' })))).toThrow(refusal);
    expect(proxyFromEnvironment('https://api.example.com:6443', { ...env, NO_PROXY: 'example.com' })).toBeUndefined();
    expect(proxyFromEnvironment('https://127.0.0.1:6443', env)).toBeUndefined();
  });

  describe('through a local CONNECT proxy', () => {
    // A TLS server whose certificate is for api.inferkit.test, which no resolver knows: the proxy reaches it (it
    // takes every host for 127.0.0.1), a client going direct cannot.
    const HOST = 'api.inferkit.test';
    let server: https.Server;
    let port: number;
    let ca: string;
    let proxy: http.Server;
    let proxyPort: number;
    const seen: string[] = [];
    let answer: string | undefined;
    const sockets = new Set<{ destroy(): void }>();

    beforeAll(async () => {
      const pki = fs.mkdtempSync(path.join(dir, 'env-proxy-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${HOST}`,
        '-addext', `subjectAltName=DNS:${HOST},IP:127.0.0.1`, '-keyout', 'key.pem', '-out', 'cert.pem'], { cwd: pki, stdio: 'pipe' });
      ca = fs.readFileSync(path.join(pki, 'cert.pem'), 'utf8');
      server = https.createServer({ cert: ca, key: fs.readFileSync(path.join(pki, 'key.pem')) }, (req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ host: req.headers.host }));
      });
      server.on('connection', s => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
      await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
      port = (server.address() as net.AddressInfo).port;
      proxy = http.createServer();
      proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
        seen.push(`${req.url} ${req.headers['proxy-authorization'] ?? '-'}`);
        if (answer) {
          client.end(answer);
          return;
        }
        const upstream = net.connect(Number(req.url!.split(':').pop()), '127.0.0.1', () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.pipe(client);
          client.pipe(upstream);
        });
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => { client.destroy(); upstream.destroy(); });
          s.on('close', () => sockets.delete(s));
        }
      });
      await new Promise<void>(r => proxy.listen(0, '127.0.0.1', r));
      proxyPort = (proxy.address() as net.AddressInfo).port;
    });
    beforeEach(() => {
      seen.length = 0;
      answer = undefined;
    });
    afterAll(async () => {
      sockets.forEach(s => s.destroy());
      await Promise.all([new Promise(r => server.close(r)), new Promise(r => proxy.close(r))]);
    });

    const cluster = (host = HOST) => ({ 'server': `https://${host}:${port}`, 'certificate-authority-data': Buffer.from(ca).toString('base64') });
    const proxyEnv = () => ({ HTTPS_PROXY: `http://me:proxy-secret@127.0.0.1:${proxyPort}` });
    const basic = `Basic ${Buffer.from('me:proxy-secret').toString('base64')}`;

    async function get(client: KubeClient): Promise<string> {
      try {
        return JSON.stringify((await client.request('GET', '/version')).body);
      } catch (e) {
        return (e as Error).message;
      } finally {
        client.close();
      }
    }

    test('a cluster without proxy-url is reached through HTTPS_PROXY, with its credentials, by CONNECT to the server\'s name', async () => {
      const client = withProxyEnv(proxyEnv(), () => KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, cluster())));
      expect(await get(client)).toBe(JSON.stringify({ host: `${HOST}:${port}` }));
      expect(seen).toEqual([`${HOST}:${port} ${basic}`]);
    });

    test('a server NO_PROXY names is reached directly, and 127.0.0.1 is never proxied', async () => {
      const excluded = withProxyEnv({ ...proxyEnv(), NO_PROXY: 'localhost,.inferkit.test' }, () => KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, cluster())));
      expect(await get(excluded)).toMatch(`getaddrinfo ENOTFOUND ${HOST}`);
      const loopback = withProxyEnv(proxyEnv(), () => KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, cluster('127.0.0.1'))));
      expect(await get(loopback)).toBe(JSON.stringify({ host: `127.0.0.1:${port}` }));
      expect(seen).toEqual([]);
    });

    test('the cluster\'s proxy-url wins over HTTPS_PROXY', async () => {
      const client = withProxyEnv({ HTTPS_PROXY: 'http://me:other-secret@127.0.0.1:1' },
        () => KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, { ...cluster(), 'proxy-url': `http://127.0.0.1:${proxyPort}` })));
      expect(await get(client)).toBe(JSON.stringify({ host: `${HOST}:${port}` }));
      expect(seen).toEqual([`${HOST}:${port} -`]);
    });

    test('a refusal names HTTPS_PROXY without the password, and says how to reach the server without the proxy', async () => {
      answer = 'HTTP/1.1 403 Forbidden\r\n\r\n';
      const client = withProxyEnv(proxyEnv(), () => KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, cluster())));
      const message = await get(client);
      expect(message).toBe(`the proxy http://***@127.0.0.1:${proxyPort} (HTTPS_PROXY) answered CONNECT ${HOST}:${port} with 403 Forbidden. ` +
        `If ${HOST} is reached without a proxy, add it to NO_PROXY`);
      expect(message).not.toContain('proxy-secret');
    });

    test('a 407 says to give the credentials in the variable, and is a configuration problem', async () => {
      answer = 'HTTP/1.1 407 Proxy Authentication Required\r\n\r\n';
      const client = withProxyEnv({ https_proxy: `http://me:wrong-secret@127.0.0.1:${proxyPort}` },
        () => KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, cluster())));
      const error = await client.request('GET', '/version').then(() => undefined, (e: Error) => e);
      client.close();
      const message = `the proxy http://***@127.0.0.1:${proxyPort} (https_proxy) answered CONNECT ${HOST}:${port} with 407 Proxy Authentication Required. ` +
        "Give the proxy's credentials in https_proxy (http://user:password@host:port)";
      expect(error?.message).toBe(message);
      expect(configurationProblem(error)).toBe(message);
    });

    test('a proxy that is not there is named with its variable, like an unreachable cluster', async () => {
      const client = withProxyEnv({ HTTPS_PROXY: 'http://me:secret@127.0.0.1:1' }, () => KubeClient.fromKubeconfigYaml(kubeconfig({ token: 't' }, cluster())));
      const error = await client.request('GET', '/version').then(() => undefined, (e: Error) => e);
      client.close();
      expect(error?.message).toBe(`the proxy http://***@127.0.0.1:1 (HTTPS_PROXY) could not be reached for CONNECT ${HOST}:${port} (ECONNREFUSED). ` +
        `If ${HOST} is reached without a proxy, add it to NO_PROXY`);
      expect(configurationProblem(error)).toBeUndefined();
    });
  });
});
