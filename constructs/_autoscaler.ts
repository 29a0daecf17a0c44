import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { Issues } from '../src';

/** Records the starting size of an autoscaled workload, which leaves `replicas` to its autoscaler. */
export const INITIAL_REPLICAS = 'autoscaling.inferkit.dev/initial-replicas';

const DEFAULT_CPU_TARGET = 80;

/** What an `autoscaling/v2` HorizontalPodAutoscaler of ours is made from. */
export interface AutoscalerSpec {
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  readonly targetCPUUtilizationPercentage?: number;
  readonly metrics?: k8s.MetricSpecV2[];
}

/** Checks an autoscaling range, and that a starting size beside it lies within it. */
export function checkAutoscaler(issues: Issues, field: string, a: AutoscalerSpec, replicasField: string, replicas?: number): void {
  const min = a.minReplicas ?? 1;
  issues.check(Number.isInteger(min) && min >= 1 && Number.isInteger(a.maxReplicas) && a.maxReplicas >= min, field,
    { minReplicas: min, maxReplicas: a.maxReplicas }, 'is not a range of replicas', 'Use 1 <= minReplicas <= maxReplicas');
  issues.check(replicas === undefined || (replicas >= min && replicas <= a.maxReplicas), replicasField, replicas,
    `is outside the autoscaler's range ${min}..${a.maxReplicas}`, 'Give a starting size within the range, or remove replicas');
}

/** An HPA for Deployment `deployment`: CPU utilisation (default 80%) unless other metrics alone are given, plus those. */
export function renderAutoscaler(scope: Construct, id: string, metadata: k8s.ObjectMeta, deployment: string, a: AutoscalerSpec): void {
  const cpu: k8s.MetricSpecV2[] = a.targetCPUUtilizationPercentage !== undefined || !a.metrics?.length
    ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage ?? DEFAULT_CPU_TARGET } } }]
    : [];
  new k8s.KubeHorizontalPodAutoscalerV2(scope, id, {
    metadata,
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
      minReplicas: a.minReplicas ?? 1,
      maxReplicas: a.maxReplicas,
      metrics: [...cpu, ...(a.metrics ?? [])],
    },
  });
}
