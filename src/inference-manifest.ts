import { Manifest, ManifestMetadata, readManifest } from './manifests';

/** The KubeDL kind the InferenceService loader reads. */
export const INFERENCE_KIND = { apiVersion: 'serving.kubedl.io/v1alpha1', kind: 'Inference' } as const;

/** One predictor read from a manifest; its pod template stays JSON. */
export interface LoadedPredictor {
  readonly name: string;
  readonly modelVersion?: string;
  readonly modelPath?: string;
  readonly replicas?: number;
  readonly trafficPercentage?: number;
  readonly autoScale?: { readonly minReplicas?: number; readonly maxReplicas: number };
  readonly batching?: { readonly batchSize: number; readonly timeoutSeconds?: number };
  readonly template: Manifest;
}

/** A KubeDL Inference read from a manifest. */
export interface LoadedInference extends ManifestMetadata {
  readonly framework: string;
  readonly predictors: readonly LoadedPredictor[];
}

/**
 * Reads a KubeDL `serving.kubedl.io/v1alpha1` Inference. The traffic share is read from `trafficPercentage`
 * (the seed document's spelling) or `trafficWeight` (KubeDL's later CRD); giving both is an error.
 * `autoScale.autoScaler` (a reference to an autoscaler KubeDL would manage) is refused: inferkit renders the
 * HorizontalPodAutoscaler itself. Unknown fields are errors.
 *
 * @throws SpecError listing every problem found
 */
export function loadInferenceManifest(doc: Manifest): LoadedInference {
  const { issues, r, meta } = readManifest(doc);
  const s = r.obj(doc.spec, 'spec', ['framework', 'predictors']);
  const framework = r.str(s.framework, 'spec.framework');
  issues.check(framework !== undefined, 'spec.framework', undefined, 'is missing', 'Name the framework, such as TFServing');

  const predictors = r.arr(s.predictors, 'spec.predictors').map((raw, i): LoadedPredictor => {
    const f = `spec.predictors[${i}]`;
    const p = r.obj(raw, f, ['name', 'modelVersion', 'modelPath', 'replicas', 'trafficPercentage', 'trafficWeight', 'autoScale', 'batching', 'template']);
    issues.check(p.trafficPercentage === undefined || p.trafficWeight === undefined, `${f}.trafficWeight`, p.trafficWeight,
      'is given beside trafficPercentage; they are two spellings of one field', 'Keep one of them');
    let autoScale: LoadedPredictor['autoScale'];
    if (p.autoScale !== undefined) {
      const a = r.obj(p.autoScale, `${f}.autoScale`, ['minReplicas', 'maxReplicas', 'autoScaler']);
      if (a.autoScaler !== undefined) {
        issues.add(`${f}.autoScale.autoScaler`, a.autoScaler, 'refers to an autoscaler for KubeDL to manage; inferkit renders its own HorizontalPodAutoscaler',
          'Remove autoScaler and give minReplicas and maxReplicas');
      }
      const max = r.int(a.maxReplicas, `${f}.autoScale.maxReplicas`);
      issues.check(max !== undefined, `${f}.autoScale.maxReplicas`, undefined, 'is missing', 'Give the largest number of replicas');
      autoScale = { minReplicas: r.int(a.minReplicas, `${f}.autoScale.minReplicas`), maxReplicas: max ?? 1 };
    }
    let batching: LoadedPredictor['batching'];
    if (p.batching !== undefined) {
      const b = r.obj(p.batching, `${f}.batching`, ['batchSize', 'timeoutSeconds']);
      const batchSize = r.int(b.batchSize, `${f}.batching.batchSize`);
      issues.check(batchSize !== undefined, `${f}.batching.batchSize`, undefined, 'is missing', 'Give the largest batch');
      batching = { batchSize: batchSize ?? 1, timeoutSeconds: r.int(b.timeoutSeconds, `${f}.batching.timeoutSeconds`) };
    }
    issues.check(p.template !== undefined, `${f}.template`, undefined, 'is missing', 'Add the pod template of the predictor');
    return {
      name: r.str(p.name, `${f}.name`) ?? '',
      modelVersion: r.str(p.modelVersion, `${f}.modelVersion`),
      modelPath: r.str(p.modelPath, `${f}.modelPath`),
      replicas: r.int(p.replicas, `${f}.replicas`),
      trafficPercentage: r.int(p.trafficPercentage ?? p.trafficWeight, `${f}.${p.trafficWeight !== undefined ? 'trafficWeight' : 'trafficPercentage'}`),
      autoScale,
      batching,
      template: (p.template ?? {}) as Manifest,
    };
  });
  issues.throwIfAny();
  return { ...meta, framework: framework!, predictors };
}
