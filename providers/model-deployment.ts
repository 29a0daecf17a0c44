import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { App } from 'cdk8s';
import { ModelDeployment as ModelDeploymentChart, ModelDeploymentProps, Placement as SynthPlacement } from '../constructs';
import { ClusterTaint, FleetNodePool, ReplicaAssignment } from '../src';
import { Placement } from './placement';

/** A cluster of the fleet a {@link ModelDeployment} may place replicas on. */
export interface FleetClusterArgs {
  /** The cluster's name: in the assignments, and in the names of its Pulumi resources. */
  readonly name: string;
  /** A kubeconfig for the cluster. It is kept secret (encrypted in the state) whether or not it is passed as a secret. */
  readonly kubeconfig: pulumi.Input<string>;
  /** Labels the deployment's clusterSelector matches. @default {} */
  readonly labels?: Record<string, string>;
  /** Cluster taints: NoSchedule keeps new replicas off; NoExecute drains the cluster. @default [] */
  readonly taints?: ClusterTaint[];
  /**
   * The cluster's node pools, declared.
   *
   * @default - read live from the cluster's Nodes (`inferkit.dev/pool` label) and ResourceSlices
   */
  readonly nodePools?: FleetNodePool[];
}

/** Args of a {@link ModelDeployment}: the construct's props, with a fleet in place of a placement. */
export interface ModelDeploymentArgs extends Omit<ModelDeploymentProps, 'placement' | 'name' | '_source'> {
  /**
   * Name of the deployment in the clusters.
   *
   * @default - the resource name
   */
  readonly name?: string;
  /** The clusters replicas may go to. Removing one places its replicas again on the others. */
  readonly clusters: FleetClusterArgs[];
  /**
   * Don't wait for workloads to become ready.
   *
   * @default false
   */
  readonly skipAwait?: boolean;
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
 * pools (retaining earlier decisions), the construct renders each cluster's share, and one Kubernetes provider per
 * cluster applies it as a ConfigGroup, waiting for the workloads to be ready.
 */
export class ModelDeployment extends pulumi.ComponentResource {
  /** Replica to cluster, pools, endpoint and state. */
  public readonly replicas: pulumi.Output<ReplicaOutput[]>;
  /** The placement resource. */
  public readonly placement: Placement;

  constructor(name: string, args: ModelDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    // Everything synth would refuse is refused first, before anything is registered with the engine (and so at preview).
    ModelDeploymentChart.validate(`${args.namespace ?? 'default'}/${args.name ?? name}`, args);
    super('inferkit:index:ModelDeployment', name, {}, opts);
    const deployment = args.name ?? name;
    const namespace = args.namespace ?? 'default';
    const demand = ModelDeploymentChart.demandOf(`${namespace}/${deployment}`, args);
    this.placement = new Placement(`${name}-placement`, {
      demand,
      // Secret whatever the caller passed: the resource's inputs are kept in the state, encrypted only when secret.
      clusters: args.clusters.map(c => pulumi.secret(c.kubeconfig).apply(kubeconfig => ({
        name: c.name, labels: c.labels, taints: c.taints, nodePools: c.nodePools, kubeconfig,
      }))),
    }, { parent: this });

    // Rendered once per placement, for every cluster's ConfigGroup and the outputs.
    const decided = pulumi.all([this.placement.assignments, this.placement.pools, this.placement.draApiVersions]);
    const rendered = decided.apply(([assignments, pools, dra]) => {
      const app = new App();
      const chart = new ModelDeploymentChart(app, deployment, {
        ...args,
        name: deployment,
        placement: SynthPlacement.assigned(assignments, {
          clusters: args.clusters.map(c => ({
            name: c.name,
            draApiVersion: dra?.[c.name],
            nodePools: Object.entries(pools).filter(([key]) => key.startsWith(`${c.name}/`)).map(([, p]) => p),
          })),
        }),
      });
      const states = new Map(assignments.map((a: ReplicaAssignment) => [a.replica, a.state ?? 'Retained']));
      return {
        objects: Object.fromEntries(chart.clusters.map(c => [c, chart.clusterChart(c).toJson()])),
        replicas: chart.replicas.map(r => ({ ...r, pools: { ...r.pools }, state: states.get(r.index)! })),
      };
    });

    for (const c of args.clusters) {
      const provider = new k8s.Provider(`${name}-${c.name}`, { kubeconfig: pulumi.secret(c.kubeconfig) }, { parent: this });
      new k8s.yaml.v2.ConfigGroup(`${name}-${c.name}`, {
        objs: rendered.apply(r => r.objects[c.name] ?? []),
        skipAwait: args.skipAwait,
      }, { parent: this, provider });
    }
    this.replicas = rendered.apply(r => r.replicas);
    this.registerOutputs({ replicas: this.replicas });
  }
}
