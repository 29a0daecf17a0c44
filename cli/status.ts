// `inferkit status`: what a seed system's controller would show on its CR, without the controller. Reads the input
// (seed CRs or a synth output, as `synth` and `rollout` take) or one `KIND/NAME`, reads each workload's live objects
// from its cluster(s), and prints the status the seed CRD defines, with why a workload is not Ready.
import * as fs from 'fs';
import * as path from 'path';
import { parse, stringify } from 'yaml';
import { clientOfKubeconfigFile, writeClientWarnings } from './_kubeconfig';
import { expandInputs } from './rollout';
import { KubeClient } from '../providers/_kube';
import { observeWorkload } from '../providers/observe';
import { foldStatus, groupWorkloads, K8sObject, SEED_KINDS, WorkloadLabels, workloadRef, WorkloadRef, ObservedStatus } from '../src';

/** The exit code when every workload was read and at least one is not Ready: pipelines gate on it. */
export const NOT_READY_EXIT_CODE = 3;

export const STATUS_USAGE = `Usage: inferkit status -f <file.yaml|dir> [-f ...] --kubeconfig <file> [--context <name>] [-o table|json|yaml] [--watch]
       inferkit status KIND/NAME [-n <namespace>] --kubeconfig <file> [-o table|json|yaml] [--watch]
       (a fleet: --kubeconfig <cluster>=<file> once per cluster, or one kubeconfig whose contexts are named after the clusters)

Prints, for every workload of the input (Kthena ModelInfer and ModelServing, FlexInfer Model, KubeDL Inference,
Modelplane ModelDeployment and ModelReplica), what its seed system's controller would show: a table (phase,
ready/desired, revision, age) with the reason of each workload that is not Ready (the scheduler's message, a PodGroup
not admitted, ImagePullBackOff or CrashLoopBackOff with the last termination reason, a failed prefetch Job, a model
scaled to zero). -o json|yaml prints each CR with exactly the status object of its seed CRD. --watch redraws every
2 seconds until interrupted. KIND is one of ${SEED_KINDS.join(', ')} (any case).
Exit codes: 0 every workload is Ready; ${NOT_READY_EXIT_CODE} one is not (or a cluster could not be read); 1 an error (input, kubeconfig); 2 usage.`;

/** Parsed command line of `inferkit status`. */
export interface StatusArgs {
  readonly files: string[];
  /** `KIND/NAME` given instead of files. */
  readonly ref?: WorkloadRef;
  /** Kubeconfig files, by cluster name ('' for the one cluster). */
  readonly kubeconfigs: ReadonlyMap<string, string>;
  readonly context?: string;
  readonly output: 'table' | 'json' | 'yaml';
  readonly watch: boolean;
  readonly backend?: string;
}

/** A usage error: exit code 2. */
class UsageError extends Error {}

/** Parses `status` arguments; throws with the usage on anything it does not know. */
export function parseStatusArgs(argv: readonly string[]): StatusArgs {
  const files: string[] = [];
  const kubeconfigs = new Map<string, string>();
  let context: string | undefined;
  let namespace: string | undefined;
  let target: string | undefined;
  let output: StatusArgs['output'] = 'table';
  let watch = false;
  let backend: string | undefined;
  const usage = (what: string) => new UsageError(`${what}\n\n${STATUS_USAGE}`);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw usage(`${a} needs a value`);
      return v;
    };
    if (a === '-f' || a === '--file') {
      files.push(value());
    } else if (a === '--kubeconfig') {
      const v = value();
      const named = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)=(.+)$/.exec(v);
      const [cluster, file] = named && !fs.existsSync(v) ? [named[1], named[3]] : ['', v];
      if (kubeconfigs.has(cluster)) throw usage(`--kubeconfig ${v}: ${cluster ? `cluster ${cluster}` : 'the cluster'} is given twice; give one kubeconfig per cluster as <cluster>=<file>`);
      kubeconfigs.set(cluster, file);
    } else if (a === '--context') {
      context = value();
    } else if (a === '-n' || a === '--namespace') {
      namespace = value();
    } else if (a === '-o' || a === '--output') {
      const v = value();
      if (v !== 'table' && v !== 'json' && v !== 'yaml') throw usage(`-o '${v}' is not an output format: use table, json or yaml`);
      output = v;
    } else if (a === '-w' || a === '--watch') {
      watch = true;
    } else if (a === '--backend') {
      backend = value();
    } else if (!a.startsWith('-') && target === undefined) {
      target = a;
    } else {
      throw usage(`unknown argument '${a}'`);
    }
  }
  let ref: WorkloadRef | undefined;
  if (target !== undefined) {
    const [kindText, name, extra] = target.split('/');
    const kind = SEED_KINDS.find(k => k.toLowerCase() === kindText.toLowerCase());
    if (!kind || !name || extra !== undefined) throw usage(`'${target}' is not KIND/NAME: KIND is one of ${SEED_KINDS.join(', ')}, for example ModelInfer/llama`);
    if (files.length > 0) throw usage(`give either -f or ${target}, not both`);
    ref = workloadRef(kind, namespace ?? 'default', name);
  } else if (files.length === 0) {
    throw usage('no input: give -f <file.yaml|dir>, or KIND/NAME');
  }
  if (kubeconfigs.size === 0) throw usage('no cluster: give --kubeconfig <file>');
  if (kubeconfigs.size > 1 && kubeconfigs.has('')) throw usage('with several kubeconfigs, name the cluster of each: --kubeconfig <cluster>=<file>');
  return { files, ref, kubeconfigs, context, output, watch, backend };
}

/** The clients of the clusters: named ones as given; one kubeconfig whose contexts are named after the input's clusters serves them all. */
function clientsOf(args: StatusArgs, clusters: readonly string[]): Map<string, KubeClient> {
  const single = args.kubeconfigs.get('');
  if (single === undefined) return new Map([...args.kubeconfigs].map(([c, f]) => [c, clientOfKubeconfigFile(f, undefined)]));
  if (args.context === undefined && clusters.length > 1) {
    let cfg: K8sObject | undefined;
    try {
      cfg = parse(fs.readFileSync(single, 'utf8'));
    } catch {
      // Not YAML: clientOfKubeconfigFile reports it below.
    }
    const contexts = new Set(Array.isArray(cfg?.contexts) ? cfg.contexts.map((c: K8sObject) => c?.name) : []);
    if (clusters.every(c => contexts.has(c))) return new Map(clusters.map(c => [c, clientOfKubeconfigFile(single, c)]));
  }
  return new Map([['', clientOfKubeconfigFile(single, args.context)]]);
}

/** `5s`, `3m`, `2h`, `4d`, as kubectl prints an age. */
export function formatAge(createdAt: string | undefined, now: number): string {
  if (!createdAt) return '<none>';
  const s = Math.max(0, Math.floor((now - Date.parse(createdAt)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function table(rows: readonly string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map(r => r[i].length)));
  return rows.map(r => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('   ').trimEnd()).join('\n');
}

/** The table `inferkit status` prints: one row per workload, each replica of a fleet, and why each is not Ready. */
export function formatStatusTable(statuses: readonly ObservedStatus[], now: number): string {
  const rows = [['NAMESPACE', 'NAME', 'PHASE', 'READY', 'REVISION', 'AGE']];
  for (const s of statuses) {
    rows.push([s.ref.namespace, `${s.ref.kind.toLowerCase()}/${s.ref.name}`, s.phase, `${s.readyCount}/${s.desired}`, s.revision ?? '-', formatAge(s.createdAt, now)]);
  }
  const parts = [table(rows)];
  for (const s of statuses.filter(x => x.replicas && x.replicas.length > 0)) {
    parts.push(table([['REPLICA', 'CLUSTER', 'POOL', 'READY'], ...s.replicas!.map(r => [r.name, r.cluster || '-', r.pool ?? '-', r.ready ? 'True' : 'False'])]));
  }
  const reasons = statuses.flatMap(s => s.reasons.map(r => `${s.ref.kind.toLowerCase()}/${s.ref.name}: ${r}`));
  if (reasons.length > 0) parts.push(reasons.join('\n'));
  return `${parts.join('\n\n')}\n`;
}

/** Each workload as its seed CR with only its status: a List when there are several, as `kubectl get -o json` prints. */
export function statusDocument(statuses: readonly ObservedStatus[]): K8sObject {
  const items = statuses.map(s => ({
    apiVersion: s.ref.apiVersion, kind: s.ref.kind, metadata: { name: s.ref.name, namespace: s.ref.namespace }, status: s.status,
  }));
  return items.length === 1 ? items[0] : { apiVersion: 'v1', kind: 'List', items };
}

/**
 * The input files by synth run: the cluster folders of a folder given (`<dir>/<cluster>/`, as `synth -o` writes a
 * fleet) each on its own, since every cluster holds objects of the same names; everything else together.
 */
export function synthRuns(inputs: readonly string[]): string[][] {
  const together: string[] = [];
  const byFolder = new Map<string, string[]>();
  for (const input of inputs) {
    for (const file of expandInputs([input])) {
      const folder = path.dirname(file);
      const clusterFolder = fs.statSync(input).isDirectory() && path.resolve(folder) !== path.resolve(input);
      if (clusterFolder) byFolder.set(folder, [...byFolder.get(folder) ?? [], file]);
      else together.push(file);
    }
  }
  return [...together.length ? [together] : [], ...byFolder.values()];
}

type Write = (s: string) => void;
type Synth = (files: string[], backend: string | undefined) => K8sObject[];

/** Options of a run, for tests. */
export interface StatusOptions {
  /** Stops `--watch`. @default - never: until the process is interrupted */
  readonly signal?: AbortSignal;
  /** Time between redraws with `--watch`. @default 2000 */
  readonly intervalMs?: number;
}

/** Runs `inferkit status`; resolves to the exit code. `synth` turns the input files into objects (the synth command's). */
export async function status(argv: readonly string[], synth: Synth, out: Write, err: Write, options: StatusOptions = {}): Promise<number> {
  let args: StatusArgs;
  try {
    args = parseStatusArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`${e.message}\n`);
    return 2;
  }
  const workloads = args.ref ? [{ ref: args.ref, objects: [] as K8sObject[] }]
    : groupWorkloads(synthRuns(args.files).flatMap(files => synth(files, args.backend)));
  if (workloads.length === 0) {
    err('nothing to report: the input has no ModelInfer, ModelServing, Model, Inference, ModelDeployment or ModelReplica\n');
    return 1;
  }
  const labelled = workloads.flatMap(w => w.objects.map(o => o.metadata?.labels?.[WorkloadLabels.CLUSTER]));
  const clusters = [...new Set(labelled.filter((c): c is string => !!c))].sort();
  const clients = clientsOf(args, clusters);
  writeClientWarnings(clients.values(), err);
  try {
    for (;;) {
      const now = Date.now();
      const statuses = await Promise.all(workloads.map(async w => foldStatus(w.ref, w.objects, await observeWorkload(clients, w.ref), now)));
      if (args.watch && args.output === 'table') out('\x1b[H\x1b[2J');
      if (args.output === 'table') out(formatStatusTable(statuses, now));
      else if (args.output === 'json') out(`${JSON.stringify(statusDocument(statuses), undefined, 2)}\n`);
      else out(`${args.watch ? '---\n' : ''}${stringify(statusDocument(statuses))}`);
      const code = statuses.every(s => s.ready) ? 0 : NOT_READY_EXIT_CODE;
      if (!args.watch || options.signal?.aborted) return code;
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, options.intervalMs ?? 2000);
        options.signal?.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
      if (options.signal?.aborted) return code;
    }
  } finally {
    for (const c of clients.values()) c.close();
  }
}
