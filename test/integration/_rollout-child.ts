// Runs `pulumi up` of the test ModelInfer in a process of its own, so that a test can SIGKILL it mid-rollout.
// Argument: JSON { dir, kubeconfigFile, props } (a PulumiStack's folder and the test's GroupsProps).
import { GroupsProps, modelInferProgram } from './_rollout-helpers';
import { PulumiStack } from '../harness/pulumi';

async function main(): Promise<void> {
  const { dir, kubeconfigFile, props } = JSON.parse(process.argv[2]) as { dir: string; kubeconfigFile: string; props: GroupsProps };
  const stack = await PulumiStack.attach(dir, { stackName: 'dev', projectName: 'resume', program: modelInferProgram(kubeconfigFile, props) });
  await stack.up({ onOutput: o => process.stdout.write(o) });
}

void main().catch(e => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
});
