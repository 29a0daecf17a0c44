// The Kubernetes client against hostile or misconfigured servers: a fake API server over TLS (a certificate made with
// openssl for 127.0.0.1), whose handler each test sets.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { configurationProblem, KubeClient, KubeError, parseKubeconfig } from '../../providers/_kube';
import { readLiveCluster } from '../../providers/inventory';
import { placementProvider } from '../../providers/placement';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let dir: string;
let cert: string;
let server: https.Server;
let port: number;
let handler: Handler;
const sockets = new Set<{ destroy(): void; on(event: string, f: () => void): unknown }>();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-client-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', 'key.pem', '-out', 'cert.pem'], { cwd: dir, stdio: 'pipe' });
  cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
  server = https.createServer({ cert, key: fs.readFileSync(path.join(dir, 'key.pem')) }, (req, res) => handler(req, res));
  server.on('connection', s => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(async () => {
  sockets.forEach(s => s.destroy());
  await new Promise(r => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig for the fake server, trusting its certificate unless `cluster` says otherwise. */
function kubeconfig(cluster?: string, token = 'good'): string {
  const ca = Buffer.from(cert).toString('base64');
  return [
    'apiVersion: v1', 'kind: Config', 'current-context: c',
    `clusters: [{name: c, cluster: ${cluster ?? `{server: 'https://127.0.0.1:${port}', certificate-authority-data: ${ca}}`}}]`,
    `users: [{name: u, user: {token: ${token}}}]`, 'contexts: [{name: c, context: {cluster: c, user: u}}]',
  ].join('\n');
}

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** Discovery of the core group and apps/v1, and the fleet lists as empty, unless `lists` answers. */
function apiServer(lists: (url: URL, req: http.IncomingMessage) => unknown | undefined = () => undefined): Handler {
  return (req, res) => {
    const url = new URL(req.url!, 'https://x');
    if (req.headers.authorization !== 'Bearer good') return json(res, 401, { kind: 'Status', message: 'Unauthorized', code: 401 });
    if (url.pathname === '/api/v1') return json(res, 200, { resources: [{ name: 'nodes', kind: 'Node', namespaced: false }, { name: 'pods', kind: 'Pod', namespaced: true }] });
    if (url.pathname === '/apis/apps/v1') {
      return json(res, 200, { resources: [{ name: 'deployments', kind: 'Deployment', namespaced: true }, { name: 'statefulsets', kind: 'StatefulSet', namespaced: true }] });
    }
    if (url.pathname.startsWith('/apis/resource.k8s.io/')) return json(res, 404, { kind: 'Status', code: 404 });
    const answer = lists(url, req);
    return json(res, 200, answer ?? { items: [], metadata: {} });
  };
}

describe('the Kubernetes client', () => {
  test('a server that drips a byte before every idle timeout fails at the total deadline', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const drip = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(drip));
    };
    const client = KubeClient.fromKubeconfigYaml(kubeconfig(), { timeoutMs: 200, deadlineMs: 600 });
    const started = Date.now();
    try {
      await expect(client.request('GET', '/api/v1/nodes')).rejects.toThrow(`no complete answer from https://127.0.0.1:${port} to GET /api/v1/nodes in 600 ms`);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      client.close();
    }
  });

  test('an answer over the body limit fails the request instead of filling memory', async () => {
    handler = (_req, res) => json(res, 200, { items: [], padding: 'x'.repeat(4096) });
    const client = KubeClient.fromKubeconfigYaml(kubeconfig(), { maxResponseBytes: 1024 });
    try {
      await expect(client.request('GET', '/api/v1/nodes')).rejects.toThrow(`the answer of https://127.0.0.1:${port} to GET /api/v1/nodes is over 1024 bytes, the client's limit`);
    } finally {
      client.close();
    }
  });

  test('a list is read page by page with limit and continue, and the selectors go with every page', async () => {
    const asked: string[] = [];
    handler = apiServer(url => {
      asked.push(url.search);
      const page = Number(url.searchParams.get('continue') ?? '0');
      const items = [{ metadata: { name: `n${2 * page}` } }, { metadata: { name: `n${2 * page + 1}` } }];
      return { items, metadata: page < 2 ? { continue: String(page + 1) } : {} };
    });
    const client = KubeClient.fromKubeconfigYaml(kubeconfig(), { pageSize: 2 });
    try {
      const nodes = await client.list('v1', 'Node', undefined, 'inferkit.dev/pool');
      expect(nodes.map(n => n.metadata.name)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5']);
      expect(asked).toEqual([
        '?labelSelector=inferkit.dev%2Fpool&limit=2',
        '?labelSelector=inferkit.dev%2Fpool&limit=2&continue=1',
        '?labelSelector=inferkit.dev%2Fpool&limit=2&continue=2',
      ]);
    } finally {
      client.close();
    }
  });

  test('listAt gives the resource version of the first page, which a watch starts from', async () => {
    handler = apiServer(url => ({ items: [{ metadata: { name: 'p' } }], metadata: url.searchParams.get('continue') ? { resourceVersion: '9' } : { resourceVersion: '7', continue: 'x' } }));
    const client = KubeClient.fromKubeconfigYaml(kubeconfig());
    try {
      expect(await client.listAt('v1', 'Pod', 'ns')).toEqual({ items: [{ metadata: { name: 'p' } }, { metadata: { name: 'p' } }], resourceVersion: '7' });
    } finally {
      client.close();
    }
  });

  describe('watch', () => {
    /** A watch endpoint that writes `chunks` (a chunk at a time) and then ends the stream, or keeps it open. */
    const watching = (chunks: string[], keepOpen = false, asked: string[] = []): Handler => {
      const base = apiServer();
      return (req, res) => {
        const url = new URL(req.url!, 'https://x');
        if (url.searchParams.get('watch') !== '1') return base(req, res);
        asked.push(url.search);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        let i = 0;
        const next = () => {
          if (i < chunks.length) {
            res.write(chunks[i++]);
            setTimeout(next, 5);
          } else if (!keepOpen) {
            res.end();
          }
        };
        next();
      };
    };
    const event = (type: string, name: string) => `${JSON.stringify({ type, object: { metadata: { name } } })}\n`;

    test('events cut anywhere by the stream come whole and in order, with the selector, resource version and timeout asked', async () => {
      const asked: string[] = [];
      const text = event('ADDED', 'a') + event('MODIFIED', 'a') + event('DELETED', 'a');
      handler = watching([text.slice(0, 7), text.slice(7, 40), text.slice(40, 41), text.slice(41)], false, asked);
      const client = KubeClient.fromKubeconfigYaml(kubeconfig());
      const seen: string[] = [];
      try {
        await client.watch('v1', 'Pod', 'ns', 'app=x', '42', 2500, (type, o) => { seen.push(`${type} ${o.metadata.name}`); return false; });
        expect(seen).toEqual(['ADDED a', 'MODIFIED a', 'DELETED a']);
        expect(asked).toEqual(['?watch=1&labelSelector=app%3Dx&resourceVersion=42&timeoutSeconds=3']);
      } finally {
        client.close();
      }
    });

    test('it ends when the callback says so, at an ERROR event (a resource version too old), or when aborted', async () => {
      const client = KubeClient.fromKubeconfigYaml(kubeconfig());
      try {
        const seen: string[] = [];
        handler = watching([event('ADDED', 'a'), event('ADDED', 'b'), event('ADDED', 'c')], true);
        await client.watch('v1', 'Pod', 'ns', 'app=x', '1', 60_000, (_t, o) => { seen.push(o.metadata.name); return o.metadata.name === 'b'; });
        expect(seen).toEqual(['a', 'b']);

        seen.length = 0;
        const gone = JSON.stringify({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
        handler = watching([event('ADDED', 'a'), `${gone}\n`, event('ADDED', 'b')], true);
        await client.watch('v1', 'Pod', 'ns', 'app=x', '1', 60_000, (_t, o) => { seen.push(o.metadata.name); return false; });
        expect(seen).toEqual(['a']);

        const stop = new AbortController();
        handler = watching([event('ADDED', 'a')], true);
        await client.watch('v1', 'Pod', 'ns', 'app=x', '1', 60_000, () => { stop.abort(); return false; }, stop.signal);
      } finally {
        client.close();
      }
    });

    test('a callback that throws ends the watch with its error; a server that never answers fails at the idle timeout', async () => {
      handler = watching([event('ADDED', 'a')], true);
      const client = KubeClient.fromKubeconfigYaml(kubeconfig(), { timeoutMs: 300 });
      try {
        await expect(client.watch('v1', 'Pod', 'ns', 'app=x', '1', 60_000, () => { throw new Error('bad pod'); })).rejects.toThrow('bad pod');
        const base = apiServer();
        handler = (req, res) => (new URL(req.url!, 'https://x').searchParams.get('watch') === '1' ? undefined : base(req, res));
        await expect(client.watch('v1', 'Pod', 'ns', 'app=x', '1', 60_000, () => false)).rejects.toThrow(`no answer from https://127.0.0.1:${port} in 300 ms`);
      } finally {
        client.close();
      }
    });

    test('a watch the server refuses rejects with its status and message', async () => {
      const base = apiServer();
      handler = (req, res) => (new URL(req.url!, 'https://x').searchParams.get('watch') === '1'
        ? json(res, 403, { kind: 'Status', code: 403, message: 'pods is forbidden: cannot watch resource "pods"' })
        : base(req, res));
      const client = KubeClient.fromKubeconfigYaml(kubeconfig());
      try {
        await expect(client.watch('v1', 'Pod', 'ns', 'app=x', '1', 1000, () => false)).rejects.toThrow(/403.*cannot watch resource "pods"/);
      } finally {
        client.close();
      }
    });
  });

  test('a server that never ends a list is refused after the page limit', async () => {
    handler = apiServer(() => ({ items: [], metadata: { continue: 'again' } }));
    const client = KubeClient.fromKubeconfigYaml(kubeconfig());
    try {
      await expect(client.list('v1', 'Node')).rejects.toThrow(`list Node from https://127.0.0.1:${port}: the server still had more after 1000 pages of 500, the client's limit`);
    } finally {
      client.close();
    }
  });

  test('insecure-skip-tls-verify is honoured with a warning that says what it risks and the fix', () => {
    const client = KubeClient.fromKubeconfigYaml(kubeconfig(`{server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}`));
    client.close();
    expect(client.warnings).toEqual([
      `Warning: cluster https://127.0.0.1:${port} insecure-skip-tls-verify: the server's certificate is not verified, so anyone on the network path ` +
      'can pose as the API server and read the credentials. Set certificate-authority-data in the kubeconfig, and remove insecure-skip-tls-verify.',
    ]);
    expect(KubeClient.fromKubeconfigYaml(kubeconfig()).warnings).toEqual([]);
  });

  test.each([
    ['a user and password', 'https://admin:hunter2@10.0.0.1:6443', "cluster 'c' has server https://***@10.0.0.1:6443, with a user name or password in the URL"],
    ['a user and password, over http', 'http://admin:hunter2@10.0.0.1', "cluster 'c' has server \"http://***@10.0.0.1\". Give an https:// URL."],
  ])('a server URL with %s is refused without showing the password', (_, url, message) => {
    const text = kubeconfig(`{server: '${url}'}`);
    expect(() => parseKubeconfig(text)).toThrow(message);
    expect(() => parseKubeconfig(text)).not.toThrow(/hunter2/);
  });

  test('401, 403 and certificate failures are configuration problems; a 5xx and a refused connection are not', () => {
    expect(configurationProblem(new KubeError(401, { message: 'Unauthorized' }, 'list Node'))).toBe(
      'the API server refused the credentials (401 Unauthorized: list Node: 401 Unauthorized). ' +
      "Fix the credentials of the kubeconfig's user: its token, tokenFile, client certificate or exec plugin");
    expect(configurationProblem(new KubeError(403, { message: 'nodes is forbidden' }, 'list Node'))).toBe(
      'the credentials lack a permission (403 Forbidden: list Node: 403 nodes is forbidden). Grant the kubeconfig\'s user the permission, or use another user');
    expect(configurationProblem(Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }))).toBe(
      "the server's certificate could not be verified (DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate). Fix certificate-authority-data (or tls-server-name) of the kubeconfig");
    expect(configurationProblem(new KubeError(503, 'unavailable', 'list Node'))).toBeUndefined();
    expect(configurationProblem(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });
});

describe('reading a live cluster with a kubeconfig that is wrong', () => {
  test('a wrong token stops the read with a credential error: the cluster is not called unreachable', async () => {
    handler = apiServer();
    await expect(readLiveCluster({ name: 'east', kubeconfig: kubeconfig(undefined, 'typo') })).rejects.toThrow(
      `Unable to read cluster 'east' at https://127.0.0.1:${port}: the API server refused the credentials (401 Unauthorized: ` +
      'discovery of resource.k8s.io/v1: 401 Unauthorized). ' +
      "Fix the credentials of the kubeconfig's user: its token, tokenFile, client certificate or exec plugin. Nothing was placed.");
  });

  test('a CA that did not sign the server certificate stops the read with a certificate error', async () => {
    handler = apiServer();
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other',
      '-keyout', 'other-key.pem', '-out', 'other.pem'], { cwd: dir, stdio: 'pipe' });
    const otherCa = fs.readFileSync(path.join(dir, 'other.pem')).toString('base64');
    const wrong = kubeconfig(`{server: 'https://127.0.0.1:${port}', certificate-authority-data: ${otherCa}}`);
    await expect(readLiveCluster({ name: 'east', kubeconfig: wrong })).rejects.toThrow(/^Unable to read cluster 'east' at https:\/\/127\.0\.0\.1:\d+: the server's certificate could not be verified/);
  });

  test('a server name the certificate does not cover stops the read with a certificate error', async () => {
    handler = apiServer();
    const ca = Buffer.from(cert).toString('base64');
    const wrong = kubeconfig(`{server: 'https://127.0.0.1:${port}', certificate-authority-data: ${ca}, tls-server-name: api.example.com}`);
    await expect(readLiveCluster({ name: 'east', kubeconfig: wrong })).rejects.toThrow(
      /^Unable to read cluster 'east' at https:\/\/127\.0\.0\.1:\d+: the server's certificate could not be verified \(ERR_TLS_CERT_ALTNAME_INVALID: .*\)\. Fix certificate-authority-data \(or tls-server-name\) of the kubeconfig\. Nothing was placed\.$/);
  });

  test('the ledger is read only from the namespaces given, and an insecure kubeconfig is warned about', async () => {
    const listed: string[] = [];
    handler = apiServer(url => {
      listed.push(url.pathname);
      return undefined;
    });
    const insecure = kubeconfig(`{server: 'https://127.0.0.1:${port}', insecure-skip-tls-verify: true}`);
    const live = await readLiveCluster({ name: 'east', kubeconfig: insecure }, { ledgerNamespaces: ['ml', 'team-b', 'ml'] });
    expect(live.error).toBeUndefined();
    expect(listed.filter(p => p.startsWith('/apis/apps/')).sort()).toEqual([
      '/apis/apps/v1/namespaces/ml/deployments', '/apis/apps/v1/namespaces/ml/statefulsets',
      '/apis/apps/v1/namespaces/team-b/deployments', '/apis/apps/v1/namespaces/team-b/statefulsets',
    ]);
    expect(live.warnings).toEqual([expect.stringMatching(/^Warning: cluster https:\/\/127\.0\.0\.1:\d+ insecure-skip-tls-verify: /)]);
  });
});

describe('the Placement provider reads the ledger of its own namespaces', () => {
  const demand = { name: 'ml/qwen', replicas: 1, engines: [{ name: 'qwen', members: [{ deviceRequests: [{ name: 'gpu' }] }] }] };
  const listedNamespaces = async (inputs: Record<string, unknown>): Promise<string[]> => {
    const listed = new Set<string>();
    handler = apiServer(url => {
      const m = /^\/apis\/apps\/v1\/namespaces\/([^/]+)\//.exec(url.pathname);
      if (m) listed.add(m[1]);
      return undefined;
    });
    // The cluster has no pools, so nothing fits: the update fails after reading the ledger.
    await expect(placementProvider.create!({ demand, clusters: [{ name: 'east', kubeconfig: kubeconfig() }], ...inputs })).rejects.toThrow('fit nowhere');
    return [...listed].sort();
  };

  test('by default, the namespace of the deployment placed: a Deployment labelled in another namespace is never read', async () => {
    expect(await listedNamespaces({})).toEqual(['ml']);
  });

  test('ledgerNamespaces names the namespaces of the fleet\'s deployments', async () => {
    expect(await listedNamespaces({ ledgerNamespaces: ['ml', 'team-b'] })).toEqual(['ml', 'team-b']);
  });
});
