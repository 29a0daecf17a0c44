// Runs the real Pulumi engine (the CLI and the Kubernetes provider, built from Go modules by
// test/cluster/build.sh) against a local file backend: no login, no update checks, no downloads.
// Programs are Automation API inline programs: the CLI then talks to this process (`--client`) and never
// needs the Node.js language host, whose module the Go proxy here does not serve.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InlineProgramArgs, LocalWorkspace, LocalWorkspaceOptions, PulumiCommand, PulumiFn, Stack } from '@pulumi/pulumi/automation';
import { binDir } from './cluster';

const REPO = path.resolve(__dirname, '..', '..');
/** The CLI version test/cluster/build.sh builds, and the npm @pulumi/pulumi it pairs with. */
export const PULUMI_VERSION = '3.248.0';

/** A stack in a folder of its own (PULUMI_HOME, file backend), removed by `dispose()`. */
export class PulumiStack {
  public static async create(args: InlineProgramArgs, env: Record<string, string> = {}): Promise<PulumiStack> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `inferkit-pulumi-${args.projectName}-`));
    fs.mkdirSync(path.join(dir, 'state'));
    fs.mkdirSync(path.join(dir, 'home'));
    try {
      const options = await PulumiStack.options(dir, env);
      const stack = await LocalWorkspace.createStack(args, options);
      return new PulumiStack(dir, stack, args, options);
    } catch (e) {
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The stack of another process's {@link PulumiStack} (its folder), for a child process that runs the same stack. */
  public static async attach(dir: string, args: InlineProgramArgs, env: Record<string, string> = {}): Promise<Stack> {
    return LocalWorkspace.selectStack(args, await PulumiStack.options(dir, env));
  }

  /** The workspace options of a stack folder: its PULUMI_HOME, file backend, and the engine built by build.sh. */
  private static async options(dir: string, env: Record<string, string>): Promise<LocalWorkspaceOptions> {
    const bin = binDir();
    const envVars: Record<string, string> = {
      ...env,
      // The engine finds the Kubernetes provider and the Node.js dynamic-provider plugin on PATH.
      PATH: [bin, path.join(REPO, 'node_modules', '@pulumi', 'pulumi'), path.dirname(process.execPath), process.env.PATH ?? ''].join(path.delimiter),
      PULUMI_BACKEND_URL: `file://${path.join(dir, 'state')}`,
      PULUMI_CONFIG_PASSPHRASE: 'inferkit-test',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      // Dynamic providers run in Pulumi's Node.js plugin process and require inferkit's modules by absolute path:
      // from lib/ when installed, from the TypeScript sources here.
      NODE_OPTIONS: `--require ${path.join(REPO, 'node_modules', 'ts-node', 'register', 'transpile-only')}`,
      TS_NODE_PROJECT: path.join(REPO, 'tsconfig.json'),
    };
    // PulumiCommand wants `<root>/bin/pulumi`; the version pins the CLI that build.sh made.
    fs.mkdirSync(path.join(dir, 'cli', 'bin'), { recursive: true });
    if (!fs.existsSync(path.join(dir, 'cli', 'bin', 'pulumi'))) fs.symlinkSync(path.join(bin, 'pulumi'), path.join(dir, 'cli', 'bin', 'pulumi'));
    const pulumiCommand = await PulumiCommand.get({ root: path.join(dir, 'cli') });
    if (pulumiCommand.version?.version !== PULUMI_VERSION) {
      throw new Error(`Unable to start Pulumi: the CLI in ${bin} is ${pulumiCommand.version?.version}, not ${PULUMI_VERSION}. Rebuild it with \`bash test/cluster/build.sh pulumi\`.`);
    }
    return { workDir: dir, pulumiHome: path.join(dir, 'home'), envVars, pulumiCommand };
  }

  private constructor(
    public readonly dir: string,
    public readonly stack: Stack,
    private readonly args: InlineProgramArgs,
    private readonly options: LocalWorkspaceOptions,
  ) {}

  /** The same stack, state and environment, run with another program (the next version of the user's code). */
  public withProgram(program: PulumiFn): Promise<Stack> {
    return LocalWorkspace.selectStack({ ...this.args, program }, this.options);
  }

  public dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
