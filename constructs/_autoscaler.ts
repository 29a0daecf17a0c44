import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { ScaledObject, ScaledObjectSpecTriggers } from '../imports/keda.sh';
import { compareStrings, isQuantity, Issues, parseQuantity } from '../src';
import { INT32_MAX } from '../src/limits';

/** Records the starting size of an autoscaled workload, which leaves `replicas` to its autoscaler. */
export const INITIAL_REPLICAS = 'autoscaling.inferkit.dev/initial-replicas';

const DEFAULT_CPU_TARGET = 80;

/** What an `autoscaling/v2` HorizontalPodAutoscaler of ours is made from. */
export interface AutoscalerSpec {
  readonly minReplicas?: number;
  readonly maxReplicas: number;
  readonly targetCPUUtilizationPercentage?: number;
  readonly metrics?: k8s.MetricSpecV2[];
  /** Serve Pods and External metrics from Prometheus through KEDA (which then owns the HPA). @default - an HPA */
  readonly prometheus?: PrometheusSource;
}

/** Where KEDA reads the metrics an HPA cannot serve without a metrics adapter. */
export interface PrometheusSource {
  /** Address of the Prometheus HTTP API, such as `http://prometheus.monitoring:9090`. */
  readonly serverAddress: string;
}

/** Checks an autoscaling range, and that a starting size beside it lies within it. */
export function checkAutoscaler(issues: Issues, field: string, a: AutoscalerSpec, replicasField: string, replicas?: number): void {
  const min = a.minReplicas ?? 1;
  issues.check(Number.isInteger(min) && min >= 1 && Number.isInteger(a.maxReplicas) && a.maxReplicas >= min, field,
    { minReplicas: min, maxReplicas: a.maxReplicas }, 'is not a range of replicas', 'Use 1 <= minReplicas <= maxReplicas');
  issues.check(!(a.maxReplicas > INT32_MAX), `${field}.maxReplicas`, a.maxReplicas, `is more than ${INT32_MAX}, the largest int32 Kubernetes accepts`, `Use 1 to ${INT32_MAX}`);
  issues.check(replicas === undefined || (replicas >= min && replicas <= a.maxReplicas), replicasField, replicas,
    `is outside the autoscaler's range ${min}..${a.maxReplicas}`, 'Give a starting size within the range, or remove replicas');
}

/**
 * The autoscaler of Deployment `deployment`: CPU utilisation (default 80%) unless other metrics alone are given, plus
 * those. An `autoscaling/v2` HPA, or with `prometheus` a KEDA ScaledObject whose triggers query Prometheus for the
 * Pods and External metrics (KEDA creates and owns the HPA).
 */
export function renderAutoscaler(
  scope: Construct, id: string, metadata: k8s.ObjectMeta, deployment: string, a: AutoscalerSpec, issues: Issues, field: string,
): void {
  const cpu: k8s.MetricSpecV2[] = a.targetCPUUtilizationPercentage !== undefined || !a.metrics?.length
    ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage ?? DEFAULT_CPU_TARGET } } }]
    : [];
  if (a.prometheus) {
    const metrics = [...cpu, ...(a.metrics ?? [])];
    const triggers = metrics.map((m, i) => kedaTrigger(issues, `${field}.metrics[${i - cpu.length}]`, m, a.prometheus!, metadata.namespace, deployment));
    issues.check(/^https?:\/\/[^\s/]+/.test(a.prometheus.serverAddress ?? ''), `${field}.prometheus.serverAddress`, a.prometheus.serverAddress,
      'is not an http(s) address', 'Give the Prometheus HTTP API address, such as http://prometheus.monitoring:9090');
    new ScaledObject(scope, id, {
      metadata,
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
        minReplicaCount: a.minReplicas ?? 1,
        maxReplicaCount: a.maxReplicas,
        triggers: triggers.filter((t): t is ScaledObjectSpecTriggers => t !== undefined),
      },
    });
    return;
  }
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

const PROMETHEUS_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A quantity as the decimal number KEDA reads: `500m` is `0.5`. */
function decimal(quantity: string | number): string {
  const nanos = parseQuantity(quantity);
  const whole = nanos / 1_000_000_000n;
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

/** A PromQL label matcher list from a label selector's matchLabels (escaped), plus our own matchers. */
function matchers(issues: Issues, field: string, selector: k8s.LabelSelector | undefined, own: string[]): string {
  issues.check(!selector?.matchExpressions?.length, `${field}.selector.matchExpressions`, selector?.matchExpressions?.length,
    'cannot become a Prometheus query', 'Select the series with matchLabels');
  const labels = Object.entries(selector?.matchLabels ?? {}).sort(([x], [y]) => compareStrings(x, y)).map(([k, v]) => {
    issues.check(LABEL_NAME.test(k), `${field}.selector.matchLabels`, k, 'is not a Prometheus label name', 'Use letters, digits and underscores');
    return `${k}=${JSON.stringify(v)}`;
  });
  return [...own, ...labels].join(',');
}

/** One metric as a KEDA trigger: cpu/memory as KEDA's resource scalers, Pods and External metrics as Prometheus queries. */
function kedaTrigger(
  issues: Issues, field: string, m: k8s.MetricSpecV2, prometheus: PrometheusSource, namespace: string | undefined, deployment: string,
): ScaledObjectSpecTriggers | undefined {
  const target = m.resource?.target ?? m.pods?.target ?? m.external?.target;
  const value = target?.averageValue?.value ?? target?.value?.value;
  if (value !== undefined && !issues.check(isQuantity(value), `${field}.target`, value, 'is not a quantity', 'Give a number or a quantity such as 500m')) return undefined;
  if (m.type === 'Resource' && m.resource) {
    return target?.type === 'Utilization'
      ? { type: m.resource.name, metricType: 'Utilization', metadata: { value: String(target.averageUtilization) } }
      : { type: m.resource.name, metricType: 'AverageValue', metadata: { value: decimal(value!) } };
  }
  const source = m.type === 'Pods' ? m.pods : m.type === 'External' ? m.external : undefined;
  if (!source) {
    issues.add(`${field}.type`, m.type, 'cannot be served by KEDA from Prometheus: an Object metric describes another Kubernetes object',
      'Use a Pods or External metric, or remove prometheus to leave the metric to the cluster\'s metrics adapter');
    return undefined;
  }
  const name = source.metric.name;
  issues.check(PROMETHEUS_NAME.test(name), `${field}.metric.name`, name, 'is not a Prometheus metric name', 'Give the series name, such as vllm:num_requests_waiting');
  if (!issues.check(value !== undefined, `${field}.target`, target?.type, 'has no value to scale on', 'Give target.averageValue (or target.value for an External metric)')) return undefined;
  // Pods metrics are the Deployment's own pods: per pod on average, which KEDA's AverageValue divides by the replicas.
  const own = m.type === 'Pods' ? [`namespace=${JSON.stringify(namespace ?? 'default')}`, `pod=~${JSON.stringify(`${deployment}-[a-z0-9]+-[a-z0-9]+`)}`] : [];
  const metricType = target?.type === 'Value' ? 'Value' : 'AverageValue';
  issues.check(m.type === 'External' || metricType === 'AverageValue', `${field}.target.type`, target?.type, 'is not AverageValue: a Pods metric is averaged over the pods',
    'Use AverageValue');
  return {
    type: 'prometheus',
    metricType,
    metadata: {
      serverAddress: prometheus.serverAddress,
      query: `sum(${name}{${matchers(issues, field, source.metric.selector, own)}})`,
      threshold: decimal(value!),
    },
  };
}
