// A small Kubernetes REST client over node's https: enough for the providers to read a cluster (discovery, get,
// list, apply, delete) and for the test harness to build on. @kubernetes/client-node is ESM-only since 1.0, which Jest's
// CommonJS runtime cannot load without experimental flags, and the few calls needed are plain HTTPS.
//
// It authenticates as kubeconfig users do: a bearer token (inline or a `tokenFile` read again every minute), a client
// certificate (inline or files), or an `exec` credential plugin (client.authentication.k8s.io/v1 and v1beta1, run
// without a terminal, its credential cached until it expires and refreshed once when the server answers 401). It
// reaches the server through the cluster's `proxy-url`, else through the environment's HTTPS_PROXY unless NO_PROXY
// excludes the server (as client-go does), else directly; an http:// or https:// proxy, by CONNECT. Relative paths
// are taken from the kubeconfig file's folder, as kubectl takes them, when the caller says where the file is. Legacy
// `auth-provider`s, basic auth and SOCKS proxies are refused with a message.
import * as fs from 'fs';
import * as https from 'https';
import * as nodePath from 'path';
import * as tls from 'tls';
import { parse } from 'yaml';
import {
  Credential, CredentialSource, describeUser, EXEC_API_VERSIONS, ExecConfig, ExecCredentials, KubeCredentialError,
  StaticCredentials, TokenFileCredentials,
} from './_kube-auth';
import { PROXY_SCHEMES, ProxyConnectError, proxyFromEnvironment, redactUrl, TunnelingAgent } from './_kube-proxy';

export { KubeCredentialError, ProxyConnectError, proxyFromEnvironment, redactUrl };
export type { ExecConfig };

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
  /**
   * A file holding the bearer token (kubeconfig `tokenFile`), read when the first request needs it, again every
   * minute (the kubelet rotates projected ServiceAccount tokens) and after a 401. A read that fails after a first one
   * keeps the last token, as client-go does.
   *
   * @default - none
   */
  readonly tokenFile?: string;
  /** PEM client certificate and key. @default - none */
  readonly clientCertificate?: string;
  readonly clientKey?: string;
  /**
   * A credential plugin (kubeconfig `exec`), run when the first request needs a credential, again when the one it
   * printed expires, and once after a 401.
   *
   * @default - none
   * @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
   */
  readonly exec?: ExecConfig;
  /**
   * An `http://` or `https://` proxy the server is reached through by HTTP CONNECT (kubeconfig `proxy-url`), with
   * `user:password@` for Proxy-Authorization. Never shown: messages show it without the credentials.
   *
   * @default - the environment's HTTPS_PROXY unless NO_PROXY excludes the server, as client-go chooses it (see
   * {@link proxyFromEnvironment}); else the server is reached directly
   */
  readonly proxyUrl?: string;
  /** The kubeconfig context this access is of, named in messages. @default - none */
  readonly context?: string;
  /** The kubeconfig user this access is of, named in messages. @default - none */
  readonly user?: string;
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
  /**
   * How long a kubeconfig's exec credential plugin may run before it is killed and the request fails. Plugins that
   * log in through the network (`aws eks get-token`, `kubelogin`) take seconds.
   *
   * @default 60000
   */
  readonly execTimeoutMs?: number;
}

/** Most pages one list reads (with the default page size, 500,000 objects): a server that never ends a list is refused. */
export const MAX_LIST_PAGES = 1_000;

/** Node's codes for a certificate the client could not verify or a TLS handshake that failed, as opposed to the network. */
const TLS_CODE = /CERT|^ERR_TLS_|^ERR_SSL_|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/;

/**
 * Why an error from a cluster is its configuration's fault rather than the network's: the credentials were refused
 * (401, 403) or could not be obtained (a credential plugin that fails or is not installed, a token file that cannot be
 * read), the proxy refused its credentials (407), or the server's certificate could not be verified (wrong CA, wrong
 * server name, expired). A retry cannot fix these, so callers stop instead of treating the cluster as unreachable.
 * Undefined for any other error.
 */
export function configurationProblem(e: unknown): string | undefined {
  if (e instanceof KubeError && (e.status === 401 || e.status === 403)) {
    return e.status === 401
      ? `the API server refused the credentials (401 Unauthorized: ${e.message}). ` +
        'Fix the credentials of the kubeconfig\'s user: its token, tokenFile, client certificate or exec plugin'
      : `the credentials lack a permission (403 Forbidden: ${e.message}). Grant the kubeconfig's user the permission, or use another user`;
  }
  if (e instanceof KubeCredentialError) {
    return `the credentials of ${describeUser(e.owner)} could not be obtained: ${e.reason.replace(/\.$/, '')}`;
  }
  if (e instanceof ProxyConnectError && e.status === 407) return e.message;
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && TLS_CODE.test(code)) {
    return `the server's certificate could not be verified (${code}: ${(e as Error).message}). ` +
      'Fix certificate-authority-data (or tls-server-name) of the kubeconfig';
  }
  return undefined;
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

/** Where to read a kubeconfig. */
export interface KubeconfigOptions {
  /** The context to use. @default - the kubeconfig's current-context, or its only context */
  readonly context?: string;
  /**
   * The folder of the kubeconfig file: relative paths in it (`certificate-authority`, `client-certificate`,
   * `client-key`, `tokenFile`, and `exec.command` when it holds a path separator) are taken from there, as kubectl
   * takes them. Give it when the kubeconfig was read from a file.
   *
   * @default - the kubeconfig is text, not a file: relative paths are taken from the working directory (as the
   * Pulumi Kubernetes provider takes them from a kubeconfig given as text)
   */
  readonly baseDir?: string;
}

/** A path of the kubeconfig, absolute: relative ones are taken from `baseDir`, when given, as kubectl does. */
function localPath(file: string, baseDir: string | undefined): string {
  return baseDir === undefined || nodePath.isAbsolute(file) ? file : nodePath.join(nodePath.resolve(baseDir), file);
}

/** `; relative paths are taken from ...` when `file` is relative, for the messages about a file that cannot be read. */
function relativeHint(file: string, baseDir: string | undefined): string {
  if (nodePath.isAbsolute(file)) return '';
  return baseDir === undefined
    ? `; relative paths are taken from the working directory ${process.cwd()}, as the kubeconfig is text, not a file`
    : '; relative paths are taken from the kubeconfig\'s folder';
}

function pemOf(data: unknown, file: unknown, what: string, owner: string, baseDir: string | undefined): string | undefined {
  if (typeof data === 'string' && data) return Buffer.from(data, 'base64').toString();
  if (typeof file === 'string' && file) {
    const resolved = localPath(file, baseDir);
    try {
      return fs.readFileSync(resolved, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new Error(`Unable to read the kubeconfig: ${owner} has ${what} ${resolved}, which cannot be read (${code}${relativeHint(file, baseDir)}). ` +
        `Give the path of a PEM file readable by this process, or ${what}-data.`);
    }
  }
  if (data !== undefined || file !== undefined) throw new Error(`Unable to read the kubeconfig: ${what} is not a string.`);
  return undefined;
}

/**
 * The cluster and user of a kubeconfig's current context (or of `options.context`, or of its only context). Supports
 * bearer tokens (inline or `tokenFile`), client certificates (inline `*-data` or files), exec credential plugins and
 * `proxy-url`; refuses auth providers, basic auth and SOCKS proxies. Runs nothing: a plugin runs when a request needs
 * a credential, so that a kubeconfig can be checked at `pulumi preview`. Relative paths are taken from
 * `options.baseDir`, the kubeconfig file's folder, as kubectl takes them; without it (a kubeconfig given as text, as
 * in Pulumi args), from the working directory, as the Pulumi Kubernetes provider takes them.
 */
export function parseKubeconfig(text: string, options: KubeconfigOptions = {}): ClusterAccess {
  const { context: contextName, baseDir } = options;
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
  const proxyUrl = proxyUrlOf(cluster['proxy-url'], context.cluster);
  const who = `user '${context.user}'`;
  if (user.username !== undefined || user.password !== undefined) {
    throw new Error(`Unable to read the kubeconfig: ${who} authenticates with a username and password, which is not supported. ` +
      'Use a bearer token (such as a ServiceAccount token), a client certificate or an exec credential plugin.');
  }
  if (user['auth-provider']) {
    const name = typeof user['auth-provider']?.name === 'string' ? ` '${user['auth-provider'].name}'` : '';
    throw new Error(`Unable to read the kubeconfig: ${who} authenticates with the auth provider${name}, which Kubernetes removed in 1.26 and which is not supported. ` +
      'Use the provider\'s exec credential plugin instead (gke-gcloud-auth-plugin for GKE, kubelogin for AKS and OIDC).');
  }
  const token = typeof user.token === 'string' && user.token ? user.token : undefined;
  const tokenFile = !token && typeof user.tokenFile === 'string' && user.tokenFile ? localPath(user.tokenFile, baseDir) : undefined;
  const clientCertificate = pemOf(user['client-certificate-data'], user['client-certificate'], 'client-certificate', who, baseDir);
  const clientKey = pemOf(user['client-key-data'], user['client-key'], 'client-key', who, baseDir);
  const exec = user.exec === undefined || user.exec === null ? undefined : execOf(user.exec, who, cluster, baseDir);
  if (exec && (token || tokenFile || clientCertificate || clientKey)) {
    throw new Error(`Unable to read the kubeconfig: ${who} has both an exec plugin and a ${token || tokenFile ? 'token' : 'client certificate'}, ` +
      'and kubectl would use the latter without running the plugin. Keep one of them.');
  }
  if (tokenFile) {
    try {
      fs.accessSync(tokenFile, fs.constants.R_OK);
    } catch (e) {
      throw new Error(`Unable to read the kubeconfig: ${who} has tokenFile ${tokenFile}, which cannot be read ` +
        `(${(e as NodeJS.ErrnoException).code}${relativeHint(user.tokenFile, baseDir)}). Give the path of a file holding a bearer token, readable by this process.`);
    }
  }
  return {
    server: cluster.server,
    ca: pemOf(cluster['certificate-authority-data'], cluster['certificate-authority'], 'certificate-authority', `cluster '${context.cluster}'`, baseDir),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: cluster['tls-server-name'] || undefined,
    token,
    tokenFile,
    clientCertificate,
    clientKey,
    exec,
    proxyUrl,
    context: String(chosen),
    user: context.user === undefined ? undefined : String(context.user),
  };
}

/** A cluster's proxy-url, validated: an http:// or https:// URL. Never shown with its credentials. */
function proxyUrlOf(value: unknown, clusterName: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const fail = (what: string, fix = 'Give an http:// or https:// proxy, such as http://proxy.example.com:3128.'): never => {
    throw new Error(`Unable to read the kubeconfig: cluster '${String(clusterName)}' has ${what}. ${fix}`);
  };
  if (typeof value !== 'string') return fail(`a proxy-url of type ${typeof value}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return fail('a proxy-url that is not a URL');
  }
  if (/^socks/.test(url.protocol)) {
    return fail(`proxy-url ${url.protocol}//${url.host}, a SOCKS proxy, which is not supported`,
      'Give an http:// or https:// proxy (one that tunnels by HTTP CONNECT), or reach the server directly.');
  }
  if (!PROXY_SCHEMES.includes(url.protocol)) return fail(`a proxy-url of scheme '${url.protocol}', which is not a proxy scheme`);
  if (!url.hostname) return fail('a proxy-url without a host');
  return value;
}

/** The values `interactiveMode` may have. The client never has a terminal: it runs plugins as `Never` would. */
const INTERACTIVE_MODES: readonly string[] = ['Never', 'IfAvailable', 'Always'];

/**
 * A user's exec section, validated as kubectl validates it. A command with a path separator is a path, taken from
 * `baseDir` when relative; one without is looked up on PATH.
 */
function execOf(exec: unknown, who: string, cluster: KubeObject, baseDir: string | undefined): ExecConfig {
  const fail = (what: string, fix: string): never => {
    throw new Error(`Unable to read the kubeconfig: ${who} has ${what}. ${fix}`);
  };
  if (typeof exec !== 'object' || exec === null || Array.isArray(exec)) return fail('an exec section that is not a map', 'Give exec its apiVersion, command and args.');
  const e = exec as KubeObject;
  const versions = 'Set exec.apiVersion to client.authentication.k8s.io/v1 (or v1beta1), the version the plugin prints';
  if (e.apiVersion === undefined || e.apiVersion === null || e.apiVersion === '') return fail('an exec plugin without apiVersion', `${versions}.`);
  if (e.apiVersion === 'client.authentication.k8s.io/v1alpha1') {
    return fail('an exec plugin of client.authentication.k8s.io/v1alpha1, which Kubernetes removed in 1.24 and which is not supported',
      `${versions}, with a version of the plugin that prints it.`);
  }
  if (!EXEC_API_VERSIONS.includes(e.apiVersion)) {
    return fail(`an exec plugin of apiVersion ${JSON.stringify(String(e.apiVersion)).slice(0, 100)}, which is not supported`, `${versions}.`);
  }
  if (typeof e.command !== 'string' || !e.command) return fail('an exec plugin without command', 'Set exec.command to the plugin\'s program.');
  const args = e.args ?? [];
  if (!Array.isArray(args) || args.some(a => typeof a !== 'string')) return fail('exec.args that are not a list of strings', 'Quote each argument.');
  const env = e.env ?? [];
  if (!Array.isArray(env) || env.some(v => typeof v?.name !== 'string' || !v.name || typeof v.value !== 'string')) {
    return fail('exec.env that is not a list of name and value strings', 'Give each variable as {name: NAME, value: "text"}.');
  }
  if (e.installHint !== undefined && e.installHint !== null && typeof e.installHint !== 'string') return fail('an exec.installHint that is not a string', 'Quote it.');
  if (e.provideClusterInfo !== undefined && typeof e.provideClusterInfo !== 'boolean') {
    return fail('an exec.provideClusterInfo that is not true or false', 'Give true or false.');
  }
  const mode = e.interactiveMode;
  if (mode === undefined || mode === null || mode === '') {
    if (e.apiVersion === 'client.authentication.k8s.io/v1') {
      return fail('an exec plugin of client.authentication.k8s.io/v1 without interactiveMode, which kubectl and the Pulumi Kubernetes provider refuse',
        'Set exec.interactiveMode to Never (or IfAvailable).');
    }
  } else if (!INTERACTIVE_MODES.includes(mode)) {
    return fail(`exec.interactiveMode ${JSON.stringify(String(mode)).slice(0, 100)}, which is not Never, IfAvailable or Always`, 'Set it to Never (or IfAvailable).');
  } else if (mode === 'Always') {
    return fail('an exec plugin with interactiveMode Always: it needs a terminal, and the client never has one (it runs in Pulumi, in CI, in scripts)',
      'Set exec.interactiveMode to Never (or IfAvailable), and let the plugin authenticate without a prompt (a cached login, environment variables).');
  }
  const extension = Array.isArray(cluster.extensions)
    ? cluster.extensions.find((x: KubeObject) => x?.name === 'client.authentication.k8s.io/exec')?.extension : undefined;
  return {
    apiVersion: e.apiVersion,
    command: e.command.includes(nodePath.sep) ? localPath(e.command, baseDir) : e.command,
    args,
    env: env.map((v: KubeObject) => ({ name: v.name, value: v.value })),
    ...(e.installHint ? { installHint: e.installHint } : {}),
    provideClusterInfo: e.provideClusterInfo === true,
    ...(extension !== undefined ? { clusterConfig: extension } : {}),
  };
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` otherwise. */
function apiBase(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** How the credentials of a kubeconfig user are obtained: as written, from a token file, or from an exec plugin. */
function credentialSourceOf(access: ClusterAccess, execTimeoutMs: number): CredentialSource {
  const owner = { server: access.server, context: access.context, user: access.user };
  if (access.exec) {
    const { server, ca, tlsServerName, insecureSkipTlsVerify, proxyUrl } = access;
    return new ExecCredentials(access.exec, { server, ca, tlsServerName, insecureSkipTlsVerify, proxyUrl }, owner, execTimeoutMs);
  }
  if (access.tokenFile && !access.token) return new TokenFileCredentials(access.tokenFile, owner);
  return new StaticCredentials({ token: access.token });
}

/**
 * A client for one cluster. Discovery answers are cached for the client's life. Constructing it runs nothing and
 * reads no file: credentials that must be obtained (a token file, an exec plugin) are obtained by the first request.
 * It reads the proxy environment (HTTPS_PROXY, NO_PROXY) when the cluster has no proxy-url, and throws when the proxy
 * it gives cannot be used (SOCKS).
 */
export class KubeClient {
  /**
   * A client for the current context (or `options.context`) of a kubeconfig given as YAML text (not a path). Give
   * `options.baseDir`, the folder of the file it was read from, for its relative paths to be taken from there, as
   * kubectl takes them; without it they are taken from the working directory.
   */
  public static fromKubeconfigYaml<T extends KubeClient>(
    this: new (access: ClusterAccess, options?: KubeClientOptions) => T,
    yaml: string,
    options?: KubeClientOptions & KubeconfigOptions,
  ): T {
    return new this(parseKubeconfig(yaml, { context: options?.context, baseDir: options?.baseDir }), options);
  }

  public readonly server: string;
  public readonly timeoutMs: number;
  /** The total time a request may take. */
  public readonly deadlineMs: number;
  /** The largest answer read, in bytes. */
  public readonly maxResponseBytes: number;
  /** Objects asked for per page of a list. */
  public readonly pageSize: number;
  /** How long an exec credential plugin may run. */
  public readonly execTimeoutMs: number;
  /**
   * What is unsafe in how the client reaches the server, one line each (`insecure-skip-tls-verify`), for the caller
   * to show as warnings.
   */
  public readonly warnings: readonly string[];
  /** Where each request's credential comes from. */
  private readonly credentials: CredentialSource;
  private readonly tlsOptions: https.AgentOptions;
  private readonly proxy?: { readonly url: URL; readonly tls: tls.ConnectionOptions; readonly source: string };
  /** The connections with the kubeconfig's own client certificate, if any. */
  private readonly agent: https.Agent;
  /** The connections with the client certificate an exec plugin printed last. */
  private certAgent?: { readonly cert: string; readonly key: string; readonly agent: https.Agent };
  /** Agents of certificates an exec plugin printed before: requests may still be using them until the client closes. */
  private readonly retiredAgents: https.Agent[] = [];
  private readonly discovery = new Map<string, Promise<ReadonlyMap<string, ApiResource> | undefined>>();

  constructor(access: ClusterAccess, options: KubeClientOptions = {}) {
    this.server = access.server;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.deadlineMs = options.deadlineMs ?? 60_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.pageSize = options.pageSize ?? 500;
    this.execTimeoutMs = options.execTimeoutMs ?? 60_000;
    this.warnings = access.insecureSkipTlsVerify
      ? [`Warning: cluster ${this.server} insecure-skip-tls-verify: the server's certificate is not verified, so anyone on the network path ` +
        'can pose as the API server and read the credentials. Set certificate-authority-data in the kubeconfig, and remove insecure-skip-tls-verify.']
      : [];
    this.tlsOptions = { ca: access.ca, rejectUnauthorized: !access.insecureSkipTlsVerify, servername: access.tlsServerName };
    // The kubeconfig's proxy-url wins over the environment's, as in client-go.
    const proxy = access.proxyUrl ? { url: new URL(access.proxyUrl), source: 'proxy-url' } : undefined;
    const fromEnvironment = proxy ? undefined : proxyFromEnvironment(access.server);
    if (proxy || fromEnvironment) {
      // An https:// proxy is verified as client-go verifies it: with the cluster's CA (besides the system roots here).
      const proxyTls = { ca: access.ca ? [...tls.rootCertificates, access.ca] : undefined, rejectUnauthorized: !access.insecureSkipTlsVerify };
      this.proxy = proxy ? { ...proxy, tls: proxyTls } : { url: fromEnvironment!.url, source: fromEnvironment!.variable, tls: proxyTls };
    }
    this.agent = this.newAgent(access.clientCertificate, access.clientKey);
    this.credentials = credentialSourceOf(access, this.execTimeoutMs);
  }

  private newAgent(cert: string | undefined, key: string | undefined): https.Agent {
    const options: https.AgentOptions = { keepAlive: true, ...this.tlsOptions, cert, key };
    if (!this.proxy) return new https.Agent(options);
    const { url: proxy, tls: proxyTls, source } = this.proxy;
    return new TunnelingAgent({ ...options, proxy, proxyTls, source, connectTimeoutMs: this.timeoutMs });
  }

  /** The agent whose connections present the credential's client certificate (a new one when a plugin printed another). */
  private agentFor(credential: Credential): https.Agent {
    const { clientCertificate: cert, clientKey: key } = credential;
    if (!cert || !key) return this.agent;
    if (this.certAgent?.cert !== cert || this.certAgent.key !== key) {
      if (this.certAgent) this.retiredAgents.push(this.certAgent.agent);
      this.certAgent = { cert, key, agent: this.newAgent(cert, key) };
    }
    return this.certAgent.agent;
  }

  /**
   * One HTTP request, JSON in and out. Rejects on network, TLS and timeout errors (no bytes for `timeoutMs`, or no
   * complete answer in `deadlineMs`), on an answer over `maxResponseBytes` and when the credentials cannot be
   * obtained ({@link KubeCredentialError}); any HTTP status resolves. A 401 answered to a credential that can change
   * (token file, exec plugin) has the credential obtained again and the request sent once more.
   */
  public async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> {
    const credential = await this.credentials.get();
    const res = await this.send(method, path, body, contentType, credential);
    if (res.status !== 401) return res;
    // Revoked or expired before its time: one new credential and one more try; a second 401 is the answer.
    const fresh = await this.credentials.refresh(credential);
    return fresh ? this.send(method, path, body, contentType, fresh) : res;
  }

  /** The URL of a path (with its query) on the server, under the server URL's own path. */
  private url(path: string): URL {
    const url = new URL(this.server);
    const [pathname, query] = path.split('?', 2);
    url.pathname = `${url.pathname.replace(/\/$/, '')}${pathname}`;
    url.search = query ? `?${query}` : '';
    return url;
  }

  private send(method: string, path: string, body: unknown, contentType: string, credential: Credential): Promise<KubeResponse> {
    const url = this.url(path);
    const pathname = url.pathname;
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(url, {
        method,
        agent: this.agentFor(credential),
        headers: {
          Accept: 'application/json',
          ...(credential.token ? { Authorization: `Bearer ${credential.token}` } : {}),
          ...(data === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) }),
        },
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
    return (await this.listAt(apiVersion, kind, namespace, labelSelector, fieldSelector)).items;
  }

  /** {@link list}, with the resource version the list was read at (of its first page), for a {@link watch} from there. */
  public async listAt(
    apiVersion: string, kind: string, namespace?: string, labelSelector?: string, fieldSelector?: string,
  ): Promise<{ items: KubeObject[]; resourceVersion: string }> {
    const path = await this.path(apiVersion, kind, namespace);
    const items: KubeObject[] = [];
    let resourceVersion = '';
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
      if (page === 0) resourceVersion = String(body.metadata?.resourceVersion ?? '');
      next = body.metadata?.continue;
      if (typeof next !== 'string' || next === '') return { items, resourceVersion };
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

  /**
   * Watches the objects of a kind in a namespace from `resourceVersion` (a {@link listAt}'s): the server sends every
   * change after it (`ADDED`, `MODIFIED`, `DELETED`) as it happens, and `onEvent` gets them in order. It ends when
   * `onEvent` returns true, when `signal` aborts, after `forMs` (the server's `timeoutSeconds`, and a deadline of the
   * client's own a little later), or when the server ends the stream or sends an `ERROR` event (a resource version
   * too old, for one); the caller reads the state again then. Rejects when the watch cannot start (any status other
   * than 200, after one new credential on a 401) or the connection fails.
   * @see https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
   */
  public async watch(
    apiVersion: string, kind: string, namespace: string, labelSelector: string, resourceVersion: string, forMs: number,
    onEvent: (type: string, object: KubeObject) => boolean, signal?: AbortSignal,
  ): Promise<void> {
    const params = new URLSearchParams({
      watch: '1', labelSelector, resourceVersion, timeoutSeconds: String(Math.max(1, Math.ceil(forMs / 1000))),
    });
    const path = `${await this.path(apiVersion, kind, namespace)}?${params}`;
    const credential = await this.credentials.get();
    let refused = await this.stream(path, credential, forMs, onEvent, signal);
    if (refused?.status === 401) {
      // As a request: one new credential and one more try.
      const fresh = await this.credentials.refresh(credential);
      if (fresh) refused = await this.stream(path, fresh, forMs, onEvent, signal);
    }
    if (refused) throw new KubeError(refused.status, refused.body, `watch ${kind}`);
  }

  /** One watch request: undefined once the stream ends, or the answer when its status is not 200. */
  private stream(
    path: string, credential: Credential, forMs: number, onEvent: (type: string, object: KubeObject) => boolean, signal?: AbortSignal,
  ): Promise<{ status: number; body: KubeObject | string } | undefined> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return resolve(undefined);
      let ended = false;
      /** Ends the watch once: resolves with `answer`, or rejects with `error`. */
      const end = (answer?: { status: number; body: KubeObject | string }, error?: Error) => {
        if (ended) return;
        ended = true;
        clearTimeout(deadline);
        signal?.removeEventListener('abort', abort);
        req.destroy();
        if (error) reject(error);
        else resolve(answer);
      };
      const abort = () => end();
      const req = https.request(this.url(path), {
        method: 'GET',
        agent: this.agentFor(credential),
        headers: { Accept: 'application/json', ...(credential.token ? { Authorization: `Bearer ${credential.token}` } : {}) },
      }, res => {
        // Connected and answered: from here a quiet stream is a quiet cluster, not a dead server.
        req.setTimeout(0);
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => {
          text += chunk;
          if (res.statusCode !== 200) {
            if (text.length > this.maxResponseBytes) end({ status: res.statusCode ?? 0, body: text.slice(0, 1000) });
            return;
          }
          for (let nl = text.indexOf('\n'); nl >= 0 && !ended; nl = text.indexOf('\n')) {
            const line = text.slice(0, nl);
            text = text.slice(nl + 1);
            if (!line.trim()) continue;
            let event: { type?: string; object?: KubeObject };
            try {
              event = JSON.parse(line);
            } catch {
              return end();
            }
            if (event.type === 'ERROR' || !event.object) return end();
            try {
              if (event.type !== 'BOOKMARK' && onEvent(event.type ?? '', event.object)) return end();
            } catch (e) {
              return end(undefined, e as Error);
            }
          }
          // One event is never larger than the largest answer.
          if (text.length > this.maxResponseBytes) end();
        });
        res.on('error', () => end());
        res.on('end', () => {
          if (res.statusCode === 200) return end();
          let body: KubeObject | string = text;
          try { body = JSON.parse(text); } catch { /* not JSON: keep the text */ }
          end({ status: res.statusCode ?? 0, body });
        });
      });
      // Connecting and the answer's first bytes have the client's idle timeout, as a request has. Then the stream may be
      // quiet as long as nothing changes: the server ends it at timeoutSeconds, the client a little later whatever the
      // server does.
      req.setTimeout(this.timeoutMs, () => end(undefined, new Error(`no answer from ${this.server} in ${this.timeoutMs} ms`)));
      const deadline = setTimeout(() => end(), forMs + 5_000);
      signal?.addEventListener('abort', abort);
      req.on('error', e => end(undefined, e));
      req.end();
    });
  }

  /** Closes the client's connections. */
  public close(): void {
    this.agent.destroy();
    this.certAgent?.agent.destroy();
    for (const a of this.retiredAgents) a.destroy();
    this.retiredAgents.length = 0;
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
