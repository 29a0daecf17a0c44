// Kubeconfig users that are not a token written in the file, against the real API server (it authenticates the
// harness's static token): an exec credential plugin (a shell script that prints an ExecCredential with that token and
// counts its runs) driving the Placement provider and the ModelDeployment component through `pulumi up`, where the
// Pulumi Kubernetes provider runs the same plugin itself; a plugin that is not installed; a refused token refreshed on
// 401; a tokenFile; proxy-url through local CONNECT proxies; HTTPS_PROXY and NO_PROXY taken as client-go
// takes them. No token may show in any output, message or state file.
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { ModelDeployment, Placement } from '../../providers';
import { KubeClient } from '../../providers/_kube';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube, KubeObject } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

const NAMESPACE = 'kube-auth';
const V1 = 'client.authentication.k8s.io/v1';

let kubeconfigFile: string;
let token: string;
let kube: Kube;
let dir: string;

beforeAll(async () => {
  kubeconfigFile = process.env[KUBECONFIG_ENV]!;
  token = /token: (\S+)/.exec(fs.readFileSync(kubeconfigFile, 'utf8'))![1];
  kube = Kube.fromKubeconfig(kubeconfigFile);
  await kube.apply(restrictedNamespace(NAMESPACE));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-kube-auth-'));
  fs.writeFileSync(path.join(dir, 'token'), token);
});

afterAll(async () => {
  await kube.delete('v1', 'Namespace', undefined, NAMESPACE);
  kube.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The suite's kubeconfig with its user replaced by `user`, and `cluster` merged into its cluster. */
function kubeconfigWith(user: object, cluster: object = {}): string {
  const cfg = parse(fs.readFileSync(kubeconfigFile, 'utf8'));
  cfg.users[0].user = user;
  cfg.clusters[0].cluster = { ...cfg.clusters[0].cluster, ...cluster };
  return stringify(cfg);
}

let plugins = 0;
/**
 * An exec plugin: a shell script that appends its parent's pid (the process that ran it) to `<script>.runs`, then
 * prints an ExecCredential whose token is the suite's (or `first` on its first run) and expires in `seconds`.
 */
function plugin(seconds: number, first?: string): string {
  const file = path.join(dir, `plugin-${++plugins}.sh`);
  fs.writeFileSync(file, [
    '#!/bin/sh',
    'echo "$PPID" >> "$0.runs"',
    `token=$(cat ${path.join(dir, 'token')})`,
    ...(first ? [`[ "$(wc -l < "$0.runs")" -eq 1 ] && token=${first}`] : []),
    `expiry=$(date -u -d "@$(( $(date +%s) + ${seconds} ))" +%Y-%m-%dT%H:%M:%SZ)`,
    `printf '{"apiVersion":"${V1}","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$token" "$expiry"`,
    '',
  ].join('\n'), { mode: 0o755 });
  return file;
}
/** The pid of the process that ran the plugin, run by run. */
const runsOf = (file: string) => fs.existsSync(`${file}.runs`) ? fs.readFileSync(`${file}.runs`, 'utf8').trim().split('\n') : [];

const execUser = (command: string, extra: object = {}) => ({ exec: { apiVersion: V1, command, interactiveMode: 'Never', ...extra } });

/** Every file under a stack's folder as text (the file backend's state, the workspace, PULUMI_HOME), links not followed. */
function stackFiles(s: PulumiStack): string {
  return fs.readdirSync(s.dir, { recursive: true, withFileTypes: true })
    .filter(f => f.isFile() && fs.statSync(path.join(f.parentPath, f.name)).size < 16 * 1024 * 1024)
    .map(f => fs.readFileSync(path.join(f.parentPath, f.name), 'utf8')).join('\n');
}

/** A Placement program of one replica of one GPU on the suite's cluster, read live through `kubeconfig`. */
const placement = (name: string, kubeconfig: string) => async () => {
  const p = new Placement(name, {
    demand: { name: `${NAMESPACE}/${name}`, replicas: 1, engines: [{ name: 'e', members: [{ deviceRequests: [{ name: 'gpu' }] }] }] },
    clusters: [{ name: 'central', kubeconfig }],
  });
  return { assignments: p.assignments };
};

describe('the Kubernetes client against the real API server', () => {
  test('an exec plugin\'s credential is used until it expires, then the plugin runs again', async () => {
    const command = plugin(3);
    const client = KubeClient.fromKubeconfigYaml(kubeconfigWith(execUser(command)));
    try {
      expect((await client.list('v1', 'Namespace')).map(n => n.metadata.name)).toContain(NAMESPACE);
      await client.list('v1', 'Node');
      expect(runsOf(command)).toHaveLength(1);
      await new Promise(r => setTimeout(r, 3_500));
      await client.list('v1', 'Node');
      expect(runsOf(command)).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  test('a plugin whose first token is refused (401, not expired) runs once more and the request succeeds', async () => {
    const command = plugin(3600, 'revoked-token');
    const client = KubeClient.fromKubeconfigYaml(kubeconfigWith(execUser(command)));
    try {
      expect(await client.get('v1', 'Namespace', undefined, NAMESPACE)).toMatchObject({ metadata: { name: NAMESPACE } });
      expect(runsOf(command)).toHaveLength(2);
      // The refreshed credential is kept: no more runs.
      await client.list('v1', 'Node');
      expect(runsOf(command)).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  test('a second 401 is the answer: the plugin runs once more, not again and again', async () => {
    fs.writeFileSync(path.join(dir, 'wrong-token'), 'still-wrong');
    const command = plugin(3600);
    fs.writeFileSync(command, fs.readFileSync(command, 'utf8').replace(path.join(dir, 'token'), path.join(dir, 'wrong-token')));
    const client = KubeClient.fromKubeconfigYaml(kubeconfigWith(execUser(command)));
    try {
      expect((await client.request('GET', '/api/v1/namespaces')).status).toBe(401);
      expect(runsOf(command)).toHaveLength(2);
    } finally {
      client.close();
    }
  });

  test('a tokenFile is read again after a 401: a token written into it meanwhile is used at once', async () => {
    const file = path.join(dir, 'rotated-token');
    fs.writeFileSync(file, 'old-token\n');
    const client = KubeClient.fromKubeconfigYaml(kubeconfigWith({ tokenFile: file }));
    try {
      expect((await client.request('GET', '/api/v1/namespaces')).status).toBe(401);
      fs.writeFileSync(file, `${token}\n`);
      expect((await client.request('GET', '/api/v1/namespaces')).status).toBe(200);
    } finally {
      client.close();
    }
  });

  describe('proxy-url', () => {
    /**
     * A CONNECT proxy (http, or https with `tlsFiles`) to 127.0.0.1 only, which it also reaches by the names of
     * `aliases`; it records each CONNECT and its credentials.
     */
    async function connectProxy(
      tlsFiles?: { cert: string; key: string }, aliases: readonly string[] = [],
    ): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
      const seen: string[] = [];
      const sockets = new Set<net.Socket>();
      const server = tlsFiles
        ? https.createServer({ cert: fs.readFileSync(tlsFiles.cert), key: fs.readFileSync(tlsFiles.key) })
        : http.createServer();
      server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
        seen.push(`${req.url} ${req.headers['proxy-authorization'] ?? '-'}`);
        const [host, port] = req.url!.split(':');
        if (host !== '127.0.0.1' && !aliases.includes(host)) {
          client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
          return;
        }
        const upstream = net.connect(Number(port), '127.0.0.1', () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => { client.destroy(); upstream.destroy(); });
          s.on('close', () => sockets.delete(s));
        }
      });
      await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
      const url = `${tlsFiles ? 'https' : 'http'}://proxy-user:proxy-secret@127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      return {
        url,
        seen,
        close: async () => {
          sockets.forEach(s => s.destroy());
          await new Promise(r => server.close(r));
        },
      };
    }
    const basic = `Basic ${Buffer.from('proxy-user:proxy-secret').toString('base64')}`;
    const apiHostPort = () => new URL(parse(fs.readFileSync(kubeconfigFile, 'utf8')).clusters[0].cluster.server).host;

    test('an http:// proxy tunnels the requests by CONNECT, with its credentials', async () => {
      const proxy = await connectProxy();
      const client = KubeClient.fromKubeconfigYaml(kubeconfigWith({ token }, { 'proxy-url': proxy.url }));
      try {
        expect((await client.list('v1', 'Namespace')).map(n => n.metadata.name)).toContain(NAMESPACE);
        await client.list('v1', 'Node');
        // One tunnel, kept alive for the next request.
        expect(proxy.seen).toEqual([`${apiHostPort()} ${basic}`]);
      } finally {
        client.close();
        await proxy.close();
      }
    });

    test('an https:// proxy is verified with the kubeconfig\'s CA, and an exec plugin\'s token goes through it', async () => {
      // The API server's own serving certificate (127.0.0.1, signed by the cluster's CA) serves the proxy too.
      const clusterDir = path.dirname(kubeconfigFile);
      const proxy = await connectProxy({ cert: path.join(clusterDir, 'apiserver.crt'), key: path.join(clusterDir, 'apiserver.key') });
      const command = plugin(3600);
      const client = KubeClient.fromKubeconfigYaml(kubeconfigWith(execUser(command), { 'proxy-url': proxy.url }));
      try {
        expect(await client.get('v1', 'Namespace', undefined, NAMESPACE)).toMatchObject({ metadata: { name: NAMESPACE } });
        expect(proxy.seen).toEqual([`${apiHostPort()} ${basic}`]);
      } finally {
        client.close();
        await proxy.close();
      }
    });

    describe('HTTPS_PROXY and NO_PROXY, when the cluster has no proxy-url, as client-go takes them', () => {
      // The API server's certificate covers kubernetes.default.svc, which no resolver here knows: only the proxy, which
      // takes the name for 127.0.0.1, reaches the server by it. client-go's rules (which the Pulumi Kubernetes provider
      // and kubectl follow) are pinned case by case against Go's http.ProxyFromEnvironment in the unit tests.
      const NAME = 'kubernetes.default.svc';

      /** The kubeconfig of the suite's cluster with `server` as the server, written to a file; returns its path. */
      function serverKubeconfig(server: string): string {
        const file = path.join(dir, `kubeconfig-${server.replace(/\W+/g, '-')}`);
        fs.writeFileSync(file, kubeconfigWith({ token }, { server }));
        return file;
      }

      /** A client made with `env` as the proxy environment (HTTPS_PROXY and NO_PROXY, the others unset). */
      function clientWith(env: Record<string, string>, file: string): KubeClient {
        const names = ['HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy'];
        const saved = names.map(n => [n, process.env[n]] as const);
        for (const n of names) delete process.env[n];
        Object.assign(process.env, env);
        try {
          return KubeClient.fromKubeconfigYaml(fs.readFileSync(file, 'utf8'));
        } finally {
          for (const [n, v] of saved) {
            if (v === undefined) delete process.env[n];
            else process.env[n] = v;
          }
        }
      }

      /** Our client's answer to reading the suite's namespace: its name, or the error. */
      async function readNamespace(env: Record<string, string>, file: string): Promise<string> {
        const client = clientWith(env, file);
        try {
          return await client.get('v1', 'Namespace', undefined, NAMESPACE).then(ns => ns?.metadata.name, (e: Error) => e.message);
        } finally {
          client.close();
        }
      }

      test('a server by name goes through HTTPS_PROXY, with its credentials', async () => {
        const proxy = await connectProxy(undefined, [NAME]);
        try {
          const file = serverKubeconfig(`https://${NAME}:${apiHostPort().split(':')[1]}`);
          expect(await readNamespace({ HTTPS_PROXY: proxy.url }, file)).toBe(NAMESPACE);
          expect(proxy.seen.length).toBeGreaterThanOrEqual(1);
          expect(new Set(proxy.seen)).toEqual(new Set([`${NAME}:${apiHostPort().split(':')[1]} ${basic}`]));
        } finally {
          await proxy.close();
        }
      });

      test('a server NO_PROXY names, and 127.0.0.1, are reached directly', async () => {
        const proxy = await connectProxy(undefined, [NAME]);
        try {
          const byName = serverKubeconfig(`https://${NAME}:${apiHostPort().split(':')[1]}`);
          // Direct, the name does not resolve: the lookup fails, the proxy is not asked.
          expect(await readNamespace({ HTTPS_PROXY: proxy.url, NO_PROXY: 'localhost,.svc' }, byName)).toBe(`getaddrinfo ENOTFOUND ${NAME}`);
          const loopback = await readNamespace({ HTTPS_PROXY: proxy.url }, serverKubeconfig(`https://${apiHostPort()}`));
          expect(loopback).toBe(NAMESPACE);
          expect(proxy.seen).toEqual([]);
        } finally {
          await proxy.close();
        }
      });
    });

    test('a proxy that refuses the target fails naming the proxy without its password', async () => {
      const proxy = await connectProxy();
      const client = KubeClient.fromKubeconfigYaml(kubeconfigWith({ token }, { 'server': 'https://localhost:1', 'proxy-url': proxy.url }));
      try {
        const message = await client.list('v1', 'Node').then(() => 'listed', (e: Error) => e.message);
        expect(message).toBe(`the proxy ${proxy.url.replace('proxy-user:proxy-secret@', '***@')} answered CONNECT localhost:1 with 403 Forbidden`);
      } finally {
        client.close();
        await proxy.close();
      }
    });
  });
});

describe('exec plugins and token files through pulumi up', () => {
  test('a ModelDeployment whose cluster user is an exec plugin places, applies and rolls out; no token in any output or state', async () => {
    const command = plugin(3);
    const kubeconfig = kubeconfigWith(execUser(command));
    const program = async () => {
      const md = new ModelDeployment('execd', {
        namespace: NAMESPACE,
        replicas: 1,
        engines: [{
          name: 'e',
          members: [{ deviceRequests: [{ name: 'gpu' }], template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0' }] } } }],
        }],
        clusters: [{ name: 'central', kubeconfig }],
      });
      return { replicas: md.replicas };
    };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'kube-auth-exec', program });
    let output = '';
    const onOutput = (text: string) => { output += text; };
    try {
      await s.stack.preview({ onOutput });
      const up = await s.stack.up({ onOutput });
      expect(up.summary.result).toBe('succeeded');
      expect(up.outputs.replicas.value).toEqual([expect.objectContaining({ index: 0, cluster: 'central', state: 'Placed' })]);
      const pods = await kube.list('v1', 'Pod', NAMESPACE, 'modelplane.ai/replica=execd-0');
      expect(pods.some(p => p.status?.conditions?.some((c: KubeObject) => c.type === 'Ready' && c.status === 'True'))).toBe(true);

      // The Placement, Rollout and status providers and the Kubernetes provider all ran the plugin; at least one
      // process ran it again when its 3 s credential expired.
      const runs = runsOf(command);
      expect(runs.length).toBeGreaterThan(1);
      expect(Math.max(...[...new Set(runs)].map(pid => runs.filter(r => r === pid).length))).toBeGreaterThan(1);

      const destroy = await s.stack.destroy({ onOutput });
      expect(destroy.summary.result).toBe('succeeded');
      const exported = JSON.stringify(await s.stack.exportStack());
      for (const text of [output, exported, stackFiles(s)]) expect(text).not.toContain(token);
    } finally {
      s.dispose();
    }
  });

  test('a Placement reads its cluster through a tokenFile', async () => {
    const kubeconfig = kubeconfigWith({ tokenFile: path.join(dir, 'token') });
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'kube-auth-token-file', program: placement('filed', kubeconfig) });
    let output = '';
    try {
      const up = await s.stack.up({ onOutput: text => { output += text; } });
      expect(up.outputs.assignments.value).toEqual([expect.objectContaining({ replica: 0, cluster: 'central', state: 'Placed' })]);
      await s.stack.destroy();
      expect(output).not.toContain(token);
      expect(stackFiles(s)).not.toContain(token);
    } finally {
      s.dispose();
    }
  });

  test('a plugin that is not installed: preview passes without running it, up fails with its installHint, the user and the context', async () => {
    const kubeconfig = kubeconfigWith(execUser('inferkit-test-no-such-plugin', { installHint: 'Install it with: brew install inferkit-test-no-such-plugin' }));
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'kube-auth-missing', program: placement('missing', kubeconfig) });
    try {
      const preview = await s.stack.preview();
      expect(preview.changeSummary).toMatchObject({ create: 2 });
      const failure = await s.stack.up().then(() => 'succeeded', (e: Error) => String(e));
      expect(failure).toContain("Unable to read cluster 'central' at https://127.0.0.1:");
      expect(failure).toContain("the credentials of user 'inferkit-admin' (context 'inferkit-test') could not be obtained: " +
        "the exec plugin 'inferkit-test-no-such-plugin' was not found on PATH. Install it with: brew install inferkit-test-no-such-plugin. Nothing was placed.");
      await s.stack.destroy();
    } finally {
      s.dispose();
    }
  });
});
