// The kubeconfig files of `inferkit rollout` and `status`: read into clients whose relative paths are taken from each
// file's folder, as kubectl takes them, and the clients' warnings shown once, as synth shows its own.
import * as fs from 'fs';
import * as path from 'path';
import { KubeClient } from '../providers/_kube';

/** Reads a kubeconfig file into a client; the errors name the file and what is wrong with it. */
export function clientOfKubeconfigFile(file: string, context: string | undefined): KubeClient {
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) throw new Error(`--kubeconfig ${file}: no such file. Give the path of a kubeconfig file.`);
  try {
    return KubeClient.fromKubeconfigYaml(fs.readFileSync(file, 'utf8'), { context, baseDir: path.dirname(path.resolve(file)) });
  } catch (e) {
    throw new Error(`--kubeconfig ${file}: ${(e as Error).message}`);
  }
}

/**
 * Writes each warning of the clients (`Warning: cluster ... insecure-skip-tls-verify: ...`) once, one a line: several
 * contexts of one kubeconfig may reach the same server. `--strict` is synth's and does not apply: these commands
 * read and roll what is already decided.
 */
export function writeClientWarnings(clients: Iterable<KubeClient>, err: (s: string) => void): void {
  for (const w of new Set([...clients].flatMap(c => c.warnings))) err(`${w}\n`);
}
