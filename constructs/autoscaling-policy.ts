import { Chart, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { checkName, isQuantity, Issues, Manifest, NameRule } from '../src';
import { ManifestSource, objectMeta, ObjectMetadataProps } from './_metadata';
import type { KthenaModel } from './kthena-model';
import type { ModelInfer } from './model-infer';
import { recordWarnings } from './warnings';
import { AUTOSCALING_POLICY_KINDS, LoadedPolicySpec, LoadedScalingRate, loadAutoscalingPolicy } from '../src/kthena-registry-manifest';
import { INT32_MAX } from '../src/limits';

/** How Kthena combines the count and the percentage limits of a scaling rate (its `selectPolicy`). */
export enum ScalingSelect {
  /** Either limit: the larger change is allowed (the HPA's `selectPolicy: Max`). */
  OR = 'Or',
  /** Both limits: the smaller change is allowed (the HPA's `selectPolicy: Min`). */
  AND = 'And',
}

/** How fast replicas may be added or removed (Kthena `stablePolicy` and `scaleDown`). */
export interface ScalingRateProps {
  /**
   * Most replicas added or removed per period; 0 sets no count limit.
   *
   * @default 1
   */
  readonly instances?: number;

  /**
   * Most replicas added or removed per period, as a percentage of the current count; 0 sets no percentage limit.
   *
   * @default 100
   */
  readonly percent?: number;

  /**
   * The period both limits apply to.
   *
   * @default Duration.seconds(15)
   */
  readonly period?: Duration;

  /**
   * Whether either limit or both apply.
   *
   * @default ScalingSelect.OR
   */
  readonly selectPolicy?: ScalingSelect;

  /**
   * How long recommendations are looked back on before acting.
   *
   * @default - the HPA's: none when scaling up, 5 minutes when scaling down
   * @see https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#stabilization-window
   */
  readonly stabilizationWindow?: Duration;
}

/**
 * Kthena's panic mode: when the wanted count jumps past `thresholdPercent` of the current one, scale up at `percent`
 * per `period` and hold the count for `hold`. The HPA has no panic mode: the panic rate becomes one more scale-up
 * policy (so it applies at any load, not only past the threshold), and the hold a scale-down stabilization window of
 * at least `hold`. A warning says so.
 */
export interface PanicPolicyProps {
  /**
   * Most replicas added per period in panic, as a percentage of the current count.
   *
   * @default 1000
   */
  readonly percent?: number;

  /**
   * The period of the panic rate.
   *
   * @default - the stable policy's period
   */
  readonly period?: Duration;

  /**
   * Wanted count, as a percentage of the current one, from which Kthena panics. Not honoured by the HPA (see above).
   *
   * @default 200
   */
  readonly thresholdPercent?: number;

  /**
   * How long the count is held after a panic.
   *
   * @default Duration.seconds(60)
   */
  readonly hold?: Duration;
}

/** A metric of a policy and its target value per pod. */
export interface PolicyMetricProps {
  /** The metric, as the cluster's custom metrics API serves it for the pods (such as `vllm:num_requests_waiting`). */
  readonly name: string;

  /** The average value per pod to aim for, a quantity such as `10` or `500m`. */
  readonly targetValue: string;
}

/** The scaling rules of a Kthena AutoscalingPolicy. */
export interface AutoscalingRulesProps {
  /** Metrics, each with its target value per pod; the HPA scales to the most replicas any of them asks for. */
  readonly metrics: PolicyMetricProps[];

  /**
   * Deviation from the target tolerated before scaling, in percent. The HPA's tolerance is the cluster's
   * (`--horizontal-pod-autoscaler-tolerance`, 10% by default): another value is a warning.
   *
   * @default 10
   */
  readonly tolerancePercent?: number;

  /**
   * How fast replicas are added.
   *
   * @default - the HPA's default scale-up rate
   */
  readonly scaleUp?: ScalingRateProps;

  /**
   * Panic mode of scaling up.
   *
   * @default - none
   */
  readonly panic?: PanicPolicyProps;

  /**
   * How fast replicas are removed.
   *
   * @default - the HPA's default scale-down rate
   */
  readonly scaleDown?: ScalingRateProps;
}

/** Props of an {@link AutoscalingPolicy}. */
export interface AutoscalingPolicyProps extends AutoscalingRulesProps {
  /**
   * Name of the HorizontalPodAutoscaler.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Namespace of the HorizontalPodAutoscaler.
   *
   * @default - the chart's namespace
   */
  readonly namespace?: string;

  /** What it scales: a simple-form ModelInfer, a KthenaModel backend, or a Deployment. */
  readonly target: ScaleTarget;

  /**
   * Fewest replicas. The HPA keeps at least 1: 0 (scale to zero) is a warning.
   *
   * @default 1
   */
  readonly minReplicas?: number;

  /** Most replicas. */
  readonly maxReplicas: number;

  /**
   * Labels and annotations of the HorizontalPodAutoscaler.
   *
   * @default - none
   */
  readonly metadata?: ObjectMetadataProps;

  /** @internal where the props came from (a manifest), for messages */
  readonly _source?: ManifestSource;
}

/** What an {@link AutoscalingPolicy} scales: one Deployment, whose replicas it then owns. */
export class ScaleTarget {
  /** A Deployment by name, whose replicas nothing else sets. */
  public static deployment(name: string): ScaleTarget {
    return new ScaleTarget(`Deployment ${name}`, () => ({ deployment: name }));
  }

  /**
   * A simple-form ModelInfer: its Model's Deployment, whose replicas the ModelInfer then leaves to the policy. A
   * roles-form ModelInfer, or one with its own autoscaling, is refused.
   */
  public static modelInfer(infer: ModelInfer): ScaleTarget {
    return new ScaleTarget(`ModelInfer ${infer.name}`, by => infer._scaledExternally(by));
  }

  /**
   * A backend of a KthenaModel: its Deployment `<model>-<backend>`, whose replicas the model then leaves to the policy.
   * A backend with its own autoscaling policy, or run by a ModelInfer, is refused.
   */
  public static kthenaBackend(model: KthenaModel, backend: string): ScaleTarget {
    return new ScaleTarget(`${model.name} backend ${backend}`, by => model._scaledExternally(backend, by));
  }

  private constructor(
    /** What is scaled, for messages. */
    public readonly description: string,
    private readonly claim: (by: string) => { deployment: string } | { cause: string; fix: string },
  ) {}

  /**
   * Hands the target's replicas to the autoscaler `by`: the Deployment, or why it cannot be scaled.
   *
   * @internal
   */
  public _claim(by: string): { deployment: string } | { cause: string; fix: string } {
    return this.claim(by);
  }
}

/** What a loaded AutoscalingPolicy scales. */
export interface AutoscalingPolicyManifestOptions {
  /** The Deployment the policy's target resolves to. */
  readonly deployment: string;

  /**
   * Name of the HPA.
   *
   * @default - the policy's name
   */
  readonly name?: string;

  /**
   * Fewest replicas (the target's).
   *
   * @default 1
   */
  readonly minReplicas?: number;

  /** Most replicas (the target's). */
  readonly maxReplicas: number;
}

const HPA_SCALE_DOWN_WINDOW = 300;

function rateRules(issues: Issues, field: string, rate: ScalingRateProps, extra: k8s.HpaScalingPolicyV2[] = []): k8s.HpaScalingRulesV2 {
  const period = (rate.period ?? Duration.seconds(15)).toSeconds();
  const instances = rate.instances ?? 1;
  const percent = rate.percent ?? 100;
  issues.check(period >= 1 && period <= 1800, `${field}.period`, `${period}s`, 'is outside the 1s to 30m an HPA policy period may be', 'Give a period from 1s to 30m');
  issues.check(Number.isInteger(instances) && instances >= 0, `${field}.instances`, instances, 'is not a count', 'Use 0 or more');
  issues.check(Number.isInteger(percent) && percent >= 0, `${field}.percent`, percent, 'is not a percentage', 'Use 0 or more');
  const policies: k8s.HpaScalingPolicyV2[] = [
    ...(instances > 0 ? [{ type: 'Pods', value: instances, periodSeconds: period }] : []),
    ...(percent > 0 ? [{ type: 'Percent', value: percent, periodSeconds: period }] : []),
    ...extra,
  ];
  const window = rate.stabilizationWindow?.toSeconds();
  issues.check(window === undefined || window <= 3600, `${field}.stabilizationWindow`, `${window}s`, 'is more than the hour an HPA stabilization window may be', 'Give at most 1h');
  return {
    policies,
    selectPolicy: policies.length === 0 ? 'Disabled' : (rate.selectPolicy ?? ScalingSelect.OR) === ScalingSelect.OR ? 'Max' : 'Min',
    stabilizationWindowSeconds: window,
  };
}

/**
 * The `autoscaling/v2` behavior of Kthena's scaling rules: each rate's count and percentage limits as Pods and Percent
 * policies (`Or` picks the larger change, `And` the smaller), the panic rate as one more scale-up policy, and the panic
 * hold as a scale-down stabilization window of at least that long. Records the approximations as warnings.
 */
export function hpaBehavior(issues: Issues, field: string, rules: AutoscalingRulesProps): k8s.HorizontalPodAutoscalerBehaviorV2 | undefined {
  const at = (f: string) => (field === '' ? f : `${field}.${f}`);
  const tolerance = rules.tolerancePercent ?? 10;
  if (tolerance !== 10) {
    issues.warn(at('tolerancePercent'), tolerance, 'is not 10: the HPA tolerates the cluster\'s deviation (--horizontal-pod-autoscaler-tolerance, 10% by default), not the policy\'s',
      'Set the controller manager\'s tolerance, or remove tolerancePercent');
  }
  const panic = rules.panic;
  let extra: k8s.HpaScalingPolicyV2[] = [];
  let hold: number | undefined;
  if (panic) {
    const percent = panic.percent ?? 1000;
    const period = (panic.period ?? rules.scaleUp?.period ?? Duration.seconds(15)).toSeconds();
    hold = (panic.hold ?? Duration.seconds(60)).toSeconds();
    issues.check(Number.isInteger(percent) && percent >= 1, at('panic.percent'), percent, 'is not a percentage', 'Use 1 or more');
    issues.check(period >= 1 && period <= 1800, at('panic.period'), `${period}s`, 'is outside the 1s to 30m an HPA policy period may be', 'Give a period from 1s to 30m');
    extra = [{ type: 'Percent', value: percent, periodSeconds: period }];
    issues.warn(at('panic'), `${percent}% per ${period}s past ${panic.thresholdPercent ?? 200}%, hold ${hold}s`,
      `has no HPA equivalent: the panic rate is one more scale-up policy, allowed at any load rather than only past the threshold, and the hold is a scale-down stabilization window of at least ${hold}s`,
      'Accept the approximation, or remove the panic policy and raise the stable rate');
  }
  if (!rules.scaleUp && !rules.scaleDown && !panic) return undefined;
  const scaleUp = rules.scaleUp || panic ? rateRules(issues, at('scaleUp'), rules.scaleUp ?? {}, extra) : undefined;
  const down = rules.scaleDown ? rateRules(issues, at('scaleDown'), rules.scaleDown) : undefined;
  const scaleDown = hold === undefined ? down
    : { ...down, stabilizationWindowSeconds: Math.max(down?.stabilizationWindowSeconds ?? HPA_SCALE_DOWN_WINDOW, hold) };
  return { scaleUp, scaleDown };
}

/** The `Pods` metrics of Kthena's policy metrics: each an average value per pod. */
export function podMetrics(issues: Issues, field: string, metrics: readonly PolicyMetricProps[]): k8s.MetricSpecV2[] {
  const at = (f: string) => (field === '' ? f : `${field}.${f}`);
  issues.check(metrics.length > 0, at('metrics'), metrics.length, 'is empty', 'Give at least one metric and its target value');
  return metrics.map((m, i) => {
    issues.check(/^[^/%]+$/.test(m.name) && m.name !== '.' && m.name !== '..', at(`metrics[${i}].name`), m.name,
      'is not a metric name the HPA accepts (no / or %)', 'Use the name your metrics adapter serves, such as vllm:num_requests_waiting');
    issues.check(isQuantity(m.targetValue), at(`metrics[${i}].targetValue`), m.targetValue, 'is not a quantity', 'Write it such as 10 or 500m');
    return { type: 'Pods', pods: { metric: { name: m.name }, target: { type: 'AverageValue', averageValue: k8s.Quantity.fromString(m.targetValue) } } };
  });
}

/** The field of a Kthena policy a prop of {@link AutoscalingRulesProps} comes from. @internal */
export function policyField(prop: string, metricName: 'name' | 'metricName' = 'metricName'): string {
  const fields: Record<string, string> = { scaleUp: 'behavior.scaleUp.stablePolicy', panic: 'behavior.scaleUp.panicPolicy', scaleDown: 'behavior.scaleDown' };
  return prop.replace(/^(scaleUp|panic|scaleDown)/, x => fields[x]).replace(/^(metrics\[\d+\])\.name$/, `$1.${metricName}`);
}

/** The policy's props from a loaded Kthena policy. @internal */
export function rulesOf(spec: LoadedPolicySpec): AutoscalingRulesProps {
  const rate = (r?: LoadedScalingRate): ScalingRateProps | undefined => r && {
    instances: r.instances,
    percent: r.percent,
    period: Duration.seconds(r.periodSeconds),
    selectPolicy: r.selectPolicy as ScalingSelect,
    stabilizationWindow: r.stabilizationWindowSeconds === undefined ? undefined : Duration.seconds(r.stabilizationWindowSeconds),
  };
  return {
    metrics: spec.metrics.map(m => ({ name: m.name, targetValue: m.targetValue })),
    tolerancePercent: spec.tolerancePercent,
    scaleUp: rate(spec.scaleUp),
    panic: spec.panic && {
      percent: spec.panic.percent,
      period: spec.panic.periodSeconds === undefined ? undefined : Duration.seconds(spec.panic.periodSeconds),
      thresholdPercent: spec.panic.panicThresholdPercent,
      hold: Duration.seconds(spec.panic.panicModeHoldSeconds),
    },
    scaleDown: rate(spec.scaleDown),
  };
}

/**
 * Kthena's AutoscalingPolicy (with its binding's target and range) as an `autoscaling/v2` HorizontalPodAutoscaler of
 * one Deployment: each metric a `Pods` metric averaged per pod (served by the cluster's custom metrics API, such as
 * prometheus-adapter, where Kthena's autoscaler scrapes the pods itself), the scaling rates as behavior
 * policies and stabilization windows. Where the HPA differs from Kthena's autoscaler (panic mode, tolerance, scale to zero), a warning
 * says how.
 */
export class AutoscalingPolicy extends Construct {
  /**
   * Loads a Kthena AutoscalingPolicy of either API generation as the HPA of `options.deployment`, the Deployment its
   * target (today's `homogeneousTarget`, or the ModelInfer era's binding) resolves to, between the target's replica counts.
   */
  public static fromManifest(scope: Construct, id: string, manifest: Manifest, options: AutoscalingPolicyManifestOptions): AutoscalingPolicy {
    const m = loadAutoscalingPolicy(manifest);
    const metricName = manifest.apiVersion === AUTOSCALING_POLICY_KINDS[1].apiVersion ? 'name' : 'metricName';
    return new AutoscalingPolicy(scope, id, {
      ...rulesOf(m.spec),
      name: options.name ?? m.name,
      namespace: m.namespace,
      target: ScaleTarget.deployment(options.deployment),
      minReplicas: options.minReplicas,
      maxReplicas: options.maxReplicas,
      metadata: { labels: m.labels, annotations: m.annotations },
      _source: {
        path: `AutoscalingPolicy/${m.name}`,
        fieldName: f => `spec.${policyField(f.replace(/^(minReplicas|maxReplicas)/, 'homogeneousTarget.$1'), metricName)}`,
      },
    });
  }

  /** Name of the HorizontalPodAutoscaler. */
  public readonly name: string;

  constructor(scope: Construct, id: string, props: AutoscalingPolicyProps) {
    super(scope, id);
    this.name = props.name ?? id;
    const issues = new Issues(props._source?.path ?? this.node.path, props._source?.fieldName);
    checkName(issues, 'name', this.name, NameRule.DNS1123_SUBDOMAIN);
    const min = props.minReplicas ?? 1;
    issues.check(Number.isInteger(props.maxReplicas) && props.maxReplicas >= 1 && props.maxReplicas <= INT32_MAX && props.maxReplicas >= min, 'maxReplicas',
      props.maxReplicas, `is not a count of replicas from max(1, minReplicas ${min})`, 'Give the most replicas the policy may run');
    issues.check(Number.isInteger(min) && min >= 0, 'minReplicas', min, 'is not a count of replicas', 'Use 0 or more');
    if (min === 0) {
      issues.warn('minReplicas', 0, 'asks to scale to zero, which an HPA does not do (the HPAScaleToZero feature gate is alpha), so at least 1 replica runs',
        'Use minReplicas 1, or scale to zero with KEDA');
    }
    const metrics = podMetrics(issues, '', props.metrics);
    const behavior = hpaBehavior(issues, '', props);
    issues.throwIfAny();
    const target = props.target._claim(this.node.path);
    if ('cause' in target) issues.add('target', props.target.description, target.cause, target.fix);
    issues.throwIfAny();
    new k8s.KubeHorizontalPodAutoscalerV2(this, 'hpa', {
      metadata: objectMeta(this.name, props.namespace ?? Chart.of(this).namespace, props.metadata),
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: (target as { deployment: string }).deployment },
        minReplicas: Math.max(1, min),
        maxReplicas: props.maxReplicas,
        metrics,
        behavior,
      },
    });
    recordWarnings(this, issues);
  }
}
