// The Kubernetes client's proxy: the kubeconfig's `proxy-url`, else the environment's HTTPS_PROXY unless NO_PROXY
// excludes the server, chosen as client-go chooses it. An https.Agent whose connections go through an HTTP CONNECT
// tunnel opened on an http:// or https:// proxy, TLS to the API server then running inside the tunnel as usual. Node's
// Agent takes a connection from `createConnection`'s callback, so pooling, keep-alive and TLS sessions are its own.
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import type { Duplex } from 'stream';
import * as tls from 'tls';
import { domainToASCII } from 'url';

/** A URL with any `user:password@` replaced by `***@`, so that it can be shown. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1***@');
}

/** The proxy schemes the client tunnels through. */
export const PROXY_SCHEMES: readonly string[] = ['http:', 'https:'];

/** The CONNECT answer's head is read up to this many bytes: a proxy that sends more is refused. */
const MAX_HEAD_BYTES = 16 * 1024;

/** A proxy refused or failed the CONNECT; `status` is its answer's status code (407: the proxy wants credentials). */
export class ProxyConnectError extends Error {
  constructor(message: string, public readonly status?: number) {
    super(message);
    this.name = 'ProxyConnectError';
  }
}

export interface TunnelingAgentOptions extends https.AgentOptions {
  /** The proxy, `http://` or `https://`, possibly with `user:password@` (sent as Basic Proxy-Authorization). */
  readonly proxy: URL;
  /** How long opening the tunnel (connecting to the proxy and its CONNECT answer) may take. */
  readonly connectTimeoutMs: number;
  /** How an https:// proxy's certificate is verified. @default - the system roots */
  readonly proxyTls?: tls.ConnectionOptions;
  /**
   * Where the proxy was given, named in messages: `proxy-url`, or the environment variable it came from.
   *
   * @default 'proxy-url'
   */
  readonly source?: string;
}

/** An https.Agent that reaches every server through an HTTP CONNECT tunnel of one proxy. */
export class TunnelingAgent extends https.Agent {
  private readonly proxy: URL;
  private readonly connectTimeoutMs: number;
  private readonly proxyTls: tls.ConnectionOptions;
  private readonly source: string;

  constructor(options: TunnelingAgentOptions) {
    const { proxy, connectTimeoutMs, proxyTls, source, ...agent } = options;
    super(agent);
    if (!PROXY_SCHEMES.includes(proxy.protocol)) throw new Error(`the proxy ${redactUrl(proxy.href)} is not http:// or https://`);
    this.proxy = proxy;
    this.connectTimeoutMs = connectTimeoutMs;
    this.proxyTls = proxyTls ?? {};
    this.source = source ?? 'proxy-url';
  }

  // Node's Agent waits for the callback when this returns nothing.
  public override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const target = `${bracketed(String(options.host ?? 'localhost'))}:${options.port ?? 443}`;
    this.tunnel(target).then(
      // https.Agent's own createConnection runs TLS over the tunnel (tls.connect with `socket`), with its session cache.
      socket => callback?.(null, super.createConnection({ ...options, socket } as https.RequestOptions) as Duplex),
      (e: Error) => callback?.(e, undefined as unknown as Duplex),
    );
    return undefined;
  }

  /** A socket to `target` (`host:port`) through the proxy, once the proxy answered the CONNECT with 200. */
  private tunnel(target: string): Promise<net.Socket> {
    const fromEnvironment = this.source !== 'proxy-url';
    const shown = `${redactUrl(this.proxy.href).replace(/\/$/, '')}${fromEnvironment ? ` (${this.source})` : ''}`;
    // A proxy of the environment is everyone's: the fix may be to reach this server without it.
    const bypass = fromEnvironment ? `. If ${unbracketed(target.replace(/:\d+$/, ''))} is reached without a proxy, add it to NO_PROXY` : '';
    const port = Number(this.proxy.port) || (this.proxy.protocol === 'https:' ? 443 : 80);
    const host = unbracketed(this.proxy.hostname);
    return new Promise((resolve, reject) => {
      const socket: net.Socket = this.proxy.protocol === 'https:'
        ? tls.connect({ ...this.proxyTls, host, port, servername: net.isIP(host) ? undefined : host })
        : net.connect({ host, port });
      let head = Buffer.alloc(0);
      const fail = (message: string, status?: number) => {
        socket.destroy();
        reject(new ProxyConnectError(message, status));
      };
      socket.setTimeout(this.connectTimeoutMs, () => fail(`no answer from the proxy ${shown} to CONNECT ${target} in ${this.connectTimeoutMs} ms`));
      socket.on('error', e => fail(`the proxy ${shown} could not be reached for CONNECT ${target} (${(e as NodeJS.ErrnoException).code ?? e.message})${bypass}`));
      socket.once(this.proxy.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        const auth = this.proxy.username || this.proxy.password
          ? `Proxy-Authorization: Basic ${Buffer.from(`${decodeURIComponent(this.proxy.username)}:${decodeURIComponent(this.proxy.password)}`).toString('base64')}\r\n`
          : '';
        socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`);
      });
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > MAX_HEAD_BYTES) fail(`the proxy ${shown} answered CONNECT ${target} with a head over ${MAX_HEAD_BYTES} bytes`);
          return;
        }
        socket.removeListener('data', onData);
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1]);
        if (status !== 200) {
          const what = Number.isNaN(status) ? 'something that is not HTTP' : `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
          const fix = status === 407 ? `. Give the proxy's credentials in ${this.source} (http://user:password@host:port)` : bypass;
          fail(`the proxy ${shown} answered CONNECT ${target} with ${what}${fix}`, Number.isNaN(status) ? undefined : status);
          return;
        }
        socket.setTimeout(0);
        socket.removeAllListeners('error');
        // Bytes after the head belong to the tunnel (none, until the client speaks TLS).
        const rest = head.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        resolve(socket);
      };
      socket.on('data', onData);
    });
  }
}

/** An IPv6 address in brackets, as a CONNECT target and a URL host need it. */
function bracketed(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

function unbracketed(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** A proxy the environment gives for a server. */
export interface EnvironmentProxy {
  /** The proxy's URL, possibly with `user:password@`: never shown without {@link redactUrl}. */
  readonly url: URL;
  /** The variable it came from: `HTTPS_PROXY` or `https_proxy`. */
  readonly variable: string;
}

/**
 * The proxy the environment gives for an https:// server, chosen as Go's `http.ProxyFromEnvironment` chooses it, and
 * so client-go, kubectl and the Pulumi Kubernetes provider, so that all of them reach a cluster the same way:
 *
 * - the proxy is `HTTPS_PROXY`, else `https_proxy` (the first that is not empty; `HTTP_PROXY` is for http:// servers).
 *   A value without a scheme is an http:// proxy (`proxy.corp:3128`); one that is not a URL even so is ignored, as Go
 *   ignores it;
 * - `localhost` and loopback addresses (127.0.0.0/8, ::1) are never proxied;
 * - `NO_PROXY`, else `no_proxy`, lists comma-separated exceptions: `*` (every server), an IP address (`10.0.0.1`,
 *   `[::1]:6443` with a port), a CIDR (`10.0.0.0/8`), or a domain name with an optional port: `example.com` matches
 *   it and its subdomains, `.example.com` and `*.example.com` only its subdomains. Domains never match an IP address.
 *
 * Undefined when the server is reached directly. Throws when the environment's proxy is one the client cannot
 * tunnel through (SOCKS), rather than reach the server another way than kubectl would.
 *
 * @see https://pkg.go.dev/golang.org/x/net/http/httpproxy#Config
 */
export function proxyFromEnvironment(server: string, env: NodeJS.ProcessEnv = process.env): EnvironmentProxy | undefined {
  const variable = ['HTTPS_PROXY', 'https_proxy'].find(v => env[v]);
  if (!variable) return undefined;
  const url = proxyUrlOf(env[variable]!);
  if (!url) return undefined;
  const target = new URL(server);
  const host = unbracketed(target.hostname);
  if (!useProxy(host, target.port || '443', noProxyOf(env.NO_PROXY || env.no_proxy || ''))) return undefined;
  if (!PROXY_SCHEMES.includes(url.protocol)) {
    const what = /^socks/.test(url.protocol) ? 'a SOCKS proxy' : `a proxy of scheme '${url.protocol}'`;
    throw new Error(`Unable to reach cluster ${server} through ${variable} ${redactUrl(url.href).replace(/\/$/, '')}: it is ${what}, which is not supported. ` +
      `Give an http:// or https:// proxy (one that tunnels by HTTP CONNECT) in ${variable} or in the cluster's proxy-url, or add ${host} to NO_PROXY.`);
  }
  return { url, variable };
}

/** A proxy variable's URL, as Go's httpproxy parses it: `http://` is assumed when it has no scheme or no host. */
function proxyUrlOf(value: string): URL | undefined {
  const parsed = (text: string) => {
    try {
      return new URL(text);
    } catch {
      return undefined;
    }
  };
  const url = parsed(value);
  return url && url.protocol && url.host ? url : parsed(`http://${value}`);
}

/** One exception of NO_PROXY. */
type NoProxyMatcher =
  | { readonly all: true }
  | { readonly ips: net.BlockList; readonly port?: string }
  | { readonly domain: string; readonly matchHost: boolean; readonly port?: string };

/** NO_PROXY's exceptions, as Go's httpproxy reads them: entries it cannot read are skipped. */
function noProxyOf(text: string): NoProxyMatcher[] {
  const matchers: NoProxyMatcher[] = [];
  for (const raw of text.split(',')) {
    const p = raw.trim().toLowerCase();
    if (!p) continue;
    if (p === '*') return [{ all: true }];
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(p);
    const cidrFamily = cidr ? net.isIP(cidr[1]) : 0;
    if (cidr && cidrFamily && Number(cidr[2]) <= (cidrFamily === 4 ? 32 : 128)) {
      const ips = new net.BlockList();
      ips.addSubnet(cidr[1], Number(cidr[2]), cidrFamily === 4 ? 'ipv4' : 'ipv6');
      matchers.push({ ips });
      continue;
    }
    const split = splitHostPort(p);
    const host = split ? unbracketed(split.host) : p;
    const port = split?.port || undefined;
    if (split && !split.host) continue;
    const family = net.isIP(host);
    if (family) {
      const ips = new net.BlockList();
      ips.addAddress(host, family === 4 ? 'ipv4' : 'ipv6');
      matchers.push({ ips, port });
      continue;
    }
    if (!host) continue;
    let domain = host.startsWith('*.') ? host.slice(1) : host;
    const matchHost = !domain.startsWith('.');
    if (matchHost) domain = `.${domain}`;
    if (/[^\x00-\x7f]/.test(domain)) domain = `.${domainToASCII(domain.slice(1)) || domain.slice(1)}`;
    matchers.push({ domain, matchHost, port });
  }
  return matchers;
}

/** Go's net.SplitHostPort: `host:port` or `[v6]:port`; undefined when there is no port or too many colons. */
function splitHostPort(text: string): { host: string; port: string } | undefined {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0 || text[end + 1] !== ':') return undefined;
    return { host: text.slice(1, end), port: text.slice(end + 2) };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0 || text.slice(0, colon).includes(':')) return undefined;
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** Loopback addresses: never proxied. */
const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether a server at `host` (lowercase, unbracketed) and `port` goes through the proxy, as Go's httpproxy decides. */
function useProxy(host: string, port: string, noProxy: readonly NoProxyMatcher[]): boolean {
  if (host === 'localhost') return false;
  const family = net.isIP(host);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (family && LOOPBACK.check(host, type)) return false;
  const portMatches = (p: string | undefined) => p === undefined || p === port;
  return !noProxy.some(m => {
    if ('all' in m) return true;
    if ('ips' in m) return family !== 0 && m.ips.check(host, type) && portMatches(m.port);
    return family === 0 && (host.endsWith(m.domain) || (m.matchHost && host === m.domain.slice(1))) && portMatches(m.port);
  });
}
