import { Manifest, ManifestMetadata, readManifest } from './manifests';

/** The Modelplane kind the ModelReplica loader reads. */
export const MODEL_REPLICA_KIND = { apiVersion: 'modelplane.ai/v1alpha1', kind: 'ModelReplica' } as const;

/** A device request of an engine member, as written. */
export interface LoadedDeviceRequest {
  readonly name: string;
  readonly deviceClassName: string;
  readonly count?: number;
  readonly selectors?: string[];
}

/** An engine member, its pod template left as JSON. */
export interface LoadedEngineMember {
  readonly role?: string;
  readonly nodePoolName: string;
  readonly deviceRequests?: LoadedDeviceRequest[];
  readonly workerNodes?: number;
  readonly template: Manifest;
}

/** An engine of a replica. */
export interface LoadedEngine {
  readonly name: string;
  readonly copies?: number;
  readonly phase?: string;
  readonly members: LoadedEngineMember[];
}

/** A Modelplane ModelReplica read from a manifest. */
export interface LoadedModelReplica extends ManifestMetadata {
  readonly clusterName: string;
  readonly engines: ReadonlyArray<LoadedEngine>;
}

/**
 * Reads a Modelplane `modelplane.ai/v1alpha1` ModelReplica (placement already resolved). Unknown fields are errors;
 * `modelCacheRef` and PrefillDecode serving are refused until inferkit renders ModelCaches and InferencePools.
 *
 * @throws SpecError listing every problem found
 */
export function loadModelReplica(doc: Manifest): LoadedModelReplica {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['clusterName', 'modelCacheRef', 'serving', 'engines']);
  const clusterName = r.str(s.clusterName, 'spec.clusterName');
  issues.check(clusterName !== undefined, 'spec.clusterName', undefined, 'is missing', 'Name the cluster the replica is pinned to');
  if (s.modelCacheRef !== undefined) {
    issues.add('spec.modelCacheRef', s.modelCacheRef, 'refers to a ModelCache, which inferkit does not render yet', 'Remove it and mount the model with the engine template');
  }
  if (s.serving !== undefined) {
    const mode = r.str(r.obj(s.serving, 'spec.serving', ['mode']).mode, 'spec.serving.mode');
    issues.check(mode === undefined || mode === 'Unified', 'spec.serving.mode', mode, 'is not supported yet: inferkit renders Unified serving (a Service)', 'Use Unified');
  }
  const engines = r.arr(s.engines, 'spec.engines').map((raw, e) => {
    const f = `spec.engines[${e}]`;
    const o = r.obj(raw, f, ['name', 'copies', 'phase', 'members']);
    return {
      name: r.str(o.name, `${f}.name`) ?? '',
      copies: r.int(o.copies, `${f}.copies`),
      phase: r.str(o.phase, `${f}.phase`),
      members: r.arr(o.members, `${f}.members`).map((rawMember, i): LoadedEngineMember => {
        const mf = `${f}.members[${i}]`;
        const m = r.obj(rawMember, mf, ['role', 'nodePoolName', 'deviceRequests', 'worker', 'template']);
        const worker = m.worker === undefined ? undefined : r.obj(m.worker, `${mf}.worker`, ['nodes']);
        // The curated template: one container with image, command, args, env; pull secrets; metadata.
        const t = r.obj(m.template, `${mf}.template`, ['metadata', 'spec']);
        r.obj(t.metadata, `${mf}.template.metadata`, ['labels', 'annotations']);
        const ts = r.obj(t.spec, `${mf}.template.spec`, ['containers', 'imagePullSecrets']);
        r.arr(ts.containers, `${mf}.template.spec.containers`).forEach((c, k) =>
          r.obj(c, `${mf}.template.spec.containers[${k}]`, ['name', 'image', 'command', 'args', 'env']));
        return {
          role: r.str(m.role, `${mf}.role`),
          nodePoolName: r.str(m.nodePoolName, `${mf}.nodePoolName`) ?? '',
          workerNodes: worker === undefined ? undefined : r.int(worker.nodes, `${mf}.worker.nodes`),
          deviceRequests: m.deviceRequests === undefined ? undefined : r.arr(m.deviceRequests, `${mf}.deviceRequests`).map((rawReq, j) => {
            const rf = `${mf}.deviceRequests[${j}]`;
            const q = r.obj(rawReq, rf, ['name', 'deviceClassName', 'count', 'selectors']);
            return {
              name: r.str(q.name, `${rf}.name`) ?? '',
              deviceClassName: r.str(q.deviceClassName, `${rf}.deviceClassName`) ?? '',
              count: r.int(q.count, `${rf}.count`),
              selectors: q.selectors === undefined ? undefined
                : r.arr(q.selectors, `${rf}.selectors`).map((sel, k) => r.str(r.obj(sel, `${rf}.selectors[${k}]`, ['cel']).cel, `${rf}.selectors[${k}].cel`) ?? ''),
            };
          }),
          template: (m.template ?? {}) as Manifest,
        };
      }),
    };
  });
  issues.throwIfAny();
  return { ...meta, clusterName: clusterName!, engines };
}
