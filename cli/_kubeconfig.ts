// The kubeconfig files of `inferkit rollout` and `status`: read into clients whose relative paths are taken from each
// file's folder, as kubectl takes them.
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
