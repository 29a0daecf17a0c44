import { Issues, SpecIssue } from './errors';
import { checkWorkloads } from './limits';
import { Manifest, ManifestMetadata, readManifest } from './manifests';

/** The KubeDL kind the InferenceService loader reads. */
export const INFERENCE_KIND = { apiVersion: 'serving.kubedl.io/v1alpha1', kind: 'Inference' } as const;

/** KubeDL's ModelVersion: the image its model builder made of a model's files, which Inference predictors load. */
export const MODEL_VERSION_KIND = { apiVersion: 'model.kubedl.io/v1alpha1', kind: 'ModelVersion' } as const;

/** The object an Inference predictor's `autoScale.autoScaler` refers to (a core ObjectReference). */
export interface LoadedAutoScalerRef {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

/** One predictor read from a manifest; its pod template stays JSON. */
export interface LoadedPredictor {
  readonly name: string;
  readonly modelVersion?: string;
  readonly modelPath?: string;
  readonly replicas?: number;
  readonly trafficPercentage?: number;
  /** The autoscaling range; absent when the manifest gives no `autoScale`, or one without `maxReplicas` (a warning). */
  readonly autoScale?: { readonly minReplicas?: number; readonly maxReplicas: number };
  readonly batching?: { readonly batchSize: number; readonly timeoutSeconds?: number };
  readonly template: Manifest;
}

/** A KubeDL Inference read from a manifest. */
export interface LoadedInference extends ManifestMetadata {
  readonly framework: string;
  readonly predictors: readonly LoadedPredictor[];
  /** Where inferkit runs the Inference differently from KubeDL's controller: what differs, and the fix. */
  readonly warnings: readonly SpecIssue[];
}

/** A KubeDL ModelVersion read from a manifest: what an Inference predictor needs of it. */
export interface LoadedModelVersion extends ManifestMetadata {
  /** The model's name (`spec.modelName`); TF Serving predictors get it as `MODEL_NAME`. */
  readonly modelName?: string;
  /**
   * The model image, `<spec.imageRepo>:<spec.imageTag>`; undefined without a tag (KubeDL then generates one when it
   * builds the image, and only its status, which the API server populates and inferkit ignores, records it).
   */
  readonly image?: string;
}

const OBJECT_REFERENCE_FIELDS = ['apiVersion', 'fieldPath', 'kind', 'name', 'namespace', 'resourceVersion', 'uid'];

/**
 * Reads a KubeDL `serving.kubedl.io/v1alpha1` Inference. The traffic share is read from `trafficPercentage`
 * (the seed document's spelling) or `trafficWeight` (KubeDL's CRD); giving both is an error. KubeDL's controller
 * leaves `autoScale` to the autoscaler `autoScale.autoScaler` refers to; inferkit renders a HorizontalPodAutoscaler of
 * its own from `minReplicas` and `maxReplicas` instead, and says so in a warning (as it does for an `autoScale`
 * without `maxReplicas`, which no autoscaler can honour: the predictor keeps its fixed replicas). Unknown fields are
 * errors.
 *
 * @throws SpecError listing every problem found
 */
export function loadInferenceManifest(doc: Manifest): LoadedInference {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['framework', 'predictors']);
  const framework = r.str(s.framework, 'spec.framework');
  issues.check(framework !== undefined, 'spec.framework', undefined, 'is missing', 'Name the framework, such as TFServing');

  const listed = r.arr(s.predictors, 'spec.predictors');
  // Refused before each is read: reading tens of thousands takes seconds.
  if (!checkWorkloads(issues, 'spec.predictors', undefined, `${listed.length} predictors`, listed.length, 'Deployments')) issues.throwIfAny();
  const predictors = listed.map((raw, i): LoadedPredictor => {
    const f = `spec.predictors[${i}]`;
    const p = r.obj(raw, f, ['name', 'modelVersion', 'modelPath', 'replicas', 'trafficPercentage', 'trafficWeight', 'autoScale', 'batching', 'template']);
    const name = r.str(p.name, `${f}.name`) ?? '';
    issues.check(p.trafficPercentage === undefined || p.trafficWeight === undefined, `${f}.trafficWeight`, p.trafficWeight,
      'is given beside trafficPercentage; they are two spellings of one field', 'Keep one of them');
    const replicas = r.int(p.replicas, `${f}.replicas`);
    const autoScale = p.autoScale === undefined ? undefined : readAutoScale(issues, r, p.autoScale, `${f}.autoScale`, `${meta.name}-${name}`, replicas);
    let batching: LoadedPredictor['batching'];
    if (p.batching !== undefined) {
      const b = r.obj(p.batching, `${f}.batching`, ['batchSize', 'timeoutSeconds']);
      const batchSize = r.int(b.batchSize, `${f}.batching.batchSize`);
      issues.check(batchSize !== undefined, `${f}.batching.batchSize`, undefined, 'is missing', 'Give the largest batch');
      batching = { batchSize: batchSize ?? 1, timeoutSeconds: r.int(b.timeoutSeconds, `${f}.batching.timeoutSeconds`) };
    }
    issues.check(p.template !== undefined, `${f}.template`, undefined, 'is missing', 'Add the pod template of the predictor');
    return {
      name,
      modelVersion: r.str(p.modelVersion, `${f}.modelVersion`),
      modelPath: r.str(p.modelPath, `${f}.modelPath`),
      replicas,
      trafficPercentage: r.int(p.trafficPercentage ?? p.trafficWeight, `${f}.${p.trafficWeight !== undefined ? 'trafficWeight' : 'trafficPercentage'}`),
      autoScale,
      batching,
      template: (p.template ?? {}) as Manifest,
    };
  });
  issues.throwIfAny();
  return { ...meta, framework: framework!, predictors, warnings: issues.warnings };
}

/** Reads a predictor's `autoScale`, warning where inferkit's HorizontalPodAutoscaler differs from what KubeDL would leave. */
function readAutoScale(issues: Issues, r: ReturnType<typeof readManifest>['r'], raw: unknown, f: string, deployment: string, replicas?: number) {
  const a = r.obj(raw, f, ['minReplicas', 'maxReplicas', 'autoScaler']);
  const min = r.int(a.minReplicas, `${f}.minReplicas`);
  const max = r.int(a.maxReplicas, `${f}.maxReplicas`);
  if (a.autoScaler !== undefined) {
    const ref = r.obj(a.autoScaler, `${f}.autoScaler`, OBJECT_REFERENCE_FIELDS);
    const kind = r.str(ref.kind, `${f}.autoScaler.kind`);
    const name = r.str(ref.name, `${f}.autoScaler.name`);
    if (max !== undefined && (kind !== undefined || name !== undefined)) {
      issues.warn(`${f}.autoScaler`, a.autoScaler,
        `refers to ${kind ?? 'an autoscaler'}${name === undefined ? '' : ` ${name}`}, which inferkit neither renders nor manages; `
        + `it renders its own HorizontalPodAutoscaler ${deployment} (${min ?? 1} to ${max} replicas, at 80% CPU utilisation) in its place`,
        `Remove autoScaler to use inferkit's autoscaler, or remove autoScale and point your own autoscaler at Deployment ${deployment}`);
    }
  }
  if (max === undefined) {
    issues.warn(`${f}.maxReplicas`, undefined, `is missing, so no autoscaler can be rendered: Deployment ${deployment} keeps a fixed ${replicas ?? 1} replica(s)`,
      'Give maxReplicas to autoscale the predictor');
    return undefined;
  }
  return { minReplicas: min, maxReplicas: max };
}

/**
 * Reads a KubeDL `model.kubedl.io/v1alpha1` ModelVersion: its name, model name and image (`spec.storage` and
 * `spec.createdBy` describe how KubeDL builds the image, which inferkit does not). Unknown spec fields are errors; the
 * status is ignored.
 *
 * @throws SpecError listing every problem found
 */
export function loadModelVersionManifest(doc: Manifest): LoadedModelVersion {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['modelName', 'createdBy', 'storage', 'imageRepo', 'imageTag']);
  const modelName = r.str(s.modelName, 'spec.modelName');
  const repo = r.str(s.imageRepo, 'spec.imageRepo');
  const tag = r.str(s.imageTag, 'spec.imageTag');
  issues.throwIfAny();
  return { ...meta, modelName, image: repo !== undefined && tag !== undefined ? `${repo}:${tag}` : undefined };
}
