// A small Kubernetes REST client over node's https: enough for the providers to read a cluster (discovery, get,
// list) and for the test harness to build on. @kubernetes/client-node 1.x is ESM-only, which Jest's CommonJS runtime
// cannot load without experimental flags, and the few calls needed are plain HTTPS.
import * as fs from 'fs';
import * as https from 'https';
import { parse } from 'yaml';

export type KubeObject = Record<string, any>;

/** An error the API server returned, with its status code and message. */
export class KubeError extends Error {
  constructor(public readonly status: number, public readonly body: KubeObject | string, what: string) {
    super(`${what}: ${status} ${typeof body === 'string' ? body : body?.message ?? JSON.stringify(body)}`);
    this.name = 'KubeError';
  }
}

/** How to reach and authenticate to one API server, resolved from a kubeconfig. */
export interface ClusterAccess {
  /** `https://host:port`, possibly with a path prefix (a proxy in front of the API server). */
  readonly server: string;
  /** PEM CA bundle to verify the server with. @default - the system roots */
  readonly ca?: string;
  /** Skip verifying the server's certificate (kubeconfig `insecure-skip-tls-verify`). @default false */
  readonly insecureSkipTlsVerify?: boolean;
  /** Name to verify the server's certificate against (kubeconfig `tls-server-name`). @default - the server's host */
  readonly tlsServerName?: string;
  /** Bearer token. @default - none */
  readonly token?: string;
  /** PEM client certificate and key. @default - none */
  readonly clientCertificate?: string;
  readonly clientKey?: string;
}

/** A response: status, parsed JSON body (or the text when it is not JSON), and the server's warnings. */
export interface KubeResponse {
  readonly status: number;
  readonly body: any;
  readonly warnings: readonly string[];
}

export interface KubeClientOptions {
  /**
   * How long a request may wait for the connection or the next bytes of the answer before it fails, so that an
   * unreachable cluster fails fast.
   *
   * @default 10000
   */
  readonly timeoutMs?: number;
  /**
   * How long a request may take in all, so that a server that drips a byte now and then cannot hold it forever.
   *
   * @default 60000
   */
  readonly deadlineMs?: number;
  /**
   * The largest answer read, in bytes; a larger one fails the request. Lists are read a page at a time, so this
   * bounds one page.
   *
   * @default 67108864 (64 MiB)
   */
  readonly maxResponseBytes?: number;
  /**
   * Objects asked for per page of a list (`limit`, followed by `continue`).
   *
   * @default 500
   * @see https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
   */
  readonly pageSize?: number;
}

/** Most pages one list reads (with the default page size, 500,000 objects): a server that never ends a list is refused. */
export const MAX_LIST_PAGES = 1_000;

/** Node's codes for a certificate the client could not verify or a TLS handshake that failed, as opposed to the network. */
const TLS_CODE = /CERT|^ERR_TLS_|^ERR_SSL_|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/;

/**
 * Why an error from a cluster is its configuration's fault rather than the network's: the credentials were refused
 * (401, 403) or the server's certificate could not be verified (wrong CA, wrong server name, expired). A retry cannot
 * fix these, so callers stop instead of treating the cluster as unreachable. Undefined for any other error.
 */
export function configurationProblem(e: unknown): string | undefined {
  if (e instanceof KubeError && (e.status === 401 || e.status === 403)) {
    return e.status === 401
      ? `the API server refused the credentials (401 Unauthorized: ${e.message}). Fix the token or client certificate of the kubeconfig`
      : `the credentials lack a permission (403 Forbidden: ${e.message}). Grant the kubeconfig's user the permission, or use another user`;
  }
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && TLS_CODE.test(code)) {
    return `the server's certificate could not be verified (${code}: ${(e as Error).message}). ` +
      'Fix certificate-authority-data (or tls-server-name) of the kubeconfig';
  }
  return undefined;
}

/** A URL with any `user:password@` replaced by `***@`, so that it can be shown. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
}

export interface ApplyOptions {
  /** Server-side dry run only. @default false */
  readonly dryRun?: boolean;
  /** Field manager name. @default 'inferkit' */
  readonly fieldManager?: string;
}

/** An API resource found by discovery. */
export interface ApiResource {
  readonly plural: string;
  readonly namespaced: boolean;
}

function pemOf(data: unknown, file: unknown, what: string): string | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64').toString();
  if (typeof file === 'string' && file) return fs.readFileSync(file, 'utf8');
  if (data !== undefined || file !== undefined) throw new Error(`Unable to read the kubeconfig: ${what} is not a string.`);
  return undefined;
}

/**
 * The cluster and user of a kubeconfig's current context (or of its only context). Supports bearer tokens and client
 * certificates, inline (`*-data`) or as files; exec plugins and auth providers are not supported.
 */
export function parseKubeconfig(text: string, contextName?: string): ClusterAccess {
  let cfg: KubeObject;
  try {
    cfg = parse(text) ?? {};
  } catch (e) {
    throw new Error(`Unable to read the kubeconfig: it is not YAML (${(e as Error).message.split('\n')[0]}).`);
  }
  if (typeof cfg !== 'object') throw new Error('Unable to read the kubeconfig: it is not a YAML map. Give the kubeconfig\'s content, not its path.');
  const named = (list: unknown, name: unknown, what: string): KubeObject => {
    const found = Array.isArray(list) ? list.find(x => x?.name === name) : undefined;
    if (!found) throw new Error(`Unable to read the kubeconfig: it has no ${what} named '${String(name)}'.`);
    return found;
  };
  const contexts: KubeObject[] = Array.isArray(cfg.contexts) ? cfg.contexts : [];
  const chosen = contextName ?? (cfg['current-context'] || (contexts.length === 1 ? contexts[0].name : undefined));
  if (!chosen) throw new Error('Unable to read the kubeconfig: it has no current-context. Set current-context, or name a context.');
  const context = named(contexts, chosen, 'context').context ?? {};
  const cluster = named(cfg.clusters, context.cluster, 'cluster').cluster ?? {};
  const user = context.user === undefined ? {} : named(cfg.users, context.user, 'user').user ?? {};
  if (typeof cluster.server !== 'string' || !cluster.server.startsWith('https://')) {
    const shown = typeof cluster.server === 'string' ? JSON.stringify(redactUrl(cluster.server))
      : `of type ${cluster.server === null ? 'null' : typeof cluster.server}`;
    throw new Error(`Unable to read the kubeconfig: cluster '${context.cluster}' has server ${shown}. Give an https:// URL.`);
  }
  if (redactUrl(cluster.server) !== cluster.server) {
    // Never echoed: the URL carries a password.
    throw new Error(`Unable to read the kubeconfig: cluster '${context.cluster}' has server ${redactUrl(cluster.server)}, with a user name or password in the URL, ` +
      'which is not supported. Give the URL without them, and authenticate with a bearer token or a client certificate.');
  }
  if (cluster['proxy-url']) {
    throw new Error(`Unable to read the kubeconfig: cluster '${context.cluster}' is reached through proxy-url, which is not supported. Give a server reachable directly.`);
  }
  if (user.username !== undefined || user.password !== undefined) {
    throw new Error(`Unable to read the kubeconfig: user '${context.user}' authenticates with a username and password, which is not supported. ` +
      'Use a bearer token (such as a ServiceAccount token) or a client certificate.');
  }
  if (user.exec || user['auth-provider']) {
    throw new Error(`Unable to read the kubeconfig: user '${context.user}' authenticates with an exec plugin or auth provider, which is not supported. ` +
      'Use a bearer token (such as a ServiceAccount token) or a client certificate.');
  }
  const token = typeof user.token === 'string' && user.token ? user.token
    : typeof user.tokenFile === 'string' && user.tokenFile ? fs.readFileSync(user.tokenFile, 'utf8').trim() : undefined;
  return {
    server: cluster.server,
    ca: pemOf(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate-authority'),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name'] || undefined,
    token,
    clientCertificate: pemOf(user['client-certificate-data'], user['client-certificate'], 'client-certificate'),
    clientKey: pemOf(user['client-key-data'], user['client-key'], 'client-key'),
  };
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` otherwise. */
function apiBase(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** A client for one cluster. Discovery answers are cached for the client's life. */
export class KubeClient {
  /** A client for the current context of a kubeconfig given as YAML text (not a path). */
  public static fromKubeconfigYaml<T extends KubeClient>(
    this: new (access: ClusterAccess, options?: KubeClientOptions) => T,
    yaml: string,
    options?: KubeClientOptions & { readonly context?: string },
  ): T {
    return new this(parseKubeconfig(yaml, options?.context), options);
  }

  public readonly server: string;
  public readonly timeoutMs: number;
  /** The total time a request may take. */
  public readonly deadlineMs: number;
  /** The largest answer read, in bytes. */
  public readonly maxResponseBytes: number;
  /** Objects asked for per page of a list. */
  public readonly pageSize: number;
  /**
   * What is unsafe in how the client reaches the server, one line each (`insecure-skip-tls-verify`), for the caller
   * to show as warnings.
   */
  public readonly warnings: readonly string[];
  private readonly agent: https.Agent;
  private readonly headers: Record<string, string>;
  private readonly discovery = new Map<string, Promise<ReadonlyMap<string, ApiResource> | undefined>>();

  constructor(access: ClusterAccess, options: KubeClientOptions = {}) {
    this.server = access.server;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.deadlineMs = options.deadlineMs ?? 60_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.pageSize = options.pageSize ?? 500;
    this.warnings = access.insecureSkipTlsVerify
      ? [`Warning: cluster ${this.server} insecure-skip-tls-verify: the server's certificate is not verified, so anyone on the network path ` +
        'can pose as the API server and read the credentials. Set certificate-authority-data in the kubeconfig, and remove insecure-skip-tls-verify.']
      : [];
    this.agent = new https.Agent({
      keepAlive: true,
      ca: access.ca,
      rejectUnauthorized: !access.insecureSkipTlsVerify,
      servername: access.tlsServerName,
      cert: access.clientCertificate,
      key: access.clientKey,
    });
    this.headers = { Accept: 'application/json', ...(access.token ? { Authorization: `Bearer ${access.token}` } : {}) };
  }

  /**
   * One HTTP request, JSON in and out. Rejects on network, TLS and timeout errors (no bytes for `timeoutMs`, or no
   * complete answer in `deadlineMs`) and on an answer over `maxResponseBytes`; any HTTP status resolves.
   */
  public request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> {
    const url = new URL(this.server);
    const [pathname, query] = path.split('?', 2);
    url.pathname = `${url.pathname.replace(/\/$/, '')}${pathname}`;
    url.search = query ? `?${query}` : '';
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(url, {
        method,
        agent: this.agent,
        headers: { ...this.headers, ...(data === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) }) },
      }, res => {
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (c: Buffer) => {
          length += c.length;
          if (length > this.maxResponseBytes) {
            clearTimeout(deadline);
            reject(new Error(`the answer of ${this.server} to ${method} ${pathname} is over ${this.maxResponseBytes} bytes, the client's limit`));
            req.destroy();
          } else {
            chunks.push(c);
          }
        });
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(deadline);
          if (length > this.maxResponseBytes) return;
          const warning = res.headers.warning;
          const text = Buffer.concat(chunks).toString();
          let parsed: any = text;
          try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON: keep the text */ }
          resolve({ status: res.statusCode ?? 0, body: parsed, warnings: warning === undefined ? [] : Array.isArray(warning) ? warning : [warning] });
        });
      });
      // An idle timeout: it covers connecting and every wait for bytes, so a black-holed server fails fast too.
      req.setTimeout(this.timeoutMs, () => req.destroy(new Error(`no answer from ${this.server} in ${this.timeoutMs} ms`)));
      // A total deadline as well: a server that sends a byte before each idle timeout would otherwise never time out.
      const deadline = setTimeout(() => req.destroy(new Error(`no complete answer from ${this.server} to ${method} ${pathname} in ${this.deadlineMs} ms`)), this.deadlineMs);
      req.on('error', e => {
        clearTimeout(deadline);
        reject(e);
      });
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  /** The resources of a group version by kind, or undefined when the server does not serve that version. */
  private resources(apiVersion: string): Promise<ReadonlyMap<string, ApiResource> | undefined> {
    let found = this.discovery.get(apiVersion);
    if (!found) {
      found = this.request('GET', apiBase(apiVersion)).then(({ status, body }) => {
        if (status === 404) return undefined;
        if (status !== 200) throw new KubeError(status, body, `discovery of ${apiVersion}`);
        const byKind = new Map<string, ApiResource>();
        for (const r of (body?.resources ?? []) as KubeObject[]) {
          if (!r.name.includes('/')) byKind.set(r.kind, { plural: r.name, namespaced: r.namespaced });
        }
        return byKind;
      });
      // A failure is not cached: the next call asks again.
      found.catch(() => this.discovery.delete(apiVersion));
      this.discovery.set(apiVersion, found);
    }
    return found;
  }

  /** Whether the server serves a group version, such as `resource.k8s.io/v1`. */
  public async serves(apiVersion: string): Promise<boolean> {
    return (await this.resources(apiVersion)) !== undefined;
  }

  /** The first of `apiVersions` the server serves, in the order given; undefined when it serves none. */
  public async firstServed(apiVersions: readonly string[]): Promise<string | undefined> {
    const served = await Promise.all(apiVersions.map(v => this.serves(v)));
    return apiVersions[served.indexOf(true)];
  }

  /** The plural name and scope of a kind, from discovery. */
  public async resource(apiVersion: string, kind: string): Promise<ApiResource> {
    const r = (await this.resources(apiVersion))?.get(kind);
    if (!r) throw new Error(`the server has no kind ${kind} in ${apiVersion}`);
    return r;
  }

  /** The REST path of an object (or of its collection when `name` is undefined; of every namespace when `namespace` is too). */
  public async path(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<string> {
    const r = await this.resource(apiVersion, kind);
    const ns = r.namespaced && (namespace !== undefined || name !== undefined) ? `/namespaces/${namespace ?? 'default'}` : '';
    return `${apiBase(apiVersion)}${ns}/${r.plural}${name ? `/${name}` : ''}`;
  }

  /** One object, or undefined when it does not exist. */
  public async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const { status, body } = await this.request('GET', await this.path(apiVersion, kind, namespace, name));
    if (status === 404) return undefined;
    if (status !== 200) throw new KubeError(status, body, `get ${kind}/${name}`);
    return body;
  }

  /**
   * The objects of a kind in one namespace, or in every namespace when `namespace` is undefined, read `pageSize` at a
   * time (at most {@link MAX_LIST_PAGES} pages).
   */
  public async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string, fieldSelector?: string): Promise<KubeObject[]> {
    const path = await this.path(apiVersion, kind, namespace);
    const items: KubeObject[] = [];
    let next: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const params = new URLSearchParams({
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
        limit: String(this.pageSize),
        ...(next ? { continue: next } : {}),
      });
      const { status, body } = await this.request('GET', `${path}?${params}`);
      if (status !== 200 || !Array.isArray(body?.items)) throw new KubeError(status, body, `list ${kind}`);
      items.push(...body.items);
      next = body.metadata?.continue;
      if (typeof next !== 'string' || next === '') return items;
    }
    throw new Error(`list ${kind} from ${this.server}: the server still had more after ${MAX_LIST_PAGES} pages of ${this.pageSize}, the client's limit`);
  }

  /**
   * Server-side apply with strict field validation (an unknown or duplicate field is an error, not a warning), taking
   * over fields other managers set (`force`): the object as given is what the cluster runs.
   */
  public async apply(obj: KubeObject, options: ApplyOptions = {}): Promise<KubeObject> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const query = new URLSearchParams({ fieldManager: options.fieldManager ?? 'inferkit', fieldValidation: 'Strict', force: 'true' });
    if (options.dryRun) query.set('dryRun', 'All');
    const { status, body } = await this.request('PATCH', `${path}?${query}`, obj, 'application/apply-patch+yaml');
    if (status >= 300) throw new KubeError(status, body, `apply ${obj.kind}/${obj.metadata.name}`);
    return body;
  }

  /** Deletes an object (its dependents in the background); an object already gone is not an error. */
  public async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<void> {
    const { status, body } = await this.request('DELETE', await this.path(apiVersion, kind, namespace, name), { propagationPolicy: 'Background' });
    if (status >= 300 && status !== 404) throw new KubeError(status, body, `delete ${kind}/${name}`);
  }

  /** Closes the client's connections. */
  public close(): void {
    this.agent.destroy();
  }
}

/**
 * Retries a request the server answered with 429 or a 5xx (an API server starting, a CRD's storage being set up), or
 * that the connection dropped, for up to `forMs`; any other failure is thrown at once.
 */
export async function retrying<T>(request: () => Promise<T>, forMs = 60_000): Promise<T> {
  const until = Date.now() + forMs;
  for (let wait = 200; ; wait = Math.min(wait * 2, 5_000)) {
    try {
      return await request();
    } catch (e) {
      const status = e instanceof KubeError ? e.status : undefined;
      const dropped = status === undefined && /ECONNRESET|EPIPE|socket hang up/.test(String(e));
      if (!(status === 429 || (status !== undefined && status >= 500) || dropped) || Date.now() + wait > until) throw e;
      await new Promise(r => setTimeout(r, wait));
    }
  }
}
