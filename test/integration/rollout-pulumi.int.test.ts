// The ModelInfer Pulumi component on the real engine: a changed image rolls group by group in `pulumi up`, within the
// budget, with surge groups that exist only during the rollout, and a stuck wave fails the update (rolled back on ask).
import { spawn } from 'child_process';
import * as path from 'path';
import { GroupsProps, GroupWatcher, modelInferProgram, waitAllReady } from './_rollout-helpers';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube } from '../harness/kube';
import { PulumiStack } from '../harness/pulumi';

const kubeconfigFile = process.env[KUBECONFIG_ENV]!;
const kube = Kube.fromKubeconfig(kubeconfigFile);
afterAll(() => kube.close());

const program = (p: GroupsProps, extra: { onFailure?: 'Halt' | 'Rollback'; progressDeadlineSeconds?: number } = {}) => modelInferProgram(kubeconfigFile, p, extra);

describe('ModelInfer component: rolling InferGroups in pulumi up', () => {
  test('an image change rolls 5 of 6 groups in 3 waves, never fewer than 4 Ready, each wave prepared during the one before; a second up changes nothing', async () => {
    const ns = 'rollout-pulumi';
    await kube.apply(restrictedNamespace(ns));
    // Ready 3 s after they start: the executor sees each wave's pods made before they are Ready.
    const base: GroupsProps = {
      namespace: ns, name: 'llm', replicas: 6, image: 'registry.example/vllm:v1', maxUnavailable: 2, partition: 1, podAnnotations: { 'test.inferkit.dev/ready-delay': '3s' },
    };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'rollout', program: program(base) });
    try {
      expect((await s.stack.up()).summary.result).toBe('succeeded');
      await waitAllReady(kube, ns, 'llm', 6);

      const watcher = new GroupWatcher(kube, ns, 'llm').start();
      let output = '';
      const next = await s.withProgram(program({ ...base, image: 'registry.example/vllm:v2' }));
      const up = await next.up({ onOutput: o => { output += o; } });
      await watcher.stop();
      expect(up.summary.result).toBe('succeeded');
      expect(watcher.minReady()).toBeGreaterThanOrEqual(4);
      expect(watcher.images.get(0)).toEqual(new Set(['registry.example/vllm:v1']));
      for (const g of [1, 2, 3, 4, 5]) expect(watcher.restarts(g)).toBe(1);
      // One line per wave, shown by `pulumi up` (as it happens, and again in the summary's diagnostics).
      expect([...new Set(output.match(/wave \d+: updating groups [^(]*/g)?.map(l => l.trim()))]).toEqual([
        'wave 1: updating groups llm-1, llm-2', 'wave 2: updating groups llm-3, llm-4', 'wave 3: updating groups llm-5',
      ]);
      // Waves 2 and 3 had their templates applied while the wave before became Ready (restarting nothing: each group
      // restarted once, above).
      expect([...new Set(output.match(/next wave prepared: templates of groups [^;]*/g))]).toEqual([
        'next wave prepared: templates of groups llm-3, llm-4 applied', 'next wave prepared: templates of groups llm-5 applied',
      ]);

      const preview = await next.preview();
      expect(preview.changeSummary?.update ?? 0).toBe(0);
      await next.destroy();
    } finally {
      s.dispose();
    }
  });

  test('with maxSurge 1 a surge group exists only during the rollout, and its ENTRY_ADDRESS names its own entry pod', async () => {
    const ns = 'rollout-surge';
    await kube.apply(restrictedNamespace(ns));
    const base: GroupsProps = { namespace: ns, name: 'llm', replicas: 3, image: 'registry.example/vllm:v1', maxUnavailable: 0, maxSurge: 1 };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'surge', program: program(base) });
    try {
      await s.stack.up();
      await waitAllReady(kube, ns, 'llm', 3);
      const watcher = new GroupWatcher(kube, ns, 'llm').start();
      const next = await s.withProgram(program({ ...base, image: 'registry.example/vllm:v2' }));
      expect((await next.up()).summary.result).toBe('succeeded');
      await watcher.stop();
      // maxUnavailable 0: all 3 groups Ready at every sample (the surge group stands in for the one being replaced).
      expect(watcher.minReady()).toBeGreaterThanOrEqual(3);
      const surgePods = watcher.samples.flatMap(x => x.pods).filter(p => p.metadata.labels['rollout.inferkit.dev/unit'] === '3');
      expect(surgePods.length).toBeGreaterThan(0);
      const entry = surgePods.find(p => p.metadata.name === 'llm-3-serve-0-0')!;
      const env = Object.fromEntries(entry.spec.containers[0].env.map((e: any) => [e.name, e.value]));
      expect(env.ENTRY_ADDRESS).toBe(`${entry.spec.hostname}.${entry.spec.subdomain}.${ns}`);
      expect(entry.spec.subdomain).toBe('llm-3-serve-0-0');
      // Gone after the rollout, with its Service.
      expect(await kube.list('v1', 'Pod', ns, 'rollout.inferkit.dev/unit=3')).toEqual([]);
      expect(await kube.get('v1', 'Service', ns, 'llm-3-serve-0-0')).toBeUndefined();
      await next.destroy();
    } finally {
      s.dispose();
    }
  });

  test('a wave that never becomes Ready fails the update naming the group and reason; Rollback returns it to the old revision', async () => {
    const ns = 'rollout-fail';
    await kube.apply(restrictedNamespace(ns));
    const base: GroupsProps = { namespace: ns, name: 'llm', replicas: 3, image: 'registry.example/vllm:v1', maxUnavailable: 1 };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'fail', program: program(base) });
    try {
      await s.stack.up();
      await waitAllReady(kube, ns, 'llm', 3);
      const bad = { ...base, image: 'registry.example/vllm:v2', podAnnotations: { 'test.inferkit.dev/fail': 'CrashLoopBackOff' } };
      const next = await s.withProgram(program(bad, { onFailure: 'Rollback', progressDeadlineSeconds: 5 }));
      let output = '';
      const failure = await next.up({ onOutput: o => { output += o; } }).then(() => undefined, (e: Error) => e.message);
      expect(failure).toMatch(/Unable to roll rollout-fail\/modelinfer\.llm to revision \w+: llm-0 not Ready after \d+ s \(progress deadline 5 s\)/);
      expect(failure).toMatch(/pod llm-0-serve-0-0: container engine CrashLoopBackOff/);
      expect(failure).toMatch(/Groups llm-0 were rolled back to revision \w+ and are Ready/);
      const pods = await waitAllReady(kube, ns, 'llm', 3);
      expect(new Set(pods.map(p => p.spec.containers[0].image))).toEqual(new Set(['registry.example/vllm:v1']));
      // llm-1's templates were applied ahead while llm-0 was awaited; the halt put them back, so a pod of llm-1 made
      // again later runs v1 too.
      expect(output).toMatch(/next wave prepared: templates of groups llm-1 applied/);
      expect(output).toMatch(/templates of groups llm-1, prepared for the next wave, put back/);
      const templates = (await kube.list('apps/v1', 'StatefulSet', ns)).map(o => o.spec.template.spec.containers[0].image);
      expect(new Set(templates)).toEqual(new Set(['registry.example/vllm:v1']));
    } finally {
      s.dispose();
    }
  });

  test('a pulumi up killed during the second wave resumes on the next up: no group rolled twice, the floor held throughout', async () => {
    const ns = 'rollout-resume';
    await kube.apply(restrictedNamespace(ns));
    const base: GroupsProps = {
      namespace: ns,
      name: 'llm',
      replicas: 6,
      image: 'registry.example/vllm:v1',
      maxUnavailable: 2,
      partition: 1,
      podAnnotations: { 'test.inferkit.dev/ready-delay': '3s' },
    };
    const s = await PulumiStack.create({ stackName: 'dev', projectName: 'resume', program: program(base) });
    try {
      await s.stack.up();
      await waitAllReady(kube, ns, 'llm', 6);
      const watcher = new GroupWatcher(kube, ns, 'llm').start();
      const next = { ...base, image: 'registry.example/vllm:v2' };

      // The same stack, updated by a child process that is SIGKILLed (with the engine and its plugins) in wave 2.
      const child = spawn(process.execPath, [
        '--require', require.resolve('ts-node/register/transpile-only'), path.join(__dirname, '_rollout-child.ts'),
        JSON.stringify({ dir: s.dir, kubeconfigFile, props: next }),
      ], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TS_NODE_PROJECT: path.join(__dirname, '..', 'tsconfig.json') } });
      let output = '';
      const exited = new Promise(r => child.once('exit', r));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no second wave within 120 s:\n${output}`)), 120_000);
        child.stdout!.on('data', d => {
          output += d;
          if (/wave 2: updating groups/.test(output)) { clearTimeout(timer); resolve(); }
        });
        child.stderr!.on('data', d => { output += d; });
      });
      process.kill(-child.pid!, 'SIGKILL');
      await exited;

      // Pulumi's documented recovery from an interrupted update: `pulumi cancel` (the lock), then export the state,
      // drop its pending operations, and import it.
      await s.stack.cancel();
      const state = await s.stack.exportStack();
      expect(state.deployment.pending_operations?.length).toBeGreaterThan(0);
      delete state.deployment.pending_operations;
      await s.stack.importStack(state);

      const resumed = await (await s.withProgram(program(next))).up();
      await waitAllReady(kube, ns, 'llm', 6);
      await watcher.stop();
      expect(resumed.summary.result).toBe('succeeded');
      expect(watcher.minReady()).toBeGreaterThanOrEqual(4);
      expect(watcher.restarts(0)).toBe(0);
      for (const g of [1, 2, 3, 4, 5]) expect(watcher.restarts(g)).toBe(1);
      expect(watcher.images.get(5)).toEqual(new Set(['registry.example/vllm:v1', 'registry.example/vllm:v2']));
    } finally {
      s.dispose();
    }
  });
});
