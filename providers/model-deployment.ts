import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { App } from 'cdk8s';
import { ModelDeployment as ModelDeploymentChart, ModelDeploymentProps, ModelReplicaLabels, Placement as SynthPlacement } from '../constructs';
import { ClusterTaint, fleetRolloutSet, FleetNodePool, K8sObject, ReplicaAssignment, stableHash } from '../src';
import { checkDeploymentArgs, plainOr, withImages } from './_inputs';
import { Placement } from './placement';
import { Rollout } from './rollout';
import type { OnFailure } from './rollout-executor';
import { componentStatus } from './status';
import type { ObservedStatus } from '../src';

/**
 * A cluster of the fleet a {@link ModelDeployment} may place replicas on. Its name is a plain string: it names the
 * cluster's Kubernetes provider and ConfigGroup, which Pulumi registers when the program runs. Every other field is an
 * Input, so a cluster made in the same program (its kubeconfig, labels or node pools an output) can join the fleet.
 */
export interface FleetClusterArgs {
  /** The cluster's name: in the assignments, and in the names of its Pulumi resources. */
  readonly name: string;
  /** A kubeconfig for the cluster. It is kept secret (encrypted in the state) whether or not it is passed as a secret. */
  readonly kubeconfig: pulumi.Input<string>;
  /** Labels the deployment's clusterSelector matches. @default {} */
  readonly labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Cluster taints: NoSchedule keeps new replicas off; NoExecute drains the cluster. @default [] */
  readonly taints?: pulumi.Input<pulumi.Input<ClusterTaint>[]>;
  /**
   * The cluster's node pools, declared.
   *
   * @default - read live from the cluster's Nodes (`inferkit.dev/pool` label) and ResourceSlices
   */
  readonly nodePools?: pulumi.Input<pulumi.Input<FleetNodePool>[]>;
}

/**
 * Args of a {@link ModelDeployment}: the construct's props, with a fleet in place of a placement, and as Inputs the values
 * that may come from another resource or from config (the replica count, images, the clusters' kubeconfigs, labels,
 * taints and node pools, the rollout's deadline and failure policy). The list of clusters itself is plain: each
 * cluster's Pulumi resources are named after it, and Pulumi registers them when the program runs.
 *
 * What synth would refuse is refused before anything reaches a cluster: plain values when the constructor is called
 * (so at preview); a replica count that is an Output by the Placement's check once it resolves (at preview when it is
 * known then, otherwise during the update, before anything is placed or applied). A value unknown at preview leaves
 * the placement, and all that is rendered from it, unknown in the preview: nothing is placed from a guess.
 */
export interface ModelDeploymentArgs extends Omit<ModelDeploymentProps, 'placement' | 'name' | 'replicas' | '_source'> {
  /**
   * Name of the deployment in the clusters.
   *
   * @default - the resource name
   */
  readonly name?: string;
  /** Replicas, each a full set of the engines in one cluster. */
  readonly replicas: pulumi.Input<number>;
  /**
   * Container images by container name, over the ones in the engines' templates (and any other container the
   * deployment renders): where an image built by another resource, or read from config, comes in.
   *
   * @default - the images of the templates
   */
  readonly images?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The clusters replicas may go to. Removing one places its replicas again on the others. */
  readonly clusters: FleetClusterArgs[];
  /**
   * The namespaces whose labelled workloads count in each cluster's ledger (replicas not yet scheduled): those of all
   * the ModelDeployments that share the fleet, so that this one places around theirs. Workloads of any other
   * namespace are not read; devices already allocated count wherever they are.
   *
   * @default - this deployment's namespace
   */
  readonly ledgerNamespaces?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Replicas that may be unavailable at once across the whole fleet while a new revision rolls out: replicas are
   * updated in waves of this many, each awaited until Ready, whatever cluster they run in.
   *
   * @default 1
   */
  readonly maxUnavailable?: number;
  /**
   * How long one wave of the rollout may take to become Ready.
   *
   * @default 1800
   */
  readonly progressDeadlineSeconds?: pulumi.Input<number>;
  /**
   * What a wave that misses its deadline does: Halt, or Rollback to the previous revision.
   *
   * @default 'Halt'
   */
  readonly onFailure?: pulumi.Input<OnFailure>;
  /**
   * Succeed once the rollout is done, without waiting for every replica's status to be Ready (which `up` otherwise awaits
   * for up to `progressDeadlineSeconds`).
   *
   * @default false - `up` fails while a replica is not Ready, with the reasons
   */
  readonly skipAwait?: pulumi.Input<boolean>;
}

/** Where one replica runs and how to reach it. */
export interface ReplicaOutput {
  /** The replica's index, its identity across runs. */
  readonly index: number;
  /** The cluster it runs in. */
  readonly cluster: string;
  /** The pool of each engine member, `<engine>/<member index>` to pool name. */
  readonly pools: Record<string, string>;
  /** Its Service's address (Unified), or the name of its cluster's InferencePool (PrefillDecode). */
  readonly endpoint: string;
  /** Retained, Placed, Moved or Degraded (its cluster could not be read). */
  readonly state: string;
}

/**
 * A ModelDeployment on a fleet of clusters, in `pulumi up`: a {@link Placement} decides each replica's cluster and
 * pools (retaining earlier decisions), the construct renders each cluster's share, one Kubernetes provider per
 * cluster applies its Services, claim templates and routes, and a {@link Rollout} applies the replicas' workloads:
 * a new revision in waves of `maxUnavailable` replicas across the whole fleet, each awaited until Ready.
 */
export class ModelDeployment extends pulumi.ComponentResource {
  /** Replica to cluster, pools, endpoint and state. */
  public readonly replicas: pulumi.Output<ReplicaOutput[]>;
  /** The placement resource. */
  public readonly placement: Placement;
  /** The rollout of the replicas' workloads, fleet-wide within `maxUnavailable`. */
  public readonly rollout: Rollout;
  /** Modelplane's status (replicas total and ready, the Ready condition), with each replica's cluster, pool and readiness; observed after the rollout and on refresh. */
  public readonly status: pulumi.Output<ObservedStatus>;

  constructor(name: string, args: ModelDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    const deployment = args.name ?? name;
    const namespace = args.namespace ?? 'default';
    const path = `ModelDeployment/${namespace}/${deployment}`;
    const {
      clusters: _c, images: _i, replicas: _r, maxUnavailable: _m, progressDeadlineSeconds: _p, onFailure: _o, skipAwait: _s, ledgerNamespaces: _l,
      ...props
    } = args;
    // Everything synth would refuse is refused first, before anything is registered with the engine (and so at preview).
    // A replica count that is an Output is judged once resolved by the Placement's check, which runs the same rules on
    // the demand (at preview when known then, else in the update), before anything is placed or applied: an error in
    // an apply would instead fail every resource rendered from it, each with the message.
    checkDeploymentArgs(path, props, plainOr(args.replicas), args.maxUnavailable);
    super('inferkit:index:ModelDeployment', name, {}, opts);
    // Unknown at preview, the demand leaves the placement unknown, and so everything rendered from it.
    const replicas = pulumi.output(args.replicas);
    this.placement = new Placement(`${name}-placement`, {
      demand: replicas.apply(r => ModelDeploymentChart.demandOf(`${namespace}/${deployment}`, { ...props, replicas: r })),
      // Secret whatever the caller passed: the resource's inputs are kept in the state, encrypted only when secret.
      clusters: args.clusters.map(c => pulumi.secret(pulumi.all([c.kubeconfig, c.labels, c.taints, c.nodePools]))
        .apply(([kubeconfig, labels, taints, nodePools]) => ({ name: c.name, labels, taints, nodePools, kubeconfig }))),
      ledgerNamespaces: args.ledgerNamespaces,
    }, { parent: this });

    // Rendered once per placement, for every cluster's ConfigGroup and the outputs.
    const placed = pulumi.all([this.placement.assignments, this.placement.pools, this.placement.draApiVersions]);
    const rendered = pulumi.all([placed, replicas, pulumi.output(args.images)]).apply(([[assignments, pools, dra], count, images]) => {
      const app = new App();
      const chart = new ModelDeploymentChart(app, deployment, {
        ...props,
        name: deployment,
        replicas: count,
        placement: SynthPlacement.assigned(assignments, {
          clusters: args.clusters.map(c => ({
            name: c.name,
            draApiVersion: dra?.[c.name],
            nodePools: Object.entries(pools).filter(([key]) => key.startsWith(`${c.name}/`)).map(([, p]) => p),
          })),
        }),
      });
      const states = new Map(assignments.map((a: ReplicaAssignment) => [a.replica, a.state ?? 'Retained']));
      // Each replica's objects are rolled across the fleet; the rest of each cluster's share is applied as it is.
      const objects = Object.fromEntries(chart.clusters.map(c => [c, withImages(chart.clusterChart(c).toJson() as K8sObject[], images)]));
      const replicaOf = (o: K8sObject): number | undefined => {
        const m = new RegExp(`^${deployment}-(\\d+)$`).exec(o.metadata?.labels?.[ModelReplicaLabels.REPLICA] ?? '');
        return m ? Number(m[1]) : undefined;
      };
      const set = fleetRolloutSet(deployment, namespace, chart.replicas.map(rep => ({
        index: rep.index, cluster: rep.cluster, objects: objects[rep.cluster].filter(o => replicaOf(o) === rep.index),
      })), { maxUnavailable: args.maxUnavailable ?? 1 }, v => stableHash(v));
      return {
        statics: Object.fromEntries(Object.entries(objects).map(([c, objs]) => [c, objs.filter(o => replicaOf(o) === undefined)])),
        set,
        replicas: chart.replicas.map(rep => ({ ...rep, pools: { ...rep.pools }, state: states.get(rep.index)! })),
      };
    });

    const statics = args.clusters.map(c => {
      const provider = new k8s.Provider(`${name}-${c.name}`, { kubeconfig: pulumi.secret(c.kubeconfig) }, { parent: this });
      // Services, claim templates, pools and routes first; the replicas' workloads go through the Rollout below.
      return new k8s.yaml.v2.ConfigGroup(`${name}-${c.name}`, { objs: rendered.apply(r => r.statics[c.name] ?? []), skipAwait: true }, { parent: this, provider });
    });
    const kubeconfigs = pulumi.all(args.clusters.map(c => pulumi.output(c.kubeconfig).apply(k => [c.name, k] as const))).apply(Object.fromEntries);
    this.rollout = new Rollout(`${name}-rollout`, {
      sets: rendered.apply(r => [r.set]),
      kubeconfigs,
      progressDeadlineSeconds: args.progressDeadlineSeconds,
      onFailure: args.onFailure,
    }, { parent: this, dependsOn: statics });
    this.replicas = rendered.apply(r => r.replicas);
    const objects = rendered.apply(r => [...Object.values(r.statics).flat(), ...r.set.units.flatMap(u => u.objects)]);
    const awaited = { skipAwait: args.skipAwait, timeoutSeconds: args.progressDeadlineSeconds };
    this.status = componentStatus(this, name, objects, kubeconfigs, awaited, [this.rollout]);
    this.registerOutputs({ replicas: this.replicas, status: this.status });
  }
}
