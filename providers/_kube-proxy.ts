// The kubeconfig's `proxy-url` for the Kubernetes client: an https.Agent whose connections go through an HTTP CONNECT
// tunnel opened on an http:// or https:// proxy, TLS to the API server then running inside the tunnel as usual. Node's
// Agent takes a connection from `createConnection`'s callback, so pooling, keep-alive and TLS sessions are its own.
import * as http from 'http';
import * as https from 'https';
import * as net from 'net';
import type { Duplex } from 'stream';
import * as tls from 'tls';

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
}

/** An https.Agent that reaches every server through an HTTP CONNECT tunnel of one proxy. */
export class TunnelingAgent extends https.Agent {
  private readonly proxy: URL;
  private readonly connectTimeoutMs: number;
  private readonly proxyTls: tls.ConnectionOptions;

  constructor(options: TunnelingAgentOptions) {
    const { proxy, connectTimeoutMs, proxyTls, ...agent } = options;
    super(agent);
    if (!PROXY_SCHEMES.includes(proxy.protocol)) throw new Error(`the proxy ${redactUrl(proxy.href)} is not http:// or https://`);
    this.proxy = proxy;
    this.connectTimeoutMs = connectTimeoutMs;
    this.proxyTls = proxyTls ?? {};
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
    const shown = redactUrl(this.proxy.href).replace(/\/$/, '');
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
      socket.on('error', e => fail(`the proxy ${shown} could not be reached for CONNECT ${target} (${(e as NodeJS.ErrnoException).code ?? e.message})`));
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
          const fix = status === 407 ? '. Give the proxy\'s credentials in proxy-url (http://user:password@host:port)' : '';
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
