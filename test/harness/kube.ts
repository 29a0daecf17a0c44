// A small Kubernetes REST client for the test harness: server-side apply with strict field validation,
// get/list/delete and polling. @kubernetes/client-node 1.x+ is ESM-only, which Jest's CommonJS runtime
// cannot load without experimental flags; the few calls the tests need are plain HTTPS.
import * as fs from 'fs';
import * as https from 'https';
import { parse } from 'yaml';

export type KubeObject = Record<string, any>;

/** An error the API server returned, with its status code and message. */
export class KubeError extends Error {
  constructor(public readonly status: number, public readonly body: KubeObject | string, what: string) {
    super(`${what}: ${status} ${typeof body === 'string' ? body : body.message ?? JSON.stringify(body)}`);
    this.name = 'KubeError';
  }
}

interface Resource { readonly plural: string; readonly namespaced: boolean }

export interface ApplyOptions {
  /** Server-side dry run only. */
  readonly dryRun?: boolean;
  /** Field manager name. @default 'inferkit-test' */
  readonly fieldManager?: string;
}

/** A client for one cluster, from a kubeconfig with a server, a CA and a bearer token. */
export class Kube {
  public static fromKubeconfig(file: string): Kube {
    const cfg = parse(fs.readFileSync(file, 'utf8'));
    const cluster = cfg.clusters[0].cluster;
    const user = cfg.users[0].user;
    return new Kube(cluster.server, Buffer.from(cluster['certificate-authority-data'], 'base64').toString(), user.token);
  }

  private readonly agent: https.Agent;
  private readonly resources = new Map<string, Resource>();
  /** Warnings the server sent (PodSecurity warns on workloads), in order. */
  public readonly warnings: string[] = [];

  constructor(public readonly server: string, ca: string, private readonly token: string) {
    this.agent = new https.Agent({ ca, keepAlive: true });
  }

  /** One HTTP request; JSON in and out. */
  public request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<{ status: number; body: any }> {
    const url = new URL(path, this.server);
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(url, {
        method,
        agent: this.agent,
        headers: {
          Authorization: `Bearer ${this.token}`,
          Accept: 'application/json',
          ...(data === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(data) }),
        },
      }, res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          const warning = res.headers.warning;
          if (warning) this.warnings.push(...(Array.isArray(warning) ? warning : [warning]));
          const text = Buffer.concat(chunks).toString();
          let parsed: any = text;
          try { parsed = text ? JSON.parse(text) : undefined; } catch { /* not JSON: keep the text */ }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      if (data !== undefined) req.write(data);
      req.end();
    });
  }

  private async resource(apiVersion: string, kind: string): Promise<Resource> {
    const key = `${apiVersion}/${kind}`;
    const known = this.resources.get(key);
    if (known) return known;
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const { status, body } = await this.request('GET', base);
    if (status !== 200) throw new KubeError(status, body, `discovery of ${apiVersion}`);
    const found = (body.resources as KubeObject[]).find(r => r.kind === kind && !r.name.includes('/'));
    if (!found) throw new Error(`the server has no kind ${kind} in ${apiVersion}`);
    const r = { plural: found.name, namespaced: found.namespaced };
    this.resources.set(key, r);
    return r;
  }

  /** The REST path of an object (or of its collection when `name` is undefined). */
  public async path(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<string> {
    const r = await this.resource(apiVersion, kind);
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = r.namespaced ? `/namespaces/${namespace ?? 'default'}` : '';
    return `${base}${ns}/${r.plural}${name ? `/${name}` : ''}`;
  }

  /** Server-side apply with strict field validation: an unknown or duplicate field is an error, not a warning. */
  public async apply(obj: KubeObject, options: ApplyOptions = {}): Promise<KubeObject> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const query = new URLSearchParams({ fieldManager: options.fieldManager ?? 'inferkit-test', fieldValidation: 'Strict', force: 'true' });
    if (options.dryRun) query.set('dryRun', 'All');
    const { status, body } = await this.request('PATCH', `${path}?${query}`, obj, 'application/apply-patch+yaml');
    if (status >= 300) throw new KubeError(status, body, `apply ${obj.kind}/${obj.metadata.name}`);
    return body;
  }

  public async get(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    const { status, body } = await this.request('GET', await this.path(apiVersion, kind, namespace, name));
    if (status === 404) return undefined;
    if (status !== 200) throw new KubeError(status, body, `get ${kind}/${name}`);
    return body;
  }

  public async list(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    const query = labelSelector ? `?${new URLSearchParams({ labelSelector })}` : '';
    const { status, body } = await this.request('GET', `${await this.path(apiVersion, kind, namespace)}${query}`);
    if (status !== 200) throw new KubeError(status, body, `list ${kind}`);
    return body.items;
  }

  public async delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<void> {
    const { status, body } = await this.request('DELETE', await this.path(apiVersion, kind, namespace, name), { propagationPolicy: 'Background' });
    if (status >= 300 && status !== 404) throw new KubeError(status, body, `delete ${kind}/${name}`);
  }

  /** Polls `probe` until it returns a value, or fails with the last state after `timeoutMs`. */
  public async waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await probe();
        if (v !== undefined) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
      await new Promise(r => setTimeout(r, intervalMs));
    }
  }

  public close(): void {
    this.agent.destroy();
  }
}
