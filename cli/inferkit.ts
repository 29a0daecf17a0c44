#!/usr/bin/env node
import * as fs from 'fs';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { isModelInferManifest, Manifest, ModelInfer, SpecError, WorkloadBackend } from '../index';

const USAGE = `Usage: inferkit synth -f <file.yaml> [-f <file.yaml> ...] [-o <dir>] [--backend StatefulSet|LeaderWorkerSet]

Reads seed-system manifests (Kthena ModelInfer and ModelServing) and writes the plain Kubernetes
objects inferkit compiles them into: to stdout, or one <kind>-<name>.k8s.yaml file per manifest in <dir>.`;

/** Parsed command line of `inferkit synth`. */
export interface SynthArgs {
  readonly files: string[];
  readonly outdir?: string;
  readonly backend?: WorkloadBackend;
}

/** Parses `synth` arguments; throws with the usage on anything it does not know. */
export function parseSynthArgs(argv: readonly string[]): SynthArgs {
  const files: string[] = [];
  let outdir: string | undefined;
  let backend: WorkloadBackend | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n\n${USAGE}`);
      return v;
    };
    if (a === '-f' || a === '--file') {files.push(value());} else if (a === '-o' || a === '--output') {outdir = value();} else if (a === '--backend') {
      const v = value();
      if (!Object.values(WorkloadBackend).includes(v as WorkloadBackend)) throw new Error(`--backend '${v}' is not a backend: use StatefulSet or LeaderWorkerSet`);
      backend = v as WorkloadBackend;
    } else {throw new Error(`unknown argument '${a}'\n\n${USAGE}`);}
  }
  if (files.length === 0) throw new Error(`no input: give at least one -f <file.yaml>\n\n${USAGE}`);
  return { files, outdir, backend };
}

/** Reads every YAML document of the files, in order, skipping empty ones. */
export function readManifests(files: readonly string[]): Array<{ file: string; doc: Manifest }> {
  const out: Array<{ file: string; doc: Manifest }> = [];
  for (const file of files) {
    for (const d of parseAllDocuments(fs.readFileSync(file, 'utf8'))) {
      if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0].message}`);
      const doc = d.toJS() as Manifest | null;
      if (doc !== null && doc !== undefined) out.push({ file, doc });
    }
  }
  return out;
}

/**
 * Compiles manifests into an App with one chart per manifest. Every manifest is tried, and all errors
 * are reported together.
 */
export function synthManifests(docs: ReadonlyArray<{ file: string; doc: Manifest }>, args: Pick<SynthArgs, 'backend' | 'outdir'> = {}): App {
  const app = new App({ outdir: args.outdir ?? 'dist', outputFileExtension: '.k8s.yaml' });
  const errors: string[] = [];
  for (const { file, doc } of docs) {
    const meta = (doc.metadata ?? {}) as Manifest;
    const id = `${String(doc.kind).toLowerCase()}-${String(meta.name)}`;
    try {
      if (!isModelInferManifest(doc)) {
        throw new Error(`Unable to synthesize ${String(doc.kind)}/${String(meta.name)}: apiVersion '${String(doc.apiVersion)}' kind '${String(doc.kind)}' is not a kind inferkit reads. Use workload.matrixinfer.ai/v1alpha1 ModelInfer or workload.serving.volcano.sh/v1alpha1 ModelServing.`);
      }
      const chart = new Chart(app, id, { namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined, disableResourceNameHashes: true });
      ModelInfer.fromManifest(chart, 'model', doc, { backend: args.backend });
    } catch (e) {
      errors.push(`${file}: ${(e as Error).message}`);
    }
  }
  if (errors.length > 0) throw new SpecErrorList(errors);
  return app;
}

/** Every error of a synth run, one per line. */
export class SpecErrorList extends Error {
  constructor(public readonly errors: readonly string[]) {
    super(errors.join('\n'));
    this.name = 'SpecErrorList';
  }
}

type Write = (s: string) => void;

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], out: Write = s => process.stdout.write(s), err: Write = s => process.stderr.write(s)): number {
  const [command, ...rest] = argv;
  if (command !== 'synth') {
    err(`${command === undefined ? 'no command' : `unknown command '${command}'`}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    const args = parseSynthArgs(rest);
    const app = synthManifests(readManifests(args.files), args);
    if (args.outdir) {
      fs.mkdirSync(path.resolve(args.outdir), { recursive: true });
      app.synth();
      err(`wrote ${app.charts.length} file(s) to ${args.outdir}\n`);
    } else {
      out(app.synthYaml());
    }
    return 0;
  } catch (e) {
    err(`${e instanceof SpecError || e instanceof SpecErrorList ? '' : 'error: '}${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
