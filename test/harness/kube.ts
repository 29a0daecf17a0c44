// The test harness's Kubernetes client: the providers' runtime client (HTTP, discovery, get and list) plus what the
// tests need on top: server-side apply with strict field validation, delete, polling, and the server's warnings.
import * as fs from 'fs';
import { ClusterAccess, KubeClient, KubeClientOptions, KubeError, KubeObject, KubeResponse } from '../../providers/_kube';

export { KubeError };
export type { KubeObject };

export interface ApplyOptions {
  /** Server-side dry run only. */
  readonly dryRun?: boolean;
  /** Field manager name. @default 'inferkit-test' */
  readonly fieldManager?: string;
}

/** A client for one cluster, from a kubeconfig file. */
export class Kube extends KubeClient {
  /** A client for the current context of the kubeconfig file at `file`. */
  public static fromKubeconfig(file: string): Kube {
    return Kube.fromKubeconfigYaml(fs.readFileSync(file, 'utf8'));
  }

  /** Warnings the server sent (PodSecurity warns on workloads), in order. */
  public readonly warnings: string[] = [];

  constructor(access: ClusterAccess, options: KubeClientOptions = {}) {
    // Tests apply large CRDs to a cluster sharing two cores with the test run: allow slow answers.
    super(access, { timeoutMs: 60_000, ...options });
  }

  public override async request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse> {
    const res = await super.request(method, path, body, contentType);
    this.warnings.push(...res.warnings);
    return res;
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
}
