import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import {
  ClusterSelector, ClusterToleration, compareStrings, FleetInventory, FleetNodePool, Issues, KubernetesVersion, LedgerEntry, LedgerLabels,
  describeRejections, loadModelDeploymentWithFleet, matchingDevice, ModelDeploymentFleetManifests, place, PlacementDemand, ReplicaAssignment,
  validateDemand,
} from '../src';
import { ManifestSource, objectMeta, PREFILL_DECODE_ROUTE } from './_metadata';
import { GatewayParentProps, InferencePool, SchedulingMode } from './inference-pool';
import { ModelCache, modelCacheProps, ModelCacheProps } from './model-cache';
import {
  DeviceRequestProps, EnginePhase, MemberRole, ModelReplica, ModelReplicaLabels, phaseScheduling, ServingMode,
} from './model-replica';
import { PodDefaults } from './pod-defaults';
import { recordWarnings } from './warnings';

/** A device request of a deployment's member: what each pod needs from its node. */
export interface DeploymentDeviceRequestProps {
  /** Request name, unique in the member; becomes the DRA DeviceRequest name. */
  readonly name: string;

  /**
   * Devices each pod needs, all from its own node, 1 to 64.
   *
   * @default 1
   */
  readonly count?: number;

  /**
   * The DeviceClass to claim through.
   *
   * @default - any claimable device of the pool the placement picks; the claim uses that device's class
   */
  readonly deviceClassName?: string;

  /**
   * DRA CEL expressions a device must satisfy, all of them, such as
   * `device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0`. They drive placement and go into
   * the claim, so the scheduler enforces them too.
   *
   * @default - any device
   */
  readonly selectors?: string[];
}

/** One member of a deployment's engine; the placement picks its node pool. */
export interface DeploymentMemberProps {
  /**
   * Role in the engine.
   *
   * @default MemberRole.STANDALONE
   */
  readonly role?: MemberRole;

  /**
   * Devices each pod claims (Modelplane `nodeSelector.devices`).
   *
   * @default - none (a coordinator-only Leader)
   */
  readonly deviceRequests?: DeploymentDeviceRequestProps[];

  /**
   * Worker nodes (Worker only), 1 to 63.
   *
   * @default - required for a Worker
   */
  readonly workerNodes?: number;

  /** Pod template with one container, `engine`. */
  readonly template: k8s.PodTemplateSpec;
}

/** One engine of every replica. */
export interface DeploymentEngineProps {
  /** Engine name. */
  readonly name: string;

  /**
   * Identical copies of the engine in each replica, 1 to 64.
   *
   * @default 1
   */
  readonly copies?: number;

  /**
   * Phase in PrefillDecode serving.
   *
   * @default - none (Unified)
   */
  readonly phase?: EnginePhase;

  /** One Standalone member, or one Leader and one Worker. */
  readonly members: DeploymentMemberProps[];
}

/** How replicas are fronted in each cluster. */
export interface ServingProps {
  /**
   * Unified, or PrefillDecode (exactly two engines, one Prefill and one Decode).
   *
   * @default ServingMode.UNIFIED
   */
  readonly mode?: ServingMode;

  /**
   * Unified serving: also front the replicas with an InferencePool and its endpoint picker. PrefillDecode always does.
   *
   * @default false
   */
  readonly inferencePool?: boolean;

  /**
   * The Gateway an HTTPRoute to the InferencePool attaches to.
   *
   * @default - no HTTPRoute
   */
  readonly gateway?: GatewayParentProps;
}

/**
 * Where the replicas go: assignments given (pinned by a pipeline, or fed from the Placement provider), or computed at
 * synth by the placement solver against a declared inventory.
 */
export abstract class Placement {
  /**
   * The replicas go where `assignments` say; `inventory` resolves the DeviceClass and ledger device of requests that
   * name no class.
   */
  public static assigned(assignments: readonly ReplicaAssignment[], inventory?: FleetInventory): Placement {
    return new (class extends Placement {
      public resolve(demand: PlacementDemand, issues: Issues): PlacementOutcome {
        checkAssignments(issues, demand, assignments);
        return { assignments, inventory };
      }
    })();
  }

  /**
   * Computes the placement at synth with the solver: retains `existing`, counts `ledger` (other deployments' usage),
   * and fails naming every cluster's and pool's reason when a replica fits nowhere.
   */
  public static solve(
    inventory: FleetInventory, options: { existing?: readonly ReplicaAssignment[]; ledger?: readonly LedgerEntry[] } = {},
  ): Placement {
    return new (class extends Placement {
      public resolve(demand: PlacementDemand, issues: Issues): PlacementOutcome {
        const result = place(demand, inventory, options.existing, options.ledger);
        for (const u of result.unplaced) {
          issues.add('replicas', demand.replicas, `leaves replica ${u.replica} unplaced: ${describeRejections(u.rejections)}`,
            'Lower replicas, relax the selectors or tolerations, or add capacity to the inventory');
        }
        return { assignments: result.assignments, inventory };
      }
    })();
  }

  /** @internal */
  public abstract resolve(demand: PlacementDemand, issues: Issues): PlacementOutcome;
}

/** @internal */
interface PlacementOutcome {
  readonly assignments: readonly ReplicaAssignment[];
  readonly inventory?: FleetInventory;
}

/** Given assignments must place replicas 0..replicas-1 once each, every member of every engine on a pool. */
function checkAssignments(issues: Issues, demand: PlacementDemand, assignments: readonly ReplicaAssignment[]): void {
  const seen = new Set<number>();
  assignments.forEach((a, i) => {
    const ok = Number.isInteger(a.replica) && a.replica >= 0 && a.replica < demand.replicas && !seen.has(a.replica);
    issues.check(ok, `placement[${i}].replica`, a.replica, seen.has(a.replica) ? 'is assigned twice' : `is not a replica index: replicas are 0 to ${demand.replicas - 1}`,
      'Assign each replica once');
    seen.add(a.replica);
    for (const engine of demand.engines) {
      engine.members.forEach((_, m) => issues.check(a.members.some(x => x.engine === engine.name && x.member === m), `placement[${i}].members`, `${engine.name}/${m}`,
        'has no pool', 'Give every member of every engine a pool'));
    }
  });
  const missing = Array.from({ length: Math.max(0, demand.replicas) }, (_, r) => r).filter(r => !seen.has(r));
  issues.check(missing.length === 0, 'placement', missing, 'leaves these replicas unassigned', 'Assign every replica, or lower replicas');
}

/** Props of a {@link ModelDeployment}, after Modelplane's ModelDeployment. */
export interface ModelDeploymentProps {
  /**
   * Name of the deployment; replicas are `<name>-<index>`.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Namespace of every object, in every cluster.
   *
   * @default 'default'
   */
  readonly namespace?: string;

  /** Replicas, each a full set of the engines in one cluster. */
  readonly replicas: number;

  /**
   * Labels of every replica's objects and pods (Modelplane `template.metadata.labels`). Keys under the reserved
   * `inferkit.dev` and `modelplane.ai` prefixes are refused: selectors and the ledger rely on them.
   *
   * @default - none
   */
  readonly labels?: Record<string, string>;

  /**
   * The clusters replicas may go to, by cluster label.
   *
   * @default - every cluster
   */
  readonly clusterSelector?: ClusterSelector;

  /**
   * Cluster taints the replicas tolerate (NoSchedule keeps new replicas off; NoExecute also moves them away).
   *
   * @default - none
   */
  readonly tolerations?: ClusterToleration[];

  /**
   * A model staged in every cluster that hosts a replica (RWX claim and hydration Job), mounted into every engine.
   *
   * @default - none
   */
  readonly modelCache?: ModelCacheProps;

  /**
   * How replicas are fronted in each cluster.
   *
   * @default - Unified, a Service `<name>` over the cluster's replicas
   */
  readonly serving?: ServingProps;

  /** The engines of every replica, 1 to 8. */
  readonly engines: DeploymentEngineProps[];

  /** Where the replicas go. */
  readonly placement: Placement;

  /**
   * Kubernetes version of the clusters: selects the DRA API of the claim templates. A cluster of the inventory that
   * names the DRA API it serves (`draApiVersion`, read from live clusters by the Placement provider) gets that one.
   *
   * @default KubernetesVersion.V1_34
   */
  readonly kubernetesVersion?: KubernetesVersion;

  /**
   * GPU-first pod defaults.
   *
   * @default - all on
   */
  readonly podDefaults?: PodDefaults;

  /**
   * Annotations added to every object.
   *
   * @default - none
   */
  readonly annotations?: Record<string, string>;

  /** @internal where the props came from (a manifest), for messages */
  readonly _source?: ManifestSource;
}

/** One placed replica, as rendered. */
export interface RenderedReplica {
  readonly index: number;
  readonly cluster: string;
  /** The pool of each engine member, `<engine>/<member index>` to pool name. */
  readonly pools: Readonly<Record<string, string>>;
  /**
   * Where requests for this replica go: with Unified serving the address of its Service
   * (`http://<replica>.<namespace>.svc:8000`); with PrefillDecode, requests reach it through a Gateway that routes to
   * the cluster's InferencePool, and this is that pool's name.
   */
  readonly endpoint: string;
}

const RESERVED_LABEL_PREFIX = /^(?:[^/]*\.)?(?:inferkit\.dev|modelplane\.ai)\//;
const ENGINE_PORT = 8000;

/**
 * A model served by replicas across a fleet of clusters, after Modelplane's ModelDeployment: each replica is a full
 * set of engines in one cluster, each engine member pinned to a node pool and claiming its devices through DRA.
 * Placement is given or solved at synth; each cluster's share is a Chart of its own (`clusterChart(name)`), holding
 * the cluster's {@link ModelReplica}s, its model cache, and its routing: a Service `<name>` (Unified), and an
 * InferencePool with its endpoint picker (PrefillDecode, or on request), with an HTTPRoute when a Gateway is named.
 *
 * Create it directly under the App (or any construct outside a Chart) so each cluster's chart is synthesized to its
 * own file.
 */
export class ModelDeployment extends Construct {
  /**
   * Loads a Modelplane `modelplane.ai/v1alpha1` ModelDeployment with the fleet it is placed on: the InferenceClusters
   * and InferenceClasses become the inventory the placement is solved against at synth, and the ModelCache the
   * deployment refers to (by name, in its namespace) is staged in every cluster that hosts a replica. Unknown fields,
   * in any of the manifests, are errors; messages name the manifest fields.
   *
   * The cache's StorageClass is the `existing.cache.storageClassName` of the clusters the deployment may go to, which
   * must agree; its `clusterSelector` is merged into the deployment's, so replicas go only where the cache is staged.
   * `existing` (an earlier run's assignments) keeps replicas that still fit where they are; `ledger` holds the devices
   * other deployments placed in the same run (or found in the clusters) hold, so that no pool is overcommitted.
   */
  public static fromManifests(
    scope: Construct, id: string, deployment: Record<string, unknown>,
    fleet: ModelDeploymentFleetManifests & {
      readonly kubernetesVersion?: KubernetesVersion;
      readonly existing?: readonly ReplicaAssignment[];
      readonly ledger?: readonly LedgerEntry[];
    },
  ): ModelDeployment {
    const m = loadModelDeploymentWithFleet(deployment, fleet);
    const d = m.deployment;
    const cache = m.cache;
    return new ModelDeployment(scope, id, {
      name: d.name,
      namespace: d.namespace,
      replicas: d.replicas,
      labels: d.templateLabels,
      clusterSelector: m.clusterSelector,
      tolerations: [...d.tolerations],
      serving: d.servingMode === undefined ? undefined : { mode: d.servingMode as ServingMode },
      modelCache: cache && modelCacheProps(cache, cache.storageClassName),
      engines: d.engines.map(e => ({
        name: e.name,
        copies: e.copies,
        phase: e.phase as EnginePhase | undefined,
        members: e.members.map(member => ({
          role: member.role as MemberRole | undefined,
          deviceRequests: member.deviceRequests,
          workerNodes: member.workerNodes,
          // The loader admits the curated template fields only, none of them a quantity or int-or-string: the JSON is the typed form.
          template: member.template as k8s.PodTemplateSpec,
        })),
      })),
      placement: Placement.solve(m.inventory, { existing: fleet.existing, ledger: fleet.ledger }),
      kubernetesVersion: fleet.kubernetesVersion,
      _source: { path: `ModelDeployment/${d.name}`, fieldName: m.fieldName },
    });
  }

  /** The placement demand of the props: what the solver and the Placement provider place. */
  public static demandOf(name: string, props: Pick<ModelDeploymentProps, 'replicas' | 'clusterSelector' | 'tolerations' | 'serving' | 'engines'>): PlacementDemand {
    return {
      name,
      replicas: props.replicas,
      clusterSelector: props.clusterSelector,
      tolerations: props.tolerations,
      servingMode: props.serving?.mode,
      engines: (props.engines ?? []).map(e => ({
        name: e.name,
        copies: e.copies,
        phase: e.phase,
        members: (e.members ?? []).map(m => ({
          role: m.role,
          pods: m.role === MemberRole.WORKER ? m.workerNodes : undefined,
          deviceRequests: m.deviceRequests,
        })),
      })),
    };
  }

  /**
   * Checks the props without placing anything, as the constructor does first: the demand (engines, members, device
   * requests, CEL selectors), labels, serving, and each member's template. The Pulumi component calls it before the
   * placement runs, so `pulumi preview` reports what `synth` would.
   *
   * @throws SpecError listing every problem found, each under `path`
   */
  public static validate(path: string, props: Omit<ModelDeploymentProps, 'placement'>): void {
    const issues = new Issues(path);
    ModelDeployment.checkProps(issues, ModelDeployment.demandOf(path, props), props);
    issues.throwIfAny();
  }

  private static checkProps(issues: Issues, demand: PlacementDemand, props: Omit<ModelDeploymentProps, 'placement'>): void {
    validateDemand(issues, demand);
    for (const key of Object.keys(props.labels ?? {})) {
      issues.check(!RESERVED_LABEL_PREFIX.test(key), `labels.${key}`, key, 'uses a reserved prefix: inferkit.dev and modelplane.ai labels select and count replicas',
        'Use a label key of your own domain');
    }
    const mode = props.serving?.mode ?? ServingMode.UNIFIED;
    issues.check(!(mode === ServingMode.PREFILL_DECODE && props.serving?.inferencePool === false), 'serving.inferencePool', false,
      'is off, but PrefillDecode serving is routed by the InferencePool\'s endpoint picker', 'Remove inferencePool: false, or use Unified serving');
    issues.check(!props.serving?.gateway || mode === ServingMode.PREFILL_DECODE || props.serving.inferencePool === true, 'serving.gateway', props.serving?.gateway?.name,
      'is set, but the HTTPRoute targets the InferencePool, which Unified serving renders only with inferencePool: true', 'Set serving.inferencePool to true');
    (props.engines ?? []).forEach((e, i) => (e.members ?? []).forEach((m, j) => issues.check((m.template?.spec?.containers ?? []).length === 1,
      `engines[${i}].members[${j}].template.spec.containers`, undefined, 'must hold exactly one container (the engine)', 'Keep one container in the template')));
  }

  /** Name of the deployment. */
  public readonly name: string;
  /** Namespace of the objects. */
  public readonly namespace: string;
  /** Replicas as placed and rendered, by index. */
  public readonly replicas: readonly RenderedReplica[];
  /** The assignments the placement gave (fed back as `existing` on the next run). */
  public readonly assignments: readonly ReplicaAssignment[];

  private readonly charts = new Map<string, Chart>();

  constructor(scope: Construct, id: string, props: ModelDeploymentProps) {
    super(scope, id);
    this.name = props.name ?? id;
    this.namespace = props.namespace ?? 'default';
    const issues = new Issues(props._source?.path ?? this.node.path, props._source?.fieldName);
    // Named as the ledger names owners, `<namespace>/<name>`, so the deployment's own usage is never counted against it.
    const demand = ModelDeployment.demandOf(`${this.namespace}/${this.name}`, props);
    ModelDeployment.checkProps(issues, demand, props);
    issues.throwIfAny();
    const mode = props.serving?.mode ?? ServingMode.UNIFIED;
    if (props._source && mode === ServingMode.PREFILL_DECODE && !props.serving?.gateway) {
      // A Modelplane manifest: its controller routes every replica through its own Gateway, which inferkit has no say in.
      issues.warn('servingMode', ServingMode.PREFILL_DECODE, PREFILL_DECODE_ROUTE, `Route to the InferencePool ${this.name} with an HTTPRoute on your Gateway`);
      recordWarnings(this, issues);
    }

    const outcome = props.placement.resolve(demand, issues);
    issues.throwIfAny();
    this.assignments = outcome.assignments;
    const rendered: RenderedReplica[] = [];
    const byCluster = new Map<string, ReplicaAssignment[]>();
    for (const a of [...outcome.assignments].sort((x, y) => x.replica - y.replica)) {
      byCluster.set(a.cluster, [...(byCluster.get(a.cluster) ?? []), a]);
    }
    for (const [cluster, assignments] of [...byCluster].sort(([a], [b]) => compareStrings(a, b))) {
      const chart = new Chart(this, cluster, { namespace: this.namespace });
      this.charts.set(cluster, chart);
      const cache = props.modelCache
        ? new ModelCache(chart, 'model-cache', { ...props.modelCache, name: props.modelCache.name ?? `${this.name}-cache`, podDefaults: props.modelCache.podDefaults ?? props.podDefaults })
        : undefined;
      const poolName = this.renderRouting(chart, props, mode);
      for (const a of assignments) {
        const replica = this.renderReplica(chart, issues, props, a, outcome.inventory, cache);
        rendered.push({
          index: a.replica,
          cluster,
          pools: Object.fromEntries(a.members.map(m => [`${m.engine}/${m.member}`, m.pool])),
          endpoint: mode === ServingMode.UNIFIED ? replica.endpoint : poolName!,
        });
      }
    }
    issues.throwIfAny();
    this.replicas = rendered.sort((x, y) => x.index - y.index);
  }

  /** The clusters that host a replica, by name. */
  public get clusters(): string[] {
    return [...this.charts.keys()];
  }

  /** The chart of one cluster's share. */
  public clusterChart(cluster: string): Chart {
    const chart = this.charts.get(cluster);
    if (!chart) throw new Error(`ModelDeployment ${this.node.path} places no replica on cluster '${cluster}'; it uses ${this.clusters.join(', ') || 'none'}`);
    return chart;
  }

  /** Routing of one cluster: a Service, and/or an InferencePool, whose name it returns. */
  private renderRouting(chart: Chart, props: ModelDeploymentProps, mode: ServingMode): string | undefined {
    const selector = { [LedgerLabels.DEPLOYMENT]: this.name, [ModelReplicaLabels.SERVING]: 'true' };
    const metadata = { labels: props.labels, annotations: props.annotations };
    if (mode === ServingMode.UNIFIED) {
      new k8s.KubeService(chart, 'service', {
        metadata: objectMeta(this.name, this.namespace, metadata, { [LedgerLabels.DEPLOYMENT]: this.name }),
        spec: { selector, ports: [{ name: 'http', port: ENGINE_PORT, targetPort: k8s.IntOrString.fromNumber(ENGINE_PORT) }] },
      });
    }
    if (mode === ServingMode.PREFILL_DECODE || props.serving?.inferencePool) {
      const pool = new InferencePool(chart, 'inference-pool', {
        name: this.name,
        namespace: this.namespace,
        selector,
        targetPort: ENGINE_PORT,
        mode: mode === ServingMode.PREFILL_DECODE ? phaseScheduling() : SchedulingMode.unified(),
        gateway: props.serving?.gateway,
        metadata,
      });
      return pool.name;
    }
    return undefined;
  }

  private renderReplica(
    chart: Chart, issues: Issues, props: ModelDeploymentProps, a: ReplicaAssignment,
    inventory: FleetInventory | undefined, cache: ModelCache | undefined,
  ): ModelReplica {
    const cluster = inventory?.clusters.find(c => c.name === a.cluster);
    const pools = new Map(cluster?.nodePools.map(p => [p.name, p]));
    const engines = props.engines.map((engine, e) => ({
      name: engine.name,
      copies: engine.copies,
      phase: engine.phase,
      members: engine.members.map((m, i) => {
        // Every member has a pool: the placement was checked whole before rendering.
        const { pool, nodes } = a.members.find(x => x.engine === engine.name && x.member === i)!;
        const f = `engines[${e}].members[${i}]`;
        return {
          role: m.role,
          workerNodes: m.workerNodes,
          template: m.template,
          nodePoolName: pool,
          nodeNames: nodes && [...nodes],
          deviceRequests: m.deviceRequests?.map((r, j) => this.resolveRequest(issues, `${f}.deviceRequests[${j}]`, r, pools.get(pool))),
        };
      }),
    }));
    // The deployment's own problems first, in its own terms; the replica then checks what is left.
    issues.throwIfAny();
    return new ModelReplica(chart, `replica-${a.replica}`, {
      name: `${this.name}-${a.replica}`,
      namespace: this.namespace,
      clusterName: a.cluster,
      deploymentName: this.name,
      servingMode: props.serving?.mode,
      modelCache: cache,
      kubernetesVersion: KubernetesVersion.forResourceApi(cluster?.draApiVersion ?? '') ?? props.kubernetesVersion,
      podDefaults: props.podDefaults,
      metadata: { labels: props.labels, annotations: props.annotations },
      engines,
    });
  }

  /** A request resolved against its pool: the class to claim through, and the device the ledger counts. */
  private resolveRequest(issues: Issues, f: string, r: DeploymentDeviceRequestProps, pool: FleetNodePool | undefined): DeviceRequestProps {
    const device = pool && matchingDevice(pool, r);
    const deviceClassName = r.deviceClassName ?? device?.deviceClassName;
    issues.check(deviceClassName !== undefined, `${f}.deviceClassName`, undefined,
      pool ? `is missing, and no claimable device of pool '${pool.name}' matches the request` : 'is missing, and the placement has no inventory to take it from',
      'Name the DeviceClass, or place with an inventory whose pool has a matching device');
    return { name: r.name, count: r.count, selectors: r.selectors, deviceClassName: deviceClassName ?? '', deviceName: device?.name };
  }
}
