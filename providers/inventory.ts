/**
 * Reads one cluster's live state for the Placement provider: its node pools with the DRA devices each node has
 * (from Nodes, ResourceSlices and DeviceClasses), and the ledger: the devices held on each node by any workload (from
 * allocated ResourceClaims and the extended resources of bound Pods), and those inferkit workloads' pods not yet
 * scheduled will hold (from labelled Deployments and StatefulSets).
 *
 * This file only fetches; the objects are folded into pools and ledger entries by the pure functions of the core
 * (`src/placement/cluster-objects.ts`: `liveInventoryOf`), tested without a server.
 *
 * Imports are light (node builtins, `yaml`, a few `src/` modules): the provider requires this file inside its methods.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/
 */
import { configurationProblem, KubeClient, KubeObject } from './_kube';
import { formatWarning } from '../src/errors';
import { compareStrings } from '../src/hash';
import { LedgerLabels, NODE_POOL_LABEL } from '../src/labels';
import { ClusterObjectLists, liveInventoryOf, nodePoolsOf } from '../src/placement/cluster-objects';
import type { ClusterTaint, FleetCluster, FleetNodePool, LedgerEntry } from '../src/placement/inventory';

/** How to reach one cluster of the fleet, and what the fleet declares about it. */
export interface ClusterConnection {
  /** The cluster's name in the fleet and in the ledger. */
  readonly name: string;
  /** A kubeconfig as YAML text (not a path); its current context is used. A secret. */
  readonly kubeconfig: string;
  /** @default {} */
  readonly labels?: Record<string, string>;
  /** @default [] */
  readonly taints?: ClusterTaint[];
}

/** A cluster as read: its pools, the devices other workloads hold there, and why it could not be read. */
export interface LiveCluster {
  readonly cluster: FleetCluster;
  readonly ledger: LedgerEntry[];
  /** Why the cluster is `unreachable`, in a line. @default - it was read */
  readonly error?: string;
  /**
   * What to show the user, one `Warning: ...` line each: an unsafe kubeconfig (`insecure-skip-tls-verify`), ledger
   * workloads skipped or capped.
   */
  readonly warnings: string[];
}

export interface ReadOptions {
  /** How long each request may wait for the server before the cluster counts as unreachable. @default 10000 */
  readonly timeoutMs?: number;
  /**
   * The namespaces whose labelled Deployments and StatefulSets make the ledger of pods not yet scheduled: those of the
   * fleet's deployments. Workloads elsewhere are not read, so that a user of another namespace cannot push a replica
   * off a cluster by labelling a Deployment; devices already allocated count wherever they are.
   *
   * @default - every namespace
   */
  readonly ledgerNamespaces?: readonly string[];
}

/** DRA API versions, newest first: v1 from Kubernetes 1.34, v1beta2 in 1.33, v1beta1 in 1.32. */
export const DRA_API_VERSIONS: readonly string[] = ['resource.k8s.io/v1', 'resource.k8s.io/v1beta2', 'resource.k8s.io/v1beta1'];

/**
 * Reads a cluster's node pools and ledger. A cluster that cannot be reached (connection refused, timeout, or any HTTP
 * error status but 401 and 403, 5xx included) is returned `unreachable` with the reason in `error`, never thrown.
 * Throws for what a retry cannot fix, so that no replica moves because of a typo: a kubeconfig that cannot be used,
 * credentials the server refuses (401, 403) or that cannot be obtained (an exec plugin that fails or is not installed,
 * a token file that cannot be read, a proxy that wants credentials) and a server certificate that cannot be verified.
 * A malformed ledger workload is skipped with a warning.
 */
export async function readLiveCluster(conn: ClusterConnection, options: ReadOptions = {}): Promise<LiveCluster> {
  const meta = { name: conn.name, ...(conn.labels ? { labels: conn.labels } : {}), ...(conn.taints ? { taints: conn.taints } : {}) };
  let client: KubeClient;
  try {
    client = KubeClient.fromKubeconfigYaml(conn.kubeconfig, { timeoutMs: options.timeoutMs ?? 10_000 });
  } catch (e) {
    throw new Error(`Cluster '${conn.name}': ${(e as Error).message}`);
  }
  const warnings = [...client.warnings];
  let objects: ClusterObjects;
  try {
    objects = await fetchObjects(client, options.ledgerNamespaces);
  } catch (e) {
    const problem = configurationProblem(e);
    if (problem) throw new Error(`Unable to read cluster '${conn.name}' at ${client.server}: ${problem}. Nothing was placed.`);
    const reason = reasonOf(e);
    const error = reason.includes(client.server) ? reason : `${client.server}: ${reason}`;
    return { cluster: { ...meta, nodePools: [], unreachable: true }, ledger: [], error, warnings };
  } finally {
    client.close();
  }
  const live = liveInventoryOf(conn.name, objects);
  return {
    cluster: { ...meta, nodePools: live.nodePools, ...(objects.dra ? { draApiVersion: objects.dra } : {}) },
    ledger: live.ledger,
    warnings: [...warnings, ...live.warnings.map(formatWarning)],
  };
}

/**
 * The Ready, schedulable nodes of each pool of a cluster, by name (the pools of {@link nodePoolsOf}, without their
 * devices): one request, for checking that pinned nodes are still there. Undefined when the cluster cannot be read.
 */
export async function readPoolNodes(conn: Pick<ClusterConnection, 'kubeconfig'>, options: Pick<ReadOptions, 'timeoutMs'> = {}): Promise<FleetNodePool[] | undefined> {
  let client: KubeClient | undefined;
  try {
    client = KubeClient.fromKubeconfigYaml(conn.kubeconfig, { timeoutMs: options.timeoutMs ?? 10_000 });
    return nodePoolsOf(await client.list('v1', 'Node', undefined, NODE_POOL_LABEL), [], []);
  } catch {
    return undefined;
  } finally {
    client?.close();
  }
}

/** The objects a cluster's inventory and ledger are made of, and the DRA API version it serves, if any. */
interface ClusterObjects extends ClusterObjectLists {
  readonly dra?: string;
}

async function fetchObjects(client: KubeClient, ledgerNamespaces: readonly string[] | undefined): Promise<ClusterObjects> {
  // Discovery first: a cluster without DRA (or one not answering) is found out in one request.
  const dra = await client.firstServed(DRA_API_VERSIONS);
  // Sorted and unique, so that the ledger reads the same whatever the order given.
  const namespaces = ledgerNamespaces === undefined ? [undefined] : [...new Set(ledgerNamespaces)].sort(compareStrings);
  const ledgerWorkloads = (kind: string) => Promise.all(namespaces.map(ns => client.list('apps/v1', kind, ns, LedgerLabels.DEPLOYMENT))).then(lists => lists.flat());
  const [nodes, slices, classes, claims, pods, deployments, statefulSets] = await Promise.all([
    client.list('v1', 'Node', undefined, NODE_POOL_LABEL),
    dra ? client.list(dra, 'ResourceSlice') : [],
    dra ? client.list(dra, 'DeviceClass') : [],
    dra ? client.list(dra, 'ResourceClaim') : [],
    // Only pods bound to a node and not finished hold devices.
    client.list('v1', 'Pod', undefined, undefined, 'spec.nodeName!=,status.phase!=Succeeded,status.phase!=Failed'),
    ledgerWorkloads('Deployment'),
    ledgerWorkloads('StatefulSet'),
  ]);
  const kinded = (kind: string) => (o: KubeObject) => ({ ...o, kind: o.kind ?? kind });
  return {
    nodes,
    slices,
    classes,
    claims,
    pods,
    dra,
    workloads: [...deployments.map(kinded('Deployment')), ...statefulSets.map(kinded('StatefulSet'))],
  };
}

function reasonOf(e: unknown): string {
  const err = e as { message?: string; code?: string };
  const message = (err?.message || err?.code || String(e)).split('\n')[0];
  return message.length > 300 ? `${message.slice(0, 297)}...` : message;
}
