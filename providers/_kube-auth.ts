// Where the Kubernetes client's credentials come from when they change over time: a kubeconfig user's `tokenFile`
// (re-read, as client-go does) and its `exec` credential plugin (EKS `aws eks get-token`, GKE
// `gke-gcloud-auth-plugin`, AKS `kubelogin`), run asynchronously and cached until the credential expires. Plugins are
// run the way client-go runs them, so that the kubeconfig given to inferkit and to the Pulumi Kubernetes provider
// behaves alike.
//
// @see https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
import { spawn } from 'child_process';
import { promises as fsp } from 'fs';

/** The ExecCredential versions the client speaks. v1alpha1 was removed in Kubernetes 1.24. */
export const EXEC_API_VERSIONS: readonly string[] = ['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1'];

/** A kubeconfig user's `exec` section, validated. */
export interface ExecConfig {
  /** The ExecCredential version the plugin prints, one of {@link EXEC_API_VERSIONS}. */
  readonly apiVersion: string;
  /** The program: a name looked up on PATH, or a path. */
  readonly command: string;
  /** @default [] */
  readonly args?: readonly string[];
  /** Added to the plugin's environment. @default [] */
  readonly env?: ReadonlyArray<{ readonly name: string; readonly value: string }>;
  /** Shown when the command is not found: how to install it. @default - a generic hint */
  readonly installHint?: string;
  /** Give the plugin the cluster's server and CA in `KUBERNETES_EXEC_INFO`. @default false */
  readonly provideClusterInfo?: boolean;
  /**
   * The cluster's `client.authentication.k8s.io/exec` extension, given to the plugin as `spec.cluster.config` when
   * `provideClusterInfo` is set.
   *
   * @default - none
   */
  readonly clusterConfig?: unknown;
}

/** What a request authenticates with. */
export interface Credential {
  /** Bearer token. @default - none */
  readonly token?: string;
  /** PEM client certificate and key, both or neither. @default - none */
  readonly clientCertificate?: string;
  readonly clientKey?: string;
}

/** Whose credential it is: named in messages. */
export interface CredentialOwner {
  /** The API server. */
  readonly server: string;
  /** The kubeconfig context. @default - none */
  readonly context?: string;
  /** The kubeconfig user. @default - none */
  readonly user?: string;
}

/** `user 'u' (context 'c')`, or what of it is known. */
export function describeUser(owner: Omit<CredentialOwner, 'server'>): string {
  const user = owner.user === undefined ? 'the user' : `user '${owner.user}'`;
  return owner.context === undefined ? user : `${user} (context '${owner.context}')`;
}

/**
 * A credential could not be obtained (a plugin that fails or is missing, a token file that cannot be read): the
 * kubeconfig's fault, which a retry cannot fix. The message names the cluster, the context and the user, never a
 * credential nor what the plugin printed on its standard output.
 */
export class KubeCredentialError extends Error {
  constructor(
    /** The cluster, context and user the credential is for. */
    public readonly owner: CredentialOwner,
    /** What went wrong and the fix, in sentences. */
    public readonly reason: string,
  ) {
    super(`Unable to get the credentials of ${describeUser(owner)} for cluster ${owner.server}: ${reason}`);
    this.name = 'KubeCredentialError';
  }
}

/** Where a client's credential comes from. */
export interface CredentialSource {
  /** The credential to send: the cached one while it is fresh. Concurrent callers share one refresh. */
  get(): Promise<Credential>;
  /**
   * A new credential after the server refused `used` (401), or undefined when the source cannot change (a static
   * token or certificate). When another caller already replaced `used`, its replacement is returned.
   */
  refresh(used: Credential): Promise<Credential | undefined>;
}

/** A token or certificate written in the kubeconfig: it never changes. */
export class StaticCredentials implements CredentialSource {
  constructor(private readonly credential: Credential) {}
  public async get(): Promise<Credential> {
    return this.credential;
  }
  public async refresh(): Promise<Credential | undefined> {
    return undefined;
  }
}

/** A credential and the time (ms since the epoch) from which it is no longer used. */
interface Fetched {
  readonly credential: Credential;
  readonly staleAt: number;
}

/** A credential loaded when needed, kept until it goes stale; one load at a time, shared by the callers waiting. */
abstract class CachedCredentials implements CredentialSource {
  private current?: Fetched;
  private pending?: Promise<Credential>;

  public get(): Promise<Credential> {
    if (this.current && Date.now() < this.current.staleAt) return Promise.resolve(this.current.credential);
    return this.fetch();
  }

  public refresh(used: Credential): Promise<Credential | undefined> {
    if (this.current && this.current.credential !== used && Date.now() < this.current.staleAt) return Promise.resolve(this.current.credential);
    return this.fetch();
  }

  private fetch(): Promise<Credential> {
    if (!this.pending) {
      const pending = this.load().then(fetched => {
        this.current = fetched;
        return fetched.credential;
      });
      this.pending = pending;
      // A failure is not kept: the next caller loads again.
      pending.then(() => this.clearPending(pending), () => this.clearPending(pending));
    }
    return this.pending;
  }

  private clearPending(done: Promise<Credential>): void {
    if (this.pending === done) this.pending = undefined;
  }

  protected abstract load(): Promise<Fetched>;
}

/** How long a token read from a file is used before the file is read again (client-go: one minute). */
export const TOKEN_FILE_REREAD_MS = 60_000;

/**
 * A bearer token in a file (a projected ServiceAccount token, rotated by the kubelet): read again every minute and
 * after a 401. When a read fails (the file rewritten, gone for a moment) the last token read is used, and the file is
 * read again on the next request, as client-go does; with no token read yet, the request fails.
 */
export class TokenFileCredentials extends CachedCredentials {
  private lastToken?: string;

  constructor(private readonly file: string, private readonly owner: CredentialOwner) {
    super();
  }

  protected async load(): Promise<Fetched> {
    let problem: string;
    try {
      const token = (await fsp.readFile(this.file, 'utf8')).trim();
      if (token) {
        this.lastToken = token;
        return { credential: { token }, staleAt: Date.now() + TOKEN_FILE_REREAD_MS };
      }
      problem = `the tokenFile ${this.file} is empty. Write the bearer token into it.`;
    } catch (e) {
      problem = `the tokenFile ${this.file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}). `
        + 'Give the path of a file holding a bearer token, readable by this process.';
    }
    if (this.lastToken) return { credential: { token: this.lastToken }, staleAt: Date.now() };
    throw new KubeCredentialError(this.owner, problem);
  }
}

/** A credential is used until this long before it expires, at most a quarter of its lifetime (short-lived ones). */
export const EXPIRY_MARGIN_MS = 10_000;
/** What a failing plugin wrote on its standard error is shown up to this many characters (its end). */
const STDERR_SHOWN = 1_000;
/** A plugin's standard output over this many bytes is refused. */
const MAX_STDOUT_BYTES = 1024 * 1024;
/** What is kept of a plugin's standard error while it runs. */
const MAX_STDERR_BYTES = 64 * 1024;

/** The cluster a plugin is told about with `provideClusterInfo`, as the ExecCredential's `spec.cluster`. */
export interface ExecClusterInfo {
  readonly server: string;
  readonly ca?: string;
  readonly tlsServerName?: string;
  readonly insecureSkipTlsVerify?: boolean;
  readonly proxyUrl?: string;
}

/**
 * A credential plugin, run without a terminal (`spec.interactive: false`) each time the last credential it printed
 * expires or the server refuses it.
 */
export class ExecCredentials extends CachedCredentials {
  /** How many times the plugin was started, for tests and diagnostics. */
  public runs = 0;
  private readonly execInfo: string;

  constructor(
    private readonly exec: ExecConfig,
    cluster: ExecClusterInfo,
    private readonly owner: CredentialOwner,
    private readonly timeoutMs: number,
  ) {
    super();
    const spec: Record<string, unknown> = { interactive: false };
    if (exec.provideClusterInfo) {
      spec.cluster = {
        server: cluster.server,
        ...(cluster.tlsServerName ? { 'tls-server-name': cluster.tlsServerName } : {}),
        ...(cluster.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
        ...(cluster.ca ? { 'certificate-authority-data': Buffer.from(cluster.ca).toString('base64') } : {}),
        ...(cluster.proxyUrl ? { 'proxy-url': cluster.proxyUrl } : {}),
        ...(exec.clusterConfig !== undefined ? { config: exec.clusterConfig } : {}),
      };
    }
    this.execInfo = JSON.stringify({ apiVersion: exec.apiVersion, kind: 'ExecCredential', spec });
  }

  protected async load(): Promise<Fetched> {
    this.runs++;
    const stdout = await this.run();
    return this.parse(stdout);
  }

  private fail(reason: string): never {
    throw new KubeCredentialError(this.owner, reason);
  }

  /** Runs the plugin; resolves with its standard output when it exits with 0. */
  private run(): Promise<string> {
    const { command } = this.exec;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const e of this.exec.env ?? []) env[e.name] = e.value;
    env.KUBERNETES_EXEC_INFO = this.execInfo;
    return new Promise((resolve, reject) => {
      const child = spawn(command, [...this.exec.args ?? []], { env, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outBytes = 0;
      let errBytes = 0;
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        f();
      };
      const failWith = (reason: string) => settle(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        reject(new KubeCredentialError(this.owner, reason));
      });
      const timer = setTimeout(() => failWith(`the exec plugin '${command}' did not finish in ${this.timeoutMs} ms${stderrOf(err)}. ` +
        'Run it yourself to see what it waits for (a login, the network), or raise the client\'s execTimeoutMs.'), this.timeoutMs);
      child.stdout.on('data', (c: Buffer) => {
        outBytes += c.length;
        if (outBytes > MAX_STDOUT_BYTES) failWith(`the exec plugin '${command}' printed over ${MAX_STDOUT_BYTES} bytes, more than an ExecCredential. Check the plugin and its arguments.`);
        else out.push(c);
      });
      child.stderr.on('data', (c: Buffer) => {
        if (errBytes < MAX_STDERR_BYTES) err.push(c);
        errBytes += c.length;
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') {
          const hint = this.exec.installHint?.trim() || `Install '${command}', or give its full path in the kubeconfig's exec.command`;
          failWith(`the exec plugin '${command}' was not found${command.includes('/') ? '' : ' on PATH'}. ${hint.replace(/\.$/, '')}.`);
        } else {
          failWith(`the exec plugin '${command}' could not be started (${e.code ?? e.message}). Check that it is an executable file.`);
        }
      });
      child.on('close', (code, signal) => {
        if (code === 0) {
          settle(() => resolve(Buffer.concat(out).toString('utf8')));
        } else {
          failWith(`the exec plugin '${command}' ${signal ? `was ended by ${signal}` : `exited with code ${code}`}${stderrOf(err)}. ` +
            'Fix its configuration (exec in the kubeconfig, its login), or run it yourself to see why.');
        }
      });
    });
  }

  /** The credential of the plugin's output. Nothing of the output is ever shown: it holds the credential. */
  private parse(stdout: string): Fetched {
    const command = this.exec.command;
    const expected = this.exec.apiVersion;
    let cred: any;
    try {
      cred = JSON.parse(stdout);
    } catch {
      this.fail(`the exec plugin '${command}' printed ${stdout.trim() ? 'something that is not JSON' : 'nothing'} on its standard output, not an ExecCredential. ` +
        'Check the plugin and its arguments: it must print an ExecCredential of ' + `${expected}.`);
    }
    const shown = (v: unknown) => typeof v === 'string' && /^[\w./-]{1,100}$/.test(v) ? `'${v}'` : 'another value';
    if (cred?.kind !== 'ExecCredential') {
      this.fail(`the exec plugin '${command}' printed JSON of kind ${shown(cred?.kind)}, not an ExecCredential. Check the plugin and its arguments.`);
    }
    if (cred.apiVersion !== expected) {
      this.fail(`the exec plugin '${command}' printed an ExecCredential of apiVersion ${shown(cred.apiVersion)}, not ${expected} as the kubeconfig says. ` +
        'Set exec.apiVersion to the version the plugin prints.');
    }
    const status = cred.status;
    if (typeof status !== 'object' || status === null) this.fail(`the exec plugin '${command}' printed an ExecCredential without status. Check the plugin.`);
    const token = nonEmpty(status.token);
    const clientCertificate = nonEmpty(status.clientCertificateData);
    const clientKey = nonEmpty(status.clientKeyData);
    if (!token && !clientCertificate && !clientKey) {
      this.fail(`the exec plugin '${command}' printed an ExecCredential with neither a token nor a client certificate and key. Check the plugin.`);
    }
    if (!clientCertificate !== !clientKey) {
      this.fail(`the exec plugin '${command}' printed an ExecCredential with a client ${clientCertificate ? 'certificate but no key' : 'key but no certificate'}. Check the plugin.`);
    }
    let staleAt = Number.POSITIVE_INFINITY;
    if (status.expirationTimestamp !== undefined && status.expirationTimestamp !== null) {
      const expiry = typeof status.expirationTimestamp === 'string' ? Date.parse(status.expirationTimestamp) : Number.NaN;
      if (Number.isNaN(expiry)) {
        this.fail(`the exec plugin '${command}' printed an ExecCredential whose expirationTimestamp is not an RFC 3339 time. Check the plugin.`);
      }
      const now = Date.now();
      staleAt = expiry - Math.min(EXPIRY_MARGIN_MS, Math.max(0, expiry - now) / 4);
    }
    return { credential: { token, clientCertificate, clientKey }, staleAt };
  }
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** What a plugin wrote on its standard error, trimmed and bounded (its end, where the reason usually is), as `: <text>`. */
function stderrOf(chunks: readonly Buffer[]): string {
  const text = Buffer.concat(chunks).toString('utf8').trim().replace(/\s*\n\s*/g, ' ');
  if (!text) return '';
  return `: ${text.length > STDERR_SHOWN ? `...${text.slice(-STDERR_SHOWN)}` : text}`;
}
