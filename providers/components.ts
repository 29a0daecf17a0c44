// Pulumi components for the single-cluster constructs: each renders its construct in memory, applies the objects that
// are not rolled with @pulumi/kubernetes, and hands the rolled ones to a Rollout resource.
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { App, Chart } from 'cdk8s';
import { Construct } from 'constructs';
import {
  InferenceService as InferenceServiceChart, InferenceServiceProps, Model as ModelChart, ModelInfer as ModelInferChart, ModelInferProps, ModelProps,
} from '../constructs';
import { K8sObject, RolloutSet, rolloutSets, stableHash, stampDeployments } from '../src';
import { withImages } from './_inputs';
import { Rollout } from './rollout';
import type { OnFailure } from './rollout-executor';
import { componentStatus } from './status';
import type { ObservedStatus } from '../src';

/** How a component reaches its cluster and rolls its workloads. */
export interface ClusterRolloutArgs {
  /** A kubeconfig for the cluster. Kept secret (encrypted in the state) whether or not it is passed as a secret. */
  readonly kubeconfig: pulumi.Input<string>;
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
   * Container images by container name, over the ones in the props: where an image built by another resource comes in.
   *
   * @default - the images of the props
   */
  readonly images?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Succeed once the rollout is done, without waiting for the workload's status to be Ready (which `up` otherwise awaits
   * for up to `progressDeadlineSeconds`).
   *
   * @default false - `up` fails while the workload is not Ready, with the reasons
   */
  readonly skipAwait?: pulumi.Input<boolean>;
}


/** What a component renders: the rolled sets and every other object. */
interface Rendered {
  readonly sets: RolloutSet[];
  readonly rest: K8sObject[];
}

function render(namespace: string | undefined, images: Record<string, string> | undefined, build: (chart: Chart) => Construct): Rendered {
  const app = new App();
  const chart = new Chart(app, 'chart', { namespace, disableResourceNameHashes: true });
  build(chart);
  const objects = withImages(stampDeployments(chart.toJson(), v => stableHash(v)), images);
  const { sets, rest } = rolloutSets(objects);
  return { sets, rest };
}

/** The component's Kubernetes provider, ConfigGroup of the static objects, and Rollout of the rolled ones. */
function applyRendered(self: pulumi.ComponentResource, name: string, rendered: pulumi.Output<Rendered>, args: ClusterRolloutArgs): Rollout {
  const kubeconfig = pulumi.secret(args.kubeconfig);
  const provider = new k8s.Provider(name, { kubeconfig }, { parent: self });
  // Services, PodGroups, autoscalers, routes: applied first, without waiting (a Service waits for endpoints otherwise).
  const statics = new k8s.yaml.v2.ConfigGroup(name, { objs: rendered.apply(r => r.rest), skipAwait: true }, { parent: self, provider });
  return new Rollout(name, {
    sets: rendered.apply(r => r.sets),
    kubeconfigs: kubeconfig.apply(k => ({ '': k })),
    progressDeadlineSeconds: args.progressDeadlineSeconds,
    onFailure: args.onFailure,
  }, { parent: self, dependsOn: [statics] });
}

/** The status of the component's workload, observed from every object it renders once its rollout is done. */
function observedStatus(self: pulumi.ComponentResource, name: string, rendered: pulumi.Output<Rendered>, args: ClusterRolloutArgs, rollout: Rollout) {
  const objects = rendered.apply(r => [...r.rest, ...r.sets.flatMap(s => s.units.flatMap(u => u.objects))]);
  const kubeconfigs = pulumi.secret(args.kubeconfig).apply(k => ({ '': k }));
  return componentStatus(self, name, objects, kubeconfigs, { skipAwait: args.skipAwait, timeoutSeconds: args.progressDeadlineSeconds }, [rollout]);
}

/** Args of a {@link ModelInfer}: the construct's props, with the replica count an Input. */
export interface ModelInferArgs extends Omit<ModelInferProps, 'replicas' | 'modelRef' | '_source'>, ClusterRolloutArgs {
  /**
   * Number of InferGroups.
   *
   * @default 1
   */
  readonly replicas?: pulumi.Input<number>;
}

/**
 * A ModelInfer in `pulumi up`: its groups' workloads are rolled wave by wave within `rolloutStrategy` (StatefulSets
 * with `OnDelete`, whose pods the Rollout replaces group by group), its other objects applied with @pulumi/kubernetes.
 */
export class ModelInfer extends pulumi.ComponentResource {
  /** The Rollout resource of the groups. */
  public readonly rollout: Rollout;
  /** The revision the groups run once the update is over. */
  public readonly revision: pulumi.Output<string>;
  /** Kthena's status of the ModelInfer (phase, ready and desired groups, conditions), observed after the rollout and on refresh. */
  public readonly status: pulumi.Output<ObservedStatus>;

  constructor(name: string, args: ModelInferArgs, opts?: pulumi.ComponentResourceOptions) {
    super('inferkit:index:ModelInfer', name, {}, opts);
    const { kubeconfig: _k, progressDeadlineSeconds: _p, onFailure: _o, images: _i, replicas: _r, skipAwait: _s, ...props } = args;
    const rendered = pulumi.all([args.replicas, args.images]).apply(([replicas, images]) =>
      render(args.namespace, images, chart => new ModelInferChart(chart, args.name ?? name, { ...props, replicas })));
    this.rollout = applyRendered(this, name, rendered, args);
    this.revision = rendered.apply(r => r.sets[0]?.revision ?? '');
    this.status = observedStatus(this, name, rendered, args, this.rollout);
    this.registerOutputs({ revision: this.revision, status: this.status });
  }
}

/** Args of a {@link Model}: the construct's props, with the replica count and image Inputs. */
export interface ModelArgs extends Omit<ModelProps, 'replicas' | 'image'>, ClusterRolloutArgs {
  /** Replicas of the model server. @default 1 */
  readonly replicas?: pulumi.Input<number>;
  /** The engine image. @default - the backend's image */
  readonly image?: pulumi.Input<string>;
}

/**
 * A FlexInfer-style Model in `pulumi up`: its Deployment is applied and its own rolling update awaited (the Deployment's
 * RollingUpdate strategy moves the pods), with the same progress deadline and failure report as the group rollouts.
 */
export class Model extends pulumi.ComponentResource {
  public readonly rollout: Rollout;
  /** FlexInfer's status of the Model (phase, ready and desired pods, conditions, cache), observed after the rollout and on refresh. */
  public readonly status: pulumi.Output<ObservedStatus>;

  constructor(name: string, args: ModelArgs, opts?: pulumi.ComponentResourceOptions) {
    super('inferkit:index:Model', name, {}, opts);
    const { kubeconfig: _k, progressDeadlineSeconds: _p, onFailure: _o, images: _i, replicas: _r, image: _im, skipAwait: _s, ...props } = args;
    const rendered = pulumi.all([args.replicas, args.image, args.images]).apply(([replicas, image, images]) =>
      render(args.namespace, images, chart => new ModelChart(chart, args.name ?? name, { ...props, replicas, image })));
    this.rollout = applyRendered(this, name, rendered, args);
    this.status = observedStatus(this, name, rendered, args, this.rollout);
    this.registerOutputs({ status: this.status });
  }
}

/** Args of an {@link InferenceService}: the construct's props. */
export interface InferenceServiceArgs extends InferenceServiceProps, ClusterRolloutArgs {}

/**
 * A KubeDL-style InferenceService in `pulumi up`: each predictor's Deployment is applied and its own rolling update
 * awaited, one predictor after the other, with the same progress deadline and failure report as the group rollouts.
 */
export class InferenceService extends pulumi.ComponentResource {
  public readonly rollout: Rollout;
  /** KubeDL's status of the Inference (each predictor's replicas, ready replicas and traffic), observed after the rollout and on refresh. */
  public readonly status: pulumi.Output<ObservedStatus>;

  constructor(name: string, args: InferenceServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super('inferkit:index:InferenceService', name, {}, opts);
    const { kubeconfig: _k, progressDeadlineSeconds: _p, onFailure: _o, images: _i, skipAwait: _s, ...props } = args;
    const rendered = pulumi.output(args.images).apply(images =>
      render(args.namespace, images, chart => new InferenceServiceChart(chart, args.name ?? name, props)));
    this.rollout = applyRendered(this, name, rendered, args);
    this.status = observedStatus(this, name, rendered, args, this.rollout);
    this.registerOutputs({ status: this.status });
  }
}
