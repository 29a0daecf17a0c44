// Runs the real Pulumi engine (CLI, Node.js language host and the Kubernetes provider, all built from Go
// modules by test/cluster/build.sh) against a local file backend: no login, no update checks, no downloads.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { binDir } from './cluster';

const REPO = path.resolve(__dirname, '..', '..');

export interface PulumiResult { readonly code: number; readonly stdout: string; readonly stderr: string }

/** A Pulumi project in a folder of its own, with its own PULUMI_HOME and file backend, removed by `dispose()`. */
export class PulumiProject {
  /**
   * Creates a project from program files. It lives under the repository's `.inferkit/` folder (ignored by
   * git) so that the program resolves `@pulumi/*` and inferkit from the repository's node_modules.
   */
  public static create(name: string, files: Record<string, string>, env: Record<string, string> = {}): PulumiProject {
    const root = path.join(REPO, '.inferkit');
    fs.mkdirSync(root, { recursive: true });
    const dir = fs.mkdtempSync(path.join(root, `${name}-`));
    fs.writeFileSync(path.join(dir, 'Pulumi.yaml'), `name: ${name}\nruntime: nodejs\ndescription: inferkit test program\n`);
    for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), text);
    fs.mkdirSync(path.join(dir, 'state'));
    fs.mkdirSync(path.join(dir, 'home'));
    return new PulumiProject(dir, env);
  }

  private readonly env: NodeJS.ProcessEnv;

  private constructor(public readonly dir: string, extra: Record<string, string>) {
    const bin = binDir();
    this.env = {
      ...process.env,
      ...extra,
      PATH: [bin, path.join(REPO, 'node_modules', '@pulumi', 'pulumi'), path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
      PULUMI_HOME: path.join(dir, 'home'),
      PULUMI_BACKEND_URL: `file://${path.join(dir, 'state')}`,
      PULUMI_CONFIG_PASSPHRASE: 'inferkit-test',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: 'true',
      PULUMI_SKIP_CONFIRMATIONS: 'true',
    };
  }

  /** Runs `pulumi <args>` in the project; never throws, so a test can assert on the output. */
  public run(...args: string[]): Promise<PulumiResult> {
    return new Promise(resolve => {
      execFile('pulumi', [...args, '--non-interactive', '--color=never'], { cwd: this.dir, env: this.env, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }

  /** Like `run`, but fails with the engine's output when the command fails. */
  public async ok(...args: string[]): Promise<string> {
    const r = await this.run(...args);
    if (r.code !== 0) throw new Error(`pulumi ${args.join(' ')} exited with ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  public dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
