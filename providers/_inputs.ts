// Helpers of the components for args that are Pulumi Inputs: whether a value is plain (known when the program runs),
// the checks synth would make, run on the values as far as they are resolved, and images given over the rendered ones.
import * as pulumi from '@pulumi/pulumi';
import { ModelDeployment as ModelDeploymentChart, ModelDeploymentProps } from '../constructs';
import { K8sObject, SpecError } from '../src';

/** Stands for an Input not resolved yet: the rules about it wait until it is. */
export const PENDING: unique symbol = Symbol('pending');

/** A value as far as it is known when the program runs: itself when plain, else {@link PENDING}. */
export type Resolved<T> = T | typeof PENDING;

/** The value when it is plain (neither an Output nor a promise), else {@link PENDING}. */
export function plainOr<T>(value: pulumi.Input<T>): Resolved<T> {
  const promise = !!value && typeof (value as { then?: unknown }).then === 'function';
  return pulumi.Output.isInstance(value) || promise ? PENDING : value as T;
}

/** The props of a ModelDeployment that the component takes as they are, without the Inputs it resolves. */
export type DeploymentProps = Omit<ModelDeploymentProps, 'placement' | 'replicas'>;

/**
 * Refuses what synth would refuse, under `path` (`ModelDeployment/<namespace>/<name>`): the construct's checks, then the
 * fleet's rollout budget. A replica count still {@link PENDING} is not judged here: the Placement's check judges it in
 * the demand once it resolves.
 *
 * @throws SpecError listing every problem of the props, or Error naming maxUnavailable
 */
export function checkDeploymentArgs(path: string, props: DeploymentProps, replicas: Resolved<number>, maxUnavailable: number | undefined): void {
  try {
    ModelDeploymentChart.validate(path, { ...props, replicas: replicas === PENDING ? undefined as unknown as number : replicas });
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    const issues = e.issues.filter(i => replicas !== PENDING || i.field !== 'replicas');
    if (issues.length > 0) throw new SpecError(issues);
  }
  const mu = maxUnavailable;
  if (mu !== undefined && !(Number.isInteger(mu) && mu >= 1 && mu <= 2 ** 31 - 1)) {
    throw new Error(`Unable to deploy ${path}: maxUnavailable ${JSON.stringify(mu)} is not a whole number of replicas from 1. `
      + 'Give 1 or more: the fleet is rolled in waves of that many replicas.');
  }
}

/** Replaces the image of every container (and init container) named in `images`, as the single-cluster components do. */
export function withImages(objects: K8sObject[], images: Readonly<Record<string, string>> | undefined): K8sObject[] {
  if (!images || Object.keys(images).length === 0) return objects;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!v || typeof v !== 'object') return v;
    const out: Record<string, unknown> = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    for (const key of ['containers', 'initContainers']) {
      const list = out[key];
      if (Array.isArray(list)) out[key] = list.map(c => (c && typeof c === 'object' && typeof images[c.name] === 'string' ? { ...c, image: images[c.name] } : c));
    }
    return out;
  };
  return objects.map(o => walk(o) as K8sObject);
}
