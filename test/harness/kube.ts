// The test harness's Kubernetes client: the providers' runtime client (HTTP, discovery, get and list) plus what the
// tests need on top: server-side apply with strict field validation, delete, polling, and the server's warnings.
import * as fs from 'fs';
import { ApplyOptions, ClusterAccess, KubeClient, KubeClientOptions, KubeError, KubeObject, KubeResponse } from '../../providers/_kube';

export { KubeError };
export type { KubeObject };

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

  /** Server-side apply as the test's own field manager, unless told otherwise. */
  public override apply(obj: KubeObject, options: ApplyOptions = {}): Promise<KubeObject> {
    return super.apply(obj, { fieldManager: 'inferkit-test', ...options });
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
