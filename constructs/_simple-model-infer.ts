import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { Issues, ModelInferLabels, revisionHash } from '../src';
import { checkAutoscaler, INITIAL_REPLICAS, PrometheusSource, renderAutoscaler } from './_autoscaler';
import { KthenaModel } from './kthena-model';
import { Model } from './model';
import { checkInteger } from '../src/limits';

/** Autoscaling of a simple-form ModelInfer (Kthena seed 000 `spec.autoscaling`). */
export interface ModelInferAutoscalingProps {
  /**
   * Whether the autoscaler runs.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Fewest replicas.
   *
   * @default 1
   */
  readonly minReplicas?: number;

  /** Most replicas. */
  readonly maxReplicas: number;

  /**
   * Average CPU utilisation to aim for.
   *
   * @default - 80 when no other metric is given
   */
  readonly targetCPUUtilizationPercentage?: number;

  /**
   * More `autoscaling/v2` metrics (Pods, Object, External).
   *
   * @default - none
   * @see https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v2/
   */
  readonly metrics?: k8s.MetricSpecV2[];

  /**
   * Serve the Pods and External metrics from Prometheus through KEDA: the autoscaler is then a KEDA ScaledObject whose
   * triggers query Prometheus (a Pods metric is summed over the Deployment's pods and averaged per pod), and KEDA
   * owns the HPA. Needed when the cluster runs no custom-metrics adapter for the HPA.
   *
   * @default - an HPA; its Pods, Object and External metrics are served by the cluster's metrics adapter
   */
  readonly prometheus?: PrometheusSource;
}

/** The simple form's own fields. */
export interface SimpleFormProps {
  readonly name: string;
  readonly namespace?: string;
  readonly modelRef: Model | KthenaModel;
  readonly replicas?: number;
  readonly autoscaling?: ModelInferAutoscalingProps;
  readonly resources?: k8s.ResourceRequirements;
  readonly nodeSelector?: Record<string, string>;
  readonly tolerations?: k8s.Toleration[];
  readonly affinity?: k8s.Affinity;
  readonly metadata: (name: string, labels?: Record<string, string>) => k8s.ObjectMeta;
  /** The autoscaler made elsewhere that owns the replicas, if any: read at synth. */
  readonly scaledBy: () => string | undefined;
}


/** Merges required node-affinity terms: each of ours is ANDed with every expression of the model's. */
function mergeAffinity(model: k8s.Affinity | undefined, ours: k8s.Affinity | undefined): k8s.Affinity | undefined {
  if (!ours) return model;
  const modelTerms = model?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const ourRequired = ours.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const extra = modelTerms.flatMap(t => t.matchExpressions ?? []);
  const required = ourRequired
    ? { nodeSelectorTerms: ourRequired.nodeSelectorTerms.map(t => ({ ...t, matchExpressions: [...(t.matchExpressions ?? []), ...extra] })) }
    : model?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return {
    ...model,
    ...ours,
    nodeAffinity: ours.nodeAffinity || model?.nodeAffinity
      ? { ...model?.nodeAffinity, ...ours.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: required }
      : undefined,
  };
}

/**
 * The simple form of ModelInfer (Kthena seed 000): it runs the referenced Model's pods, setting their count
 * (or an `autoscaling/v2` HorizontalPodAutoscaler that owns it), resources and placement. The pods are the
 * Model's, rendered by the same pod-template code as every other workload, plus the ModelInfer's labels. Returns the
 * name of the Deployment that runs them.
 */
export function renderSimpleForm(scope: Construct, p: SimpleFormProps, issues: Issues): string | undefined {
  // A Kthena Model is run through its one backend's Model, with the backend's adapters and environment kept.
  const model = p.modelRef instanceof KthenaModel ? p.modelRef._servingModel(issues) : p.modelRef;
  if (!model) return undefined;
  const auto = p.autoscaling && (p.autoscaling.enabled ?? true) ? p.autoscaling : undefined;
  if (p.autoscaling) checkAutoscaler(issues, 'autoscaling', p.autoscaling, 'replicas', auto ? p.replicas : undefined);
  const replicas = p.replicas ?? 1;
  checkInteger(issues, 'replicas', replicas, 'replicas');

  p.modelRef._bindWorkload({
    owner: scope.node.path,
    get replicas() {
      return auto || p.scaledBy() ? undefined : replicas;
    },
    template: base => {
      const spec = base.spec!;
      const [engine, ...rest] = spec.containers;
      const limits = { ...engine.resources?.limits, ...p.resources?.limits };
      const requests = { ...engine.resources?.requests, ...p.resources?.requests };
      const resources = p.resources ? { ...engine.resources, ...p.resources, limits, requests } : engine.resources;
      const podSpec: k8s.PodSpec = {
        ...spec,
        containers: [{ ...engine, resources }, ...rest],
        nodeSelector: p.nodeSelector ? { ...spec.nodeSelector, ...p.nodeSelector } : spec.nodeSelector,
        tolerations: p.tolerations ? [...(spec.tolerations ?? []), ...p.tolerations] : spec.tolerations,
        affinity: mergeAffinity(spec.affinity, p.affinity),
      };
      const revision = revisionHash(k8s.toJson_PodSpec(podSpec));
      const labels = { ...base.metadata?.labels, [ModelInferLabels.NAME]: p.name, [ModelInferLabels.REVISION]: revision };
      return { metadata: { ...base.metadata, labels }, spec: podSpec };
    },
  }, issues);
  for (const [name, q] of Object.entries({ ...p.resources?.requests, ...p.resources?.limits })) {
    if (!/\/gpu$/.test(name)) continue;
    issues.check(model.gpus?.resourceName === name && String(model.gpus.count) === String(q.value), `resources.${name}`, q.value,
      `differs from Model ${model.name}, which asks for ${model.gpus ? `${model.gpus.count} ${model.gpus.resourceName}` : 'no GPU'}`,
      'Set GPUs on the Model, and remove them here or make them agree');
  }
  for (const [k, v] of Object.entries(p.nodeSelector ?? {})) {
    const own = model.nodeSelector?.[k];
    issues.check(own === undefined || own === v, `nodeSelector.${k}`, v, `contradicts Model ${model.name}, which selects ${k}=${own}`, 'Remove it or make them agree');
  }

  if (auto) {
    const meta = p.metadata(p.name, { [ModelInferLabels.NAME]: p.name });
    // A starting size beside an autoscaler is recorded, not applied: the autoscaler owns the count.
    const metadata = p.replicas === undefined ? meta : { ...meta, annotations: { ...meta.annotations, [INITIAL_REPLICAS]: String(p.replicas) } };
    renderAutoscaler(scope, 'hpa', metadata, model.name, auto, issues, 'autoscaling');
  }
  return model.name;
}
