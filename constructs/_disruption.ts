import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { RolloutLabels } from '../src';
import { InferencePoolLabels } from './inference-pool';

/**
 * A PodDisruptionBudget over the pods of one rollout set (every unit of it: the InferGroups of a ModelInfer, or the
 * instances of a role in one group with role-level rolling), so that a node drain never breaks more units than the
 * rollout itself may: `maxUnavailable` pods, where `maxUnavailable` is the rollout's budget in units. A unit is a gang
 * (one missing pod breaks it), so one pod unavailable is one unit broken at most; an unavailable pod counts until it
 * is Ready again, so the next eviction waits for the broken unit to recover.
 *
 * One budget for the whole set rather than one per unit: the eviction API refuses a pod that more than one budget
 * selects, and budgets per unit cannot see each other, so they could not bound how many units break at once. Pods
 * that are not Ready may always be evicted (`unhealthyPodEvictionPolicy: AlwaysAllow`): their unit already counts
 * as unavailable, and a drain is never held by a pod that serves nothing.
 *
 * @see https://kubernetes.io/docs/tasks/run-application/configure-pdb/
 */
export function renderDisruptionBudget(scope: Construct, id: string, metadata: k8s.ObjectMeta, set: string, maxUnavailable: number): void {
  new k8s.KubePodDisruptionBudget(scope, id, {
    metadata,
    spec: {
      selector: { matchLabels: { [RolloutLabels.SET]: set } },
      maxUnavailable: k8s.IntOrString.fromNumber(maxUnavailable),
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}

/** What a workload's NetworkPolicy admits. */
export interface NetworkPolicyPeers {
  /** The labels of the workload's pods: the policy applies to them, and they may reach each other on any port. */
  readonly pods: Record<string, string>;
  /** The ports its Services and routes serve on: open to any client. */
  readonly servingPorts: readonly k8s.IntOrString[];
}

/**
 * A NetworkPolicy that admits into a workload's pods only its routes (the serving ports, from anywhere), its peers (its
 * own pods, on any port: the entry and its workers, NCCL) and the endpoint pickers of its namespace (on any port: they
 * read the engines' metrics). Egress is left open: engines download weights.
 *
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
export function renderNetworkPolicy(scope: Construct, id: string, metadata: k8s.ObjectMeta, peers: NetworkPolicyPeers): void {
  new k8s.KubeNetworkPolicy(scope, id, {
    metadata,
    spec: {
      podSelector: { matchLabels: peers.pods },
      policyTypes: ['Ingress'],
      ingress: [
        { from: [{ podSelector: { matchLabels: peers.pods } }] },
        { from: [{ podSelector: { matchExpressions: [{ key: InferencePoolLabels.EPP, operator: 'Exists' }] } }] },
        ...(peers.servingPorts.length > 0 ? [{ ports: peers.servingPorts.map(port => ({ protocol: 'TCP', port })) }] : []),
      ],
    },
  });
}
