// `inferkit rollout`: for pipelines that apply with kubectl or GitOps. Reads seed CRs or a synth output, applies the
// objects that are not rolled, and rolls each set's units wave by wave with the same planner and executor as the
// Rollout Pulumi resource.
import * as fs from 'fs';
import * as path from 'path';
import { clientOfKubeconfigFile, writeClientWarnings } from './_kubeconfig';
import { executeRollout, RolloutError } from '../providers/rollout-executor';
import { planWaves, RolloutSet, rolloutSets } from '../src';
import { RolloutLabels } from '../src/labels';
import { observeUnits } from '../src/observe';

export const ROLLOUT_USAGE = `Usage: inferkit rollout -f <file.yaml|dir> [-f ...] --kubeconfig <file> [--context <name>] [--dry-run]
                        [--progress-deadline <seconds>] [--backend StatefulSet|LeaderWorkerSet]

Rolls the InferGroups of every ModelInfer in the input (or, with role-level rolling, their role instances) to the
revision the input describes, wave by wave: at most maxUnavailable + maxSurge groups at a time, every pod of a wave
Ready before the next, groups below partition untouched. The input is seed CRs (as for synth) or a synth output folder.
The other objects are applied first, as they are (a Deployment there rolls by its own strategy, not awaited).
--dry-run prints the waves without changing anything (against the live state when --kubeconfig is given, else as if
every group ran another revision). Exits 1 with a report naming each stuck group's pods.`;

/** Parsed command line of `inferkit rollout`. */
export interface RolloutArgs {
  readonly files: string[];
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly dryRun: boolean;
  readonly progressDeadlineSeconds: number;
  readonly backend?: string;
}

/** Parses `rollout` arguments; throws with the usage on anything it does not know. */
export function parseRolloutArgs(argv: readonly string[]): RolloutArgs {
  const files: string[] = [];
  let kubeconfig: string | undefined;
  let context: string | undefined;
  let dryRun = false;
  let progressDeadlineSeconds = 1800;
  let backend: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n\n${ROLLOUT_USAGE}`);
      return v;
    };
    if (a === '-f' || a === '--file') {files.push(value());} else if (a === '--kubeconfig') {kubeconfig = value();} else if (a === '--context') {context = value();} else if (a === '--dry-run') {dryRun = true;} else if (a === '--backend') {backend = value();} else if (a === '--progress-deadline') {
      const v = value();
      if (!/^[1-9]\d{0,6}$/.test(v)) throw new Error(`--progress-deadline '${v}' is not a whole number of seconds from 1 to 9999999: give, for example, 1800`);
      progressDeadlineSeconds = Number(v);
    } else {throw new Error(`unknown argument '${a}'\n\n${ROLLOUT_USAGE}`);}
  }
  if (files.length === 0) throw new Error(`no input: give at least one -f <file.yaml|dir>\n\n${ROLLOUT_USAGE}`);
  if (!kubeconfig && !dryRun) throw new Error(`no cluster: give --kubeconfig <file> (or --dry-run)\n\n${ROLLOUT_USAGE}`);
  return { files, kubeconfig, context, dryRun, progressDeadlineSeconds, backend };
}

/** The YAML files of the inputs: files as given, folders walked (sorted, recursively). */
export function expandInputs(inputs: readonly string[]): string[] {
  return inputs.flatMap(input => {
    if (!fs.existsSync(input)) throw new Error(`${input}: no such file or folder`);
    if (!fs.statSync(input).isDirectory()) return [input];
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))
      .flatMap(e => (e.isDirectory() ? walk(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []));
    return walk(input);
  });
}

/** The waves of every set, as `--dry-run` prints them. */
export function formatWavePlan(set: RolloutSet, plan: ReturnType<typeof planWaves>): string {
  const s = set.strategy;
  const name = (i: number) => `${set.prefix}-${i}`;
  const lines = [`${set.namespace}/${set.set}: ${s.replicas} unit(s) to revision ${set.revision}; maxUnavailable ${s.maxUnavailable}, `
    + `maxSurge ${s.maxSurge}, partition ${s.partition}: ${plan.waves.length} wave(s)`];
  if (plan.created.length) lines.push(`  create: ${plan.created.map(name).join(', ')}`);
  if (plan.surge.length) lines.push(`  surge: ${plan.surge.map(name).join(', ')}`);
  plan.waves.forEach((w, i) => lines.push(`  wave ${i + 1}: ${w.map(name).join(', ')}`));
  if (plan.deleted.length) lines.push(`  delete: ${plan.deleted.map(name).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

type Write = (s: string) => void;
type Synth = (files: string[], backend: string | undefined) => Array<Record<string, any>>;

/** Runs `inferkit rollout`; resolves to the exit code. `synth` turns the input files into objects (the synth command's). */
export async function rollout(argv: readonly string[], synth: Synth, out: Write, err: Write): Promise<number> {
  const args = parseRolloutArgs(argv);
  const { sets, rest } = rolloutSets(synth(expandInputs(args.files), args.backend));
  if (sets.length === 0) err('nothing to roll: the input has no ModelInfer groups or Deployments\n');
  const kube = args.kubeconfig ? clientOfKubeconfigFile(args.kubeconfig, args.context) : undefined;
  if (kube) writeClientWarnings([kube], err);
  try {
    if (args.dryRun) {
      for (const set of sets) {
        const observed = kube
          ? observeUnits(
            (await Promise.all([['apps/v1', 'StatefulSet'], ['apps/v1', 'Deployment']].map(([v, k]) => kube.list(v, k, set.namespace, `${RolloutLabels.SET}=${set.set}`))))
              .flatMap((l, i) => l.map(o => ({ ...o, kind: ['StatefulSet', 'Deployment'][i] }))),
            await kube.list('v1', 'Pod', set.namespace, `${RolloutLabels.SET}=${set.set}`), () => Date.now())
          : set.units.map(u => ({ index: u.index, revision: '(running)', ready: true, since: 0 }));
        out(formatWavePlan(set, planWaves(set.revision, set.strategy, observed)));
      }
      return 0;
    }
    for (const o of rest) await kube!.apply(o);
    for (const set of sets) {
      await executeRollout(new Map([['', kube!]]), set, { progressDeadlineMs: args.progressDeadlineSeconds * 1000, log: line => out(`${line}\n`) });
    }
    return 0;
  } catch (e) {
    if (e instanceof RolloutError) return 1;
    throw e;
  } finally {
    kube?.close();
  }
}
