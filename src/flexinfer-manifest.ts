import { Manifest, ManifestMetadata, readManifest } from './manifests';

/** The FlexInfer kind the Model loader reads. */
export const FLEXINFER_MODEL_KIND = { apiVersion: 'ai.flexinfer/v1alpha2', kind: 'Model' } as const;

/** A FlexInfer Model read from a manifest, with durations in seconds and sizes in MiB. */
export interface LoadedFlexInferModel extends ManifestMetadata {
  readonly backend: string;
  readonly source: string;
  readonly gpu?: { vendor?: 'auto' | 'nvidia' | 'amd' | 'cpu'; count?: number; shared?: string; priority?: number; vramEstimateMB?: number };
  readonly serverless?: { enabled?: boolean; idleTimeoutSeconds?: number; coldStartTimeoutSeconds?: number };
  readonly cache?: { strategy: string; pvcName?: string; storageClass?: string; sizeMiB?: number };
  readonly config?: Record<string, unknown>;
  readonly resources?: Manifest;
  readonly nodeSelector?: Record<string, string>;
  readonly litellm?: { modelName?: string; aliases?: string[] };
  readonly serviceLabels?: string[];
}

const DURATION = /^(\d+h)?(\d+m)?(\d+s)?$/;
const SIZE = /^(\d+)(Mi|Gi|Ti)$/;

/** Seconds of a Go duration such as `5m`, `1h30m` or `90s`, or undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === '') return undefined;
  return (parseInt(m[1] ?? '0', 10) * 3600) + (parseInt(m[2] ?? '0', 10) * 60) + parseInt(m[3] ?? '0', 10);
}

/**
 * Reads a FlexInfer `ai.flexinfer/v1alpha2` Model (the seed document is its contract). Unknown fields are errors.
 *
 * @throws SpecError listing every problem found
 */
export function loadFlexInferModel(doc: Manifest): LoadedFlexInferModel {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['backend', 'source', 'gpu', 'serverless', 'cache', 'config', 'resources', 'nodeSelector', 'litellm', 'serviceLabels']);
  const backend = r.str(s.backend, 'spec.backend');
  const source = r.str(s.source, 'spec.source');
  issues.check(backend !== undefined, 'spec.backend', undefined, 'is missing', 'Name the backend, such as vllm or ollama');
  issues.check(source !== undefined, 'spec.source', undefined, 'is missing', 'Give the model source, such as hf://org/model');

  const duration = (v: unknown, field: string): number | undefined => {
    const text = r.str(v, field);
    if (text === undefined) return undefined;
    const seconds = durationSeconds(text);
    issues.check(seconds !== undefined, field, text, 'is not a duration', 'Write it like 5m, 90s or 1h30m');
    return seconds;
  };

  let gpu: LoadedFlexInferModel['gpu'];
  if (s.gpu !== undefined) {
    const g = r.obj(s.gpu, 'spec.gpu', ['vendor', 'count', 'shared', 'priority', 'vramEstimateMB']);
    const vendor = r.str(g.vendor, 'spec.gpu.vendor');
    if (vendor !== undefined) issues.check(['auto', 'nvidia', 'amd', 'cpu'].includes(vendor), 'spec.gpu.vendor', vendor, 'is not a vendor', 'Use auto, nvidia, amd or cpu');
    gpu = {
      vendor: vendor as 'auto' | 'nvidia' | 'amd' | 'cpu' | undefined,
      count: r.int(g.count, 'spec.gpu.count'),
      shared: r.str(g.shared, 'spec.gpu.shared'),
      priority: r.int(g.priority, 'spec.gpu.priority'),
      vramEstimateMB: r.int(g.vramEstimateMB, 'spec.gpu.vramEstimateMB'),
    };
  }
  let serverless: LoadedFlexInferModel['serverless'];
  if (s.serverless !== undefined) {
    const v = r.obj(s.serverless, 'spec.serverless', ['enabled', 'idleTimeout', 'coldStartTimeout']);
    if (v.enabled !== undefined) issues.check(typeof v.enabled === 'boolean', 'spec.serverless.enabled', v.enabled, 'is not true or false', 'Write true or false');
    serverless = {
      enabled: v.enabled as boolean | undefined,
      idleTimeoutSeconds: duration(v.idleTimeout, 'spec.serverless.idleTimeout'),
      coldStartTimeoutSeconds: duration(v.coldStartTimeout, 'spec.serverless.coldStartTimeout'),
    };
  }
  let cache: LoadedFlexInferModel['cache'];
  if (s.cache !== undefined) {
    const c = r.obj(s.cache, 'spec.cache', ['strategy', 'pvcName', 'storageClass', 'size']);
    const strategy = r.str(c.strategy, 'spec.cache.strategy') ?? '';
    issues.check(['Memory', 'SharedPVC', 'None'].includes(strategy), 'spec.cache.strategy', strategy, 'is not a cache strategy', 'Use Memory, SharedPVC or None');
    const size = r.str(c.size, 'spec.cache.size');
    const sm = size === undefined ? undefined : SIZE.exec(size);
    if (size !== undefined) issues.check(sm !== null, 'spec.cache.size', size, 'is not a size in Mi, Gi or Ti', 'Write it like 100Gi');
    cache = {
      strategy,
      pvcName: r.str(c.pvcName, 'spec.cache.pvcName'),
      storageClass: r.str(c.storageClass, 'spec.cache.storageClass'),
      sizeMiB: sm ? parseInt(sm[1], 10) * { Mi: 1, Gi: 1024, Ti: 1024 * 1024 }[sm[2] as 'Mi' | 'Gi' | 'Ti'] : undefined,
    };
  }
  let litellm: LoadedFlexInferModel['litellm'];
  if (s.litellm !== undefined) {
    const l = r.obj(s.litellm, 'spec.litellm', ['modelName', 'aliases']);
    litellm = { modelName: r.str(l.modelName, 'spec.litellm.modelName'), aliases: r.arr(l.aliases, 'spec.litellm.aliases').map(String) };
  }
  const config = s.config === undefined ? undefined : r.obj(s.config, 'spec.config', Object.keys((s.config ?? {}) as object));
  const nodeSelector = s.nodeSelector === undefined ? undefined : r.stringMap(s.nodeSelector, 'spec.nodeSelector');
  const serviceLabels = s.serviceLabels === undefined ? undefined : r.arr(s.serviceLabels, 'spec.serviceLabels').map(String);
  issues.throwIfAny();
  return {
    ...meta,
    backend: backend!,
    source: source!,
    gpu,
    serverless,
    cache,
    config,
    resources: s.resources as Manifest | undefined,
    nodeSelector,
    litellm,
    serviceLabels,
  };
}
