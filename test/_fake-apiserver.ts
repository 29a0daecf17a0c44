// A fake Kubernetes API server for unit tests of commands that read a cluster: HTTPS on 127.0.0.1 with a throwaway
// self-signed certificate (openssl), discovery of a few group versions, and lists filtered by label selector.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

type Obj = Record<string, any>;

/** Group versions served, with their kinds: plural and whether namespaced. */
const SERVED: Record<string, Record<string, [string, boolean]>> = {
  'v1': { Pod: ['pods', true], Event: ['events', true], Service: ['services', true], PersistentVolumeClaim: ['persistentvolumeclaims', true] },
  'apps/v1': { StatefulSet: ['statefulsets', true], Deployment: ['deployments', true] },
  'batch/v1': { Job: ['jobs', true] },
  'scheduling.volcano.sh/v1beta1': { PodGroup: ['podgroups', true] },
};

const matches = (o: Obj, selector: string | null) => !selector || selector.split(',').every(term => {
  const [k, v] = term.split('=');
  return o.metadata?.labels?.[k] === v;
});

let certs: { key: string; cert: string } | undefined;
function selfSigned(): { key: string; cert: string } {
  if (!certs) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-fake-api-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    certs = { key: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'), cert: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8') };
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return certs;
}

/** A fake API server holding `objects` (each with apiVersion, kind, metadata.namespace). */
export class FakeApiServer {
  /** Starts a server on a free port of 127.0.0.1. */
  public static async start(objects: readonly Obj[] = []): Promise<FakeApiServer> {
    const s = new FakeApiServer(objects);
    await new Promise<void>(r => s.server.listen(0, '127.0.0.1', r));
    return s;
  }

  /** A kubeconfig that reaches a port on 127.0.0.1 with a token, not verifying the certificate. */
  public static kubeconfigFor(port: number, context = 'c'): string {
    return [
      'apiVersion: v1', 'kind: Config', `current-context: ${context}`,
      'clusters:', `- name: ${context}`, `  cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}`,
      'users:', '- name: u', '  user: {token: t}',
      'contexts:', `- name: ${context}`, `  context: {cluster: ${context}, user: u}`,
    ].join('\n');
  }

  public objects: Obj[];
  private readonly server: https.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(objects: readonly Obj[]) {
    this.objects = [...objects];
    this.server = https.createServer(selfSigned(), (req, res) => this.handle(req.url ?? '/', res));
    this.server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  public get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  public get kubeconfig(): string {
    return FakeApiServer.kubeconfigFor(this.port);
  }

  public async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise(r => this.server.close(r));
  }

  private handle(url: string, res: import('http').ServerResponse): void {
    const u = new URL(url, 'https://x');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const m = /^\/(?:api\/(v1)|apis\/([^/]+\/[^/]+))(?:\/namespaces\/([^/]+))?(?:\/([^/]+))?$/.exec(u.pathname);
    const apiVersion = m?.[1] ?? m?.[2];
    const kinds = apiVersion ? SERVED[apiVersion] : undefined;
    if (!m || !kinds) return send(404, { kind: 'Status', message: 'not found' });
    if (!m[4]) return send(200, { resources: Object.entries(kinds).map(([kind, [name, namespaced]]) => ({ name, kind, namespaced })) });
    const kind = Object.entries(kinds).find(([, [plural]]) => plural === m[4])?.[0];
    if (!kind) return send(404, { kind: 'Status', message: 'not found' });
    const items = this.objects.filter(o => o.apiVersion === apiVersion && o.kind === kind && (!m[3] || (o.metadata?.namespace ?? 'default') === m[3])
      && matches(o, u.searchParams.get('labelSelector')));
    return send(200, { kind: `${kind}List`, items });
  }
}

