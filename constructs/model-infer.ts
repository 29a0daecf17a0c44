import { ApiObject, Chart, Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { renderDisruptionBudget, renderNetworkPolicy } from './_disruption';
import { ManifestSource, manifestSource, objectMeta, ObjectMetadataProps } from './_metadata';
import { LeaderWorkerSet, LeaderWorkerSetSpecLeaderWorkerTemplateRestartPolicy } from '../imports/leaderworkerset.x-k8s.io';
import { PodGroup, PodGroupSpecMinResources, PodGroupSpecNetworkTopologyMode, PodGroupSpecSubGroupPolicy } from '../imports/scheduling.volcano.sh';
import {
  Accelerator, GangSpec, Issues, KthenaApi, KthenaLabelKeys, kthenaLabels, loadModelInferManifest, loadSimpleModelInfer, Manifest,
  NetworkTopologySpec, RecoveryPolicy, resolveModelInfer, ResolvedModelInfer, ResolvedRole, ResourceTotals, revisionHash, RoleEnv, roleInstanceNames,
  RolloutAnnotations, RolloutLabels, RolloutLevel, VolcanoAnnotations, WorkloadBackend,
} from '../src';
import { containerRequests, PodIdentity, renderPodTemplate, resolvePodDefaults, ResolvedPodDefaults } from './_pod-template';
import { readMetrics, readPodTemplate } from './_pod-template-json';
import { ModelInferAutoscalingProps, renderSimpleForm } from './_simple-model-infer';
import { GangScheduling } from './gang-scheduling';
import { KthenaModel } from './kthena-model';
import { Model } from './model';
import { PodDefaults } from './pod-defaults';
import { recordWarnings } from './warnings';
import { checkName, NameRule } from '../src/names';

/** Label LWS puts on each pod: the index of its group (our role instance). */
const LWS_GROUP_INDEX = 'leaderworkerset.sigs.k8s.io/group-index';
/** Label LWS puts on each pod: 0 for the leader, 1..N for workers. */
const LWS_WORKER_INDEX = 'leaderworkerset.sigs.k8s.io/worker-index';
/** Label the StatefulSet controller puts on each pod: its ordinal. */
const POD_INDEX = 'apps.kubernetes.io/pod-index';
const NAMESPACE_ENV = 'INFERKIT_NAMESPACE';
const GROUP_INDEX_ENV = 'INFERKIT_GROUP_INDEX';

/** One role of an InferGroup: `replicas` instances, each an entry pod and `workerReplicas` workers. */
export interface RoleProps {
  /** Role name, such as `prefill` or `decode`: a DNS label of at most 12 characters, unique in the ModelInfer. */
  readonly name: string;

  /**
   * Instances of this role in each InferGroup (the x and y of xPyD).
   *
   * @default 1
   */
  readonly replicas?: number;

  /** Pod template of the entry pod, which receives requests and, with workers, coordinates them. */
  readonly entryTemplate: k8s.PodTemplateSpec;

  /**
   * Worker pods per role instance.
   *
   * @default 0
   */
  readonly workerReplicas?: number;

  /**
   * Pod template of the workers; required when `workerReplicas` is more than 0.
   *
   * @default - no workers
   */
  readonly workerTemplate?: k8s.PodTemplateSpec;

  /**
   * GPUs for the first container of every pod of the role, and the node labels of their product.
   *
   * @default - GPUs exactly as the templates request them
   */
  readonly accelerator?: Accelerator;

  /**
   * With role-level rolling (`rolloutStrategy.level: RolloutLevel.ROLE`): instances of this role that may be
   * unavailable at once in each InferGroup, an integer or a percentage of `replicas` (rounded down, at least 1).
   *
   * @default 1
   */
  readonly maxUnavailable?: number | string;

  /**
   * With role-level rolling: instances of this role with an index below this keep their revision; a percentage of
   * `replicas` is rounded up.
   *
   * @default 0
   */
  readonly partition?: number | string;
}

/** Rolling upgrade of InferGroups (or of role instances within them), in waves within a budget. */
export interface RolloutStrategyProps {
  /**
   * What is replaced at a time: whole InferGroups (this budget), or, as Kthena's RoleRollingUpdate, each role's
   * instances within every group (each role's `maxUnavailable` and `partition`; groups one after the other).
   *
   * @default RolloutLevel.GROUP
   */
  readonly level?: RolloutLevel;

  /**
   * Groups that may be unavailable during an upgrade: an integer or a percentage of `replicas` (rounded down).
   *
   * @default 1
   */
  readonly maxUnavailable?: number | string;

  /**
   * Groups that may be created above `replicas` during an upgrade: an integer or a percentage (rounded up).
   *
   * @default 0
   */
  readonly maxSurge?: number | string;

  /**
   * Groups with an index below this keep their current revision.
   *
   * @default 0
   */
  readonly partition?: number;
}

/** Props of a {@link ModelInfer}: Kthena's ModelInfer, compiled to plain Kubernetes objects. */
export interface ModelInferProps {
  /**
   * Name of the ModelInfer; every object's name starts with it. A DNS-1035 label.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Namespace of every object.
   *
   * @default - the chart's namespace
   */
  readonly namespace?: string;

  /**
   * Number of InferGroups.
   *
   * @default 1
   */
  readonly replicas?: number;

  /**
   * Scheduler of every pod.
   *
   * @default 'volcano'
   */
  readonly schedulerName?: string;

  /**
   * Time to wait for a failed pod to recover before its group is rebuilt. With recoveryPolicy None
   * nothing is rebuilt (pods restart in place), so any value holds;
   * LeaderWorkerSet's recreate policies act at once, so with them a grace period is not waited for (a warning,
   * see `Warnings.of`).
   *
   * @default Duration.seconds(0)
   */
  readonly restartGracePeriod?: Duration;

  /**
   * Gang scheduling of each InferGroup.
   *
   * @default - GangScheduling.volcano() when schedulerName is 'volcano', otherwise none
   */
  readonly gangScheduling?: GangScheduling;

  /**
   * The roles of each InferGroup, 1 to 4.
   *
   * @default - none: the simple form, with `modelRef`
   */
  readonly roles?: RoleProps[];

  /**
   * The simple form (Kthena seed 000): run this Model's pods, `replicas` of them or as many as `autoscaling`
   * decides, with this ModelInfer's `resources`, `nodeSelector`, `tolerations` and `affinity`. Its Deployment
   * keeps the Model's name; the pods carry this ModelInfer's labels. A {@link KthenaModel} of one backend runs that
   * backend's Deployment (`<model>-<backend>`), with its adapters.
   *
   * @default - none: the roles form
   */
  readonly modelRef?: Model | KthenaModel;

  /**
   * Simple form: an `autoscaling/v2` HorizontalPodAutoscaler that owns the replica count.
   *
   * @default - a fixed count
   */
  readonly autoscaling?: ModelInferAutoscalingProps;

  /**
   * Simple form: resources of the engine container, over the Model's.
   *
   * @default - the Model's
   */
  readonly resources?: k8s.ResourceRequirements;

  /**
   * Simple form: more node labels the pods require.
   *
   * @default - the Model's
   */
  readonly nodeSelector?: Record<string, string>;

  /**
   * Simple form: tolerations of the pods.
   *
   * @default - none
   */
  readonly tolerations?: k8s.Toleration[];

  /**
   * Simple form: affinity of the pods; required node terms are combined with the Model's GPU selection.
   *
   * @default - the Model's
   */
  readonly affinity?: k8s.Affinity;

  /**
   * Rolling upgrade of InferGroups. The group StatefulSets use `OnDelete`, so applying a new revision restarts
   * nothing; `inferkit rollout` and the `inferkit/pulumi` ModelInfer component replace groups wave by wave within
   * this budget (read from the `rollout.inferkit.dev/*` annotations of the workloads).
   *
   * @default - maxUnavailable 1, maxSurge 0, partition 0
   */
  readonly rolloutStrategy?: RolloutStrategyProps;

  /**
   * What happens when a pod fails. A policy the backend cannot honour runs as its nearest behaviour, with a
   * warning (see `Warnings.of`): StatefulSets restart a failed pod in place; LeaderWorkerSet recreates its role instance.
   *
   * @default - None with the StatefulSet backend, RoleRecreate with LeaderWorkerSet
   */
  readonly recoveryPolicy?: RecoveryPolicy;

  /**
   * Topology spread constraints added to every pod.
   *
   * @default - none
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
   */
  readonly topologySpreadConstraints?: k8s.TopologySpreadConstraint[];

  /**
   * The workload that runs each role instance.
   *
   * @default WorkloadBackend.STATEFUL_SET
   */
  readonly backend?: WorkloadBackend;

  /**
   * The Kthena API the pods follow: `MODEL_SERVING` labels them `modelserving.volcano.sh/*` (workers carry no
   * `entry` label, and pods get a `role-template-hash`), as Kthena's current controller does, so that selectors
   * written for it find them.
   *
   * @default KthenaApi.MODEL_INFER - `modelinfer.matrixinfer.ai/*` labels
   */
  readonly kthenaApi?: KthenaApi;

  /**
   * GPU-first pod defaults.
   *
   * @default - all on: /dev/shm, a /cache volume, a 30-minute startup probe, restricted security, IfNotPresent
   */
  readonly podDefaults?: PodDefaults;

  /**
   * Labels and annotations added to every object.
   *
   * @default - none
   */
  readonly metadata?: ObjectMetadataProps;

  /** @internal where the props came from (a manifest), for messages */
  readonly _source?: ManifestSource;
}

/** Options when loading a seed manifest. */
export interface FromManifestOptions {
  /**
   * The workload that runs each role instance.
   *
   * @default WorkloadBackend.STATEFUL_SET
   */
  readonly backend?: WorkloadBackend;

  /**
   * GPU-first pod defaults.
   *
   * @default - all on
   */
  readonly podDefaults?: PodDefaults;
}

function topologyMode(t: NetworkTopologySpec) {
  return { mode: t.mode as unknown as PodGroupSpecNetworkTopologyMode, highestTierAllowed: t.highestTierAllowed, highestTierName: t.highestTierName };
}

/**
 * A model served by groups of pods in roles: Kthena's ModelInfer without its controller.
 *
 * Each InferGroup `i` becomes, per role instance `j`, an entry StatefulSet (pod `<name>-<i>-<role>-<j>-0`),
 * a worker StatefulSet (pods `...-w-1` to `-N`) and a headless Service named after the entry pod; or one
 * LeaderWorkerSet per (group, role) with the LWS backend. Under Volcano each group is one gang PodGroup
 * `<name>-<i>`. Every container gets `GROUP_SIZE`, `ENTRY_ADDRESS` and `WORKER_INDEX`.
 */
export class ModelInfer extends Construct {
  /**
   * Loads a Kthena `workload.matrixinfer.ai/v1alpha1` ModelInfer or `workload.serving.volcano.sh/v1alpha1`
   * ModelServing manifest, with its CRD's defaults (recoveryPolicy RoleRecreate) and its controller's pod labels.
   * Unknown fields, anywhere including the pod templates, are errors; what the backend runs differently from
   * Kthena's controller is a warning (see `Warnings.of`).
   */
  public static fromManifest(scope: Construct, id: string, manifest: Manifest, options: FromManifestOptions = {}): ModelInfer {
    const loaded = loadModelInferManifest(manifest);
    const issues = new Issues(`${loaded.kind}/${loaded.name}`);
    const roles = loaded.spec.roles.map((r, i) => ({
      name: r.name,
      replicas: r.replicas,
      workerReplicas: r.workerReplicas,
      entryTemplate: readPodTemplate(issues, `spec.template.roles[${i}].entryTemplate`, r.entryTemplate)!,
      workerTemplate: readPodTemplate(issues, `spec.template.roles[${i}].workerTemplate`, r.workerTemplate),
      maxUnavailable: r.maxUnavailable,
      partition: r.partition,
    }));
    const tsc = loaded.topologySpreadConstraints?.map((c, i) => {
      const back = k8s.toJson_TopologySpreadConstraint(c as unknown as k8s.TopologySpreadConstraint);
      issues.check(JSON.stringify(back) === JSON.stringify(c), `spec.topologySpreadConstraints[${i}]`, c, 'has a field a TopologySpreadConstraint does not know', 'Remove it or fix its spelling');
      return c as unknown as k8s.TopologySpreadConstraint;
    });
    issues.throwIfAny();
    const s = loaded.spec;
    return new ModelInfer(scope, id, {
      name: loaded.name,
      namespace: loaded.namespace,
      replicas: s.replicas,
      schedulerName: s.schedulerName,
      restartGracePeriod: s.restartGracePeriodSeconds === undefined ? undefined : Duration.seconds(s.restartGracePeriodSeconds),
      gangScheduling: s.gang === undefined ? undefined : s.gang === false ? GangScheduling.none() : GangScheduling.fromSpec(s.gang),
      roles,
      rolloutStrategy: s.rollout,
      recoveryPolicy: s.recoveryPolicy,
      topologySpreadConstraints: tsc,
      backend: options.backend,
      kthenaApi: s.api,
      podDefaults: options.podDefaults,
      metadata: { labels: loaded.labels, annotations: loaded.annotations },
      _source: { path: `${loaded.kind}/${loaded.name}`, fieldName: loaded.fieldName },
    });
  }

  /**
   * Loads the seed document's simple `workload.matrixinfer.ai/v1alpha1` ModelInfer (with `spec.modelRef`),
   * running `model`, the Model it refers to. Unknown fields are errors.
   */
  public static fromSimpleManifest(scope: Construct, id: string, manifest: Manifest, model: Model | KthenaModel): ModelInfer {
    const m = loadSimpleModelInfer(manifest);
    const issues = new Issues(`ModelInfer/${m.name}`);
    // Read as one pod template; each problem named by the field of the simple form it came from.
    const pod = readPodTemplate(issues, at => at.replace(/^\.spec\.containers\[0\]\.resources/, 'spec.resources').replace(/^\.spec\./, 'spec.'), {
      spec: { containers: [{ name: 'engine', resources: m.pod.resources }], nodeSelector: m.pod.nodeSelector, tolerations: m.pod.tolerations, affinity: m.pod.affinity },
    })?.spec;
    const metrics = m.autoscaling?.metrics === undefined ? undefined : readMetrics(issues, 'spec.autoscaling.metrics', m.autoscaling.metrics);
    issues.throwIfAny();
    return new ModelInfer(scope, id, {
      name: m.name,
      namespace: m.namespace,
      modelRef: model,
      replicas: m.replicas,
      autoscaling: m.autoscaling && { ...m.autoscaling, metrics },
      resources: pod?.containers[0].resources,
      nodeSelector: pod?.nodeSelector,
      tolerations: pod?.tolerations,
      affinity: pod?.affinity,
      metadata: { labels: m.labels, annotations: m.annotations },
      _source: manifestSource('ModelInfer', m.name),
    });
  }

  /** The ModelInfer name. */
  public readonly name: string;
  /** Namespace of the objects, if one was given or the chart has one. */
  public readonly namespace?: string;
  /** The roles form's spec with every default applied; undefined in the simple form. */
  public readonly spec?: ResolvedModelInfer<k8s.PodTemplateSpec>;
  /** Revision of the group template (the `revision` label of every pod); in the simple form it is computed at synth. */
  public readonly revision?: string;

  private readonly defaults: ResolvedPodDefaults;
  // The roles form's spec and revision, for the rendering methods.
  private readonly groups!: ResolvedModelInfer<k8s.PodTemplateSpec>;
  private readonly podRevision!: string;
  // The pod labels of the Kthena API followed, and the template hash of each role (ModelServing only).
  private readonly labelKeys!: KthenaLabelKeys;
  private readonly roleTemplateHashes!: readonly string[];
  private readonly props: ModelInferProps;
  /** The Deployment of the simple form (its Model's), which an autoscaler made elsewhere may scale. */
  private simpleDeployment?: string;
  /** The autoscaler made elsewhere that owns the simple form's replicas, if any. */
  private scaledBy?: string;

  constructor(scope: Construct, id: string, props: ModelInferProps) {
    super(scope, id);
    this.props = props;
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    const path = props._source?.path ?? this.node.path;
    this.defaults = resolvePodDefaults(props.podDefaults);
    if (props.modelRef || !props.roles) {
      this.simpleForm(new Issues(path, props._source?.fieldName));
      return;
    }
    this.groups = this.spec = resolveModelInfer<k8s.PodTemplateSpec>({
      name: this.name,
      replicas: props.replicas,
      schedulerName: props.schedulerName,
      restartGracePeriodSeconds: props.restartGracePeriod?.toSeconds(),
      gang: props.gangScheduling?.spec,
      roles: props.roles,
      rollout: props.rolloutStrategy,
      recoveryPolicy: props.recoveryPolicy,
      backend: props.backend,
      api: props.kthenaApi,
    }, path, props._source?.fieldName);
    recordWarnings(this, this.groups.warnings);
    this.labelKeys = kthenaLabels(this.groups.api);
    this.podRevision = this.revision = revisionHash({
      schedulerName: this.groups.schedulerName,
      backend: this.groups.backend,
      defaults: this.defaults,
      topologySpreadConstraints: (props.topologySpreadConstraints ?? []).map(k8s.toJson_TopologySpreadConstraint),
      roles: this.groups.roles.map((r, i) => this.roleTemplate(r, i)),
    });
    this.roleTemplateHashes = this.groups.roles.map((r, i) => revisionHash(this.roleTemplate(r, i)));

    const issues = new Issues(path, props._source?.fieldName);
    for (let i = 0; i < this.groups.replicas; i++) this.renderGroup(i, issues);
    if (this.defaults.disruptionBudget) this.renderDisruptionBudgets();
    if (this.defaults.networkPolicy) this.renderNetworkPolicy();
    issues.throwIfAny();
    recordWarnings(this, issues);
  }

  /** The simple form: roles-form fields are refused, the rest configures the Model's workload. */
  /**
   * Leaves the simple form's replicas to an autoscaler made elsewhere (`by`, a Kthena AutoscalingPolicy), so its
   * Deployment does not set them; returns the Deployment, or why it cannot be scaled (cause and fix).
   *
   * @internal
   */
  public _scaledExternally(by: string): { deployment: string } | { cause: string; fix: string } {
    if (this.simpleDeployment === undefined) {
      return { cause: 'runs its groups as workloads fixed at synth, which no autoscaler can scale', fix: 'Scale it by its replicas in a new synth, or autoscale a simple-form ModelInfer' };
    }
    if (this.props.autoscaling && (this.props.autoscaling.enabled ?? true)) return { cause: 'has autoscaling, which makes its own HPA', fix: 'Remove one of the two autoscalers' };
    if (this.scaledBy !== undefined) return { cause: `is scaled by ${this.scaledBy} already`, fix: 'Scale it from one place' };
    this.scaledBy = by;
    return { deployment: this.simpleDeployment };
  }

  private simpleForm(issues: Issues): void {
    const p = this.props;
    issues.check(p.modelRef !== undefined, 'roles', undefined, 'is missing, and so is modelRef', 'Give roles (the roles form) or modelRef (the simple form)');
    const rolesOnly: Array<[string, unknown]> = [['roles', p.roles], ['gangScheduling', p.gangScheduling], ['rolloutStrategy', p.rolloutStrategy],
      ['recoveryPolicy', p.recoveryPolicy], ['backend', p.backend], ['restartGracePeriod', p.restartGracePeriod], ['topologySpreadConstraints', p.topologySpreadConstraints],
      ['schedulerName', p.schedulerName], ['podDefaults', p.podDefaults]];
    for (const [field, value] of rolesOnly) {
      issues.check(value === undefined, field, undefined, 'belongs to the roles form, but modelRef selects the simple form', `Remove ${field}, or remove modelRef and give roles`);
    }
    // The name labels the pods and names the autoscaler.
    checkName(issues, 'name', this.name, NameRule.DNS1123_LABEL);
    issues.throwIfAny();
    this.simpleDeployment = renderSimpleForm(this, {
      name: this.name,
      namespace: this.namespace,
      modelRef: p.modelRef!,
      replicas: p.replicas,
      autoscaling: p.autoscaling,
      resources: p.resources,
      nodeSelector: p.nodeSelector,
      tolerations: p.tolerations,
      affinity: p.affinity,
      metadata: (n, l) => this.metadata(n, l),
      scaledBy: () => this.scaledBy,
    }, issues);
    issues.throwIfAny();
  }

  /** What makes up a role's template, for the revision and the role template hash. */
  private roleTemplate(r: ResolvedRole<k8s.PodTemplateSpec>, i: number) {
    return {
      name: r.name,
      workerReplicas: r.workerReplicas,
      accelerator: this.props.roles![i].accelerator,
      entryTemplate: k8s.toJson_PodTemplateSpec(r.entryTemplate),
      workerTemplate: k8s.toJson_PodTemplateSpec(r.workerTemplate),
    };
  }

  /**
   * The entry label of a pod, as each API's controller sets it: `"true"` on entry pods; on workers `"false"` in
   * the ModelInfer era, none under ModelServing.
   */
  private entryLabel(entry: boolean): Record<string, string> {
    return entry || this.groups.api === KthenaApi.MODEL_INFER ? { [this.labelKeys.ENTRY]: String(entry) } : {};
  }

  private metadata(name: string, labels: Record<string, string> = {}): k8s.ObjectMeta {
    return objectMeta(name, this.namespace, this.props.metadata, labels);
  }

  private get roleLevel(): boolean {
    return this.groups.rollout.level === RolloutLevel.ROLE;
  }

  /**
   * The strategy `inferkit rollout` and the Rollout resource read from each workload: the groups' budget, or with
   * role-level rolling the role's own (its instances in each group are the units).
   */
  private workloadAnnotations(role?: ResolvedRole<k8s.PodTemplateSpec>): Record<string, string> {
    const r = this.groups.rollout;
    const own = this.roleLevel && role;
    return {
      ...this.props.metadata?.annotations,
      [RolloutAnnotations.REPLICAS]: String(own ? role.replicas : this.groups.replicas),
      [RolloutAnnotations.MAX_UNAVAILABLE]: String(own ? role.rollout.maxUnavailable : r.maxUnavailable),
      [RolloutAnnotations.MAX_SURGE]: String(own ? 0 : r.maxSurge),
      [RolloutAnnotations.PARTITION]: String(own ? role.rollout.partition : r.partition),
      [RolloutAnnotations.UNIT_KIND]: own ? 'role instance' : 'group',
    };
  }

  /**
   * The rollout set and unit of the objects of group `i` (never in selectors, which are immutable): the group, or with
   * role-level rolling instance `j` of `role` in that group (objects of the whole group, its PodGroup, then have none).
   */
  private unitLabels(i: number, role?: ResolvedRole<k8s.PodTemplateSpec>, j?: number): Record<string, string> {
    if (!this.roleLevel) return { [RolloutLabels.SET]: `modelinfer.${this.name}`, [RolloutLabels.UNIT]: String(i) };
    if (!role) return {};
    return { [RolloutLabels.SET]: `modelinfer.${this.name}-${i}-${role.name}`, [RolloutLabels.UNIT]: String(j ?? 0) };
  }

  /** One PodDisruptionBudget per rollout set, with the set's budget (see `PodDefaults.disruptionBudget`). */
  private renderDisruptionBudgets(): void {
    if (!this.roleLevel) {
      renderDisruptionBudget(this, 'pdb', this.metadata(this.name), this.unitLabels(0)[RolloutLabels.SET], this.groups.rollout.maxUnavailable);
      return;
    }
    for (let i = 0; i < this.groups.replicas; i++) {
      for (const role of this.groups.roles) {
        renderDisruptionBudget(this, `pdb-${i}-${role.name}`, this.metadata(`${this.name}-${i}-${role.name}`),
          this.unitLabels(i, role)[RolloutLabels.SET], role.rollout.maxUnavailable);
      }
    }
  }

  /** The opt-in NetworkPolicy (see `PodDefaults.networkPolicy`): serving ports from anywhere, peers and pickers on any. */
  private renderNetworkPolicy(): void {
    const containers = this.groups.roles.flatMap(r => r.entryTemplate.spec?.containers ?? []);
    const ports = [...new Set(containers.flatMap(c => (c.ports ?? []).map(p => p.containerPort)))].sort((a, b) => a - b);
    renderNetworkPolicy(this, 'network-policy', this.metadata(this.name), {
      pods: { [this.labelKeys.NAME]: this.name },
      servingPorts: ports.map(p => k8s.IntOrString.fromNumber(p)),
    });
  }

  /** `<host>.<service>.<namespace>`, the namespace read from the pod when the chart has none. */
  private address(host: string, service: string): string {
    return `${host}.${service}.${this.namespace ?? `$(${NAMESPACE_ENV})`}`;
  }

  private baseEnv(): k8s.EnvVar[] {
    return this.namespace ? [] : [{ name: NAMESPACE_ENV, valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }];
  }

  private identity(
    role: ResolvedRole<k8s.PodTemplateSpec>, roleIndex: number,
    labels: Record<string, string>, annotations: Record<string, string>, env: k8s.EnvVar[],
  ): PodIdentity {
    const acc = this.props.roles![roleIndex].accelerator;
    return {
      labels: {
        [this.labelKeys.NAME]: this.name,
        ...labels,
        [this.labelKeys.ROLE]: role.name,
        [this.labelKeys.REVISION]: this.podRevision,
        ...(this.labelKeys.ROLE_TEMPLATE_HASH ? { [this.labelKeys.ROLE_TEMPLATE_HASH]: this.roleTemplateHashes[roleIndex] } : {}),
        [RolloutLabels.REVISION]: this.podRevision,
      },
      annotations,
      env,
      schedulerName: this.groups.schedulerName,
      topologySpreadConstraints: this.props.topologySpreadConstraints ?? [],
      gpu: acc ? { resourceName: acc.resourceName, count: acc.count, nodeSelector: acc.nodeSelector } : undefined,
    };
  }

  private renderGroup(i: number, issues: Issues): void {
    const group = `${this.name}-${i}`;
    const gang = this.groups.gang;
    const totals = new ResourceTotals();
    const minTaskMember: Record<string, number> = {};
    const lws = this.groups.backend === WorkloadBackend.LEADER_WORKER_SET;

    this.groups.roles.forEach((role, r) => {
      const field = `roles[${r}]`;
      const count = (entry: k8s.PodTemplateSpec, worker?: k8s.PodTemplateSpec) => {
        for (const c of containerRequests(entry)) totals.add(c, role.minReplicas);
        for (const c of containerRequests(worker)) totals.add(c, role.minReplicas * role.workerReplicas);
      };
      if (lws) {
        count(...this.renderLeaderWorkerSet(i, role, r, issues, field));
      } else {
        for (let j = 0; j < role.replicas; j++) {
          const pods = this.renderStatefulSets(i, role, r, j, issues, field);
          // Every instance of a role asks for the same resources: count the first one.
          if (j === 0) count(...pods);
          if (j < role.minReplicas) minTaskMember[`${role.name}-${j}`] = role.size;
        }
      }
    });
    if (gang) this.renderPodGroup(i, group, gang, lws ? undefined : minTaskMember, totals);
  }

  private renderStatefulSets(
    i: number, role: ResolvedRole<k8s.PodTemplateSpec>, r: number, j: number, issues: Issues, field: string,
  ): [k8s.PodTemplateSpec, k8s.PodTemplateSpec?] {
    const n = roleInstanceNames(this.name, i, role.name, j);
    const common = { [this.labelKeys.GROUP_NAME]: n.group, [this.labelKeys.ROLE_ID]: n.roleId };
    const annotations: Record<string, string> = this.groups.gang
      ? { [VolcanoAnnotations.GROUP_NAME]: n.group, [VolcanoAnnotations.TASK_SPEC]: n.roleId }
      : {};
    const env = (index: k8s.EnvVar): k8s.EnvVar[] => [
      ...this.baseEnv(),
      { name: RoleEnv.GROUP_SIZE, value: String(role.size) },
      { name: RoleEnv.ENTRY_ADDRESS, value: this.address(n.entryPod, n.entryPod) },
      index,
    ];
    // Entry and workers never overlap: under ModelServing, workers are the pods without the entry label.
    const selector = (entry: boolean): k8s.LabelSelector => {
      const matchLabels = { [this.labelKeys.NAME]: this.name, ...common, ...this.entryLabel(entry) };
      return matchLabels[this.labelKeys.ENTRY] === undefined
        ? { matchLabels, matchExpressions: [{ key: this.labelKeys.ENTRY, operator: 'DoesNotExist' }] }
        : { matchLabels };
    };

    const unit = this.unitLabels(i, role, j);
    const entry = renderPodTemplate(role.entryTemplate,
      this.identity(role, r, { ...common, ...unit, ...this.entryLabel(true) }, annotations, env({ name: RoleEnv.WORKER_INDEX, value: '0' })),
      this.defaults, issues, `${field}.entryTemplate`);
    // OnDelete: applying a new revision restarts nothing; the rollout executor replaces the pods group by group.
    new k8s.KubeStatefulSet(this, `${n.instance}-entry`, {
      metadata: { ...this.metadata(n.instance, { ...common, ...unit }), annotations: this.workloadAnnotations(role) },
      spec: {
        replicas: 1,
        updateStrategy: { type: 'OnDelete' },
        serviceName: n.entryPod,
        podManagementPolicy: 'Parallel',
        selector: selector(true),
        template: entry,
      },
    });
    new k8s.KubeService(this, `${n.instance}-svc`, {
      metadata: this.metadata(n.entryPod, { ...common, ...unit, [this.labelKeys.ROLE]: role.name }),
      spec: { clusterIp: 'None', publishNotReadyAddresses: true, selector: selector(true).matchLabels },
    });

    if (role.workerReplicas === 0 || !role.workerTemplate) return [entry];
    const worker = renderPodTemplate(role.workerTemplate,
      this.identity(role, r, { ...common, ...unit, ...this.entryLabel(false) }, annotations,
        env({ name: RoleEnv.WORKER_INDEX, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${POD_INDEX}']` } } })),
      this.defaults, issues, `${field}.workerTemplate`);
    new k8s.KubeStatefulSet(this, `${n.instance}-workers`, {
      metadata: { ...this.metadata(n.workers, { ...common, ...unit }), annotations: this.workloadAnnotations(role) },
      spec: {
        replicas: role.workerReplicas,
        updateStrategy: { type: 'OnDelete' },
        // Ordinals start at 1 so that each worker's pod index is its WORKER_INDEX.
        ordinals: { start: 1 },
        serviceName: n.entryPod,
        podManagementPolicy: 'Parallel',
        selector: selector(false),
        template: worker,
      },
    });
    return [entry, worker];
  }

  private renderLeaderWorkerSet(
    i: number, role: ResolvedRole<k8s.PodTemplateSpec>, r: number, issues: Issues, field: string,
  ): [k8s.PodTemplateSpec, k8s.PodTemplateSpec?] {
    const n = roleInstanceNames(this.name, i, role.name, 0);
    const common = { [this.labelKeys.GROUP_NAME]: n.group, ...this.unitLabels(i) };
    const annotations: Record<string, string> = this.groups.gang ? { [VolcanoAnnotations.GROUP_NAME]: n.group } : {};
    const env = (index: k8s.EnvVar): k8s.EnvVar[] => [
      ...this.baseEnv(),
      { name: GROUP_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${LWS_GROUP_INDEX}']` } } },
      { name: RoleEnv.GROUP_SIZE, value: String(role.size) },
      { name: RoleEnv.ENTRY_ADDRESS, value: this.address(`${n.leaderWorkerSet}-$(${GROUP_INDEX_ENV})`, n.leaderWorkerSet) },
      index,
    ];
    const leader = renderPodTemplate(role.entryTemplate,
      this.identity(role, r, { ...common, ...this.entryLabel(true) }, annotations, env({ name: RoleEnv.WORKER_INDEX, value: '0' })),
      this.defaults, issues, `${field}.entryTemplate`);
    const worker = role.workerTemplate && role.workerReplicas > 0
      ? renderPodTemplate(role.workerTemplate,
        this.identity(role, r, { ...common, ...this.entryLabel(false) }, annotations,
          env({ name: RoleEnv.WORKER_INDEX, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${LWS_WORKER_INDEX}']` } } })),
        this.defaults, issues, `${field}.workerTemplate`)
      : undefined;
    const restartPolicy = this.groups.recoveryPolicy === RecoveryPolicy.NONE
      ? LeaderWorkerSetSpecLeaderWorkerTemplateRestartPolicy.NONE
      : LeaderWorkerSetSpecLeaderWorkerTemplateRestartPolicy.RECREATE_GROUP_ON_POD_RESTART;
    // Pod templates are rendered by the k8s L1 types; the LWS import would re-type every nested field.
    new ApiObject(this, n.leaderWorkerSet, {
      ...LeaderWorkerSet.GVK,
      metadata: { ...this.metadata(n.leaderWorkerSet, common), annotations: this.workloadAnnotations() },
      spec: {
        replicas: role.replicas,
        leaderWorkerTemplate: {
          size: role.size,
          restartPolicy,
          // A single-pod role has only a leader, which LWS builds from the worker template.
          ...(worker ? { leaderTemplate: k8s.toJson_PodTemplateSpec(leader) } : {}),
          workerTemplate: k8s.toJson_PodTemplateSpec(worker ?? leader),
        },
      },
    });
    return [leader, worker];
  }

  private renderPodGroup(i: number, group: string, gang: GangSpec, minTaskMember: Record<string, number> | undefined, totals: ResourceTotals): void {
    const minMember = this.groups.roles.reduce((sum, r) => sum + r.minReplicas * r.size, 0);
    const lws = this.groups.backend === WorkloadBackend.LEADER_WORKER_SET;
    const subGroups: PodGroupSpecSubGroupPolicy[] | undefined = lws || gang.roleNetworkTopology
      ? this.groups.roles.map(r => ({
        name: r.name,
        labelSelector: { matchLabels: { [this.labelKeys.NAME]: this.name, [this.labelKeys.ROLE]: r.name } },
        matchLabelKeys: [lws ? LWS_GROUP_INDEX : this.labelKeys.ROLE_ID],
        subGroupSize: r.size,
        minSubGroups: r.minReplicas,
        networkTopology: gang.roleNetworkTopology ? topologyMode(gang.roleNetworkTopology) as never : undefined,
      }))
      : undefined;
    const minResources = totals.toRecord();
    new PodGroup(this, `${group}-podgroup`, {
      metadata: this.metadata(group, { [this.labelKeys.NAME]: this.name, [this.labelKeys.GROUP_NAME]: group, ...this.unitLabels(i) }),
      spec: {
        minMember,
        minTaskMember: minTaskMember && Object.keys(minTaskMember).length > 0 ? minTaskMember : undefined,
        minResources: Object.keys(minResources).length > 0
          ? Object.fromEntries(Object.entries(minResources).map(([k, v]) => [k, PodGroupSpecMinResources.fromString(v)]))
          : undefined,
        networkTopology: gang.networkTopology ? topologyMode(gang.networkTopology) : undefined,
        subGroupPolicy: subGroups,
      },
    });
  }
}
