// Synthesis scale: 1,000 ModelInfers (10,000 objects, rendered to YAML) against the same number of plain
// cdk8s-plus-34 Deployments, each measured in a fresh child process (wall time and peak RSS).
import { execFileSync } from 'child_process';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-34';
import { k8s } from 'cdk8s-plus-34';
import { Accelerator, ModelInfer } from '../index';

const COUNT = 1000;

/** 1P2D with a worker per instance, gang-scheduled: 10 objects per ModelInfer (6 StatefulSets, 3 Services, 1 PodGroup). */
function inferkit(): number {
  const app = new App({ outdir: '/tmp/inferkit-bench' });
  const chart = new Chart(app, 'bench', { namespace: 'bench' });
  const pod = (name: string): k8s.PodTemplateSpec => ({ spec: { containers: [{ name, image: 'vllm/vllm-openai:v0.11.0', ports: [{ containerPort: 8000 }] }] } });
  for (let i = 0; i < COUNT; i++) {
    new ModelInfer(chart, `m${i}`, {
      roles: [['prefill', 1], ['decode', 2]].map(([name, replicas]) => ({
        name: name as string, replicas: replicas as number, workerReplicas: 1, accelerator: Accelerator.nvidia(8), entryTemplate: pod('e'), workerTemplate: pod('w'),
      })),
    });
  }
  return count(app);
}

/** Renders the app to YAML, as `cdk8s synth` does, and counts the objects. */
function count(app: App): number {
  return app.synthYaml().split('\n---\n').length;
}

function baseline(): number {
  const app = new App({ outdir: '/tmp/inferkit-bench' });
  const chart = new Chart(app, 'bench', { namespace: 'bench' });
  for (let i = 0; i < COUNT; i++) {
    for (let j = 0; j < 10; j++) {
      new kplus.Deployment(chart, `d${i}-${j}`, { containers: [{ image: 'vllm/vllm-openai:v0.11.0', portNumber: 8000 }] });
    }
  }
  return count(app);
}

const CASES: Record<string, () => number> = { inferkit, baseline };

interface Result { name: string; objects: number; seconds: number; rssMiB: number }

function child(name: string): Result {
  const out = execFileSync(process.execPath, [...process.execArgv, __filename, name], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!);
}

if (process.argv[2] && CASES[process.argv[2]]) {
  const start = process.hrtime.bigint();
  const objects = CASES[process.argv[2]]();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(`${JSON.stringify({ name: process.argv[2], objects, seconds, rssMiB: process.resourceUsage().maxRSS / 1024 })}\n`);
} else {
  const base = child('baseline');
  const ours = child('inferkit');
  const row = (r: Result) => `| ${r.name.padEnd(22)} | ${String(r.objects).padStart(7)} | ${r.seconds.toFixed(2).padStart(7)} | ${r.rssMiB.toFixed(0).padStart(8)} | ${(r.seconds / base.seconds).toFixed(2).padStart(10)} |`;
  console.log(`Synthesizing ${COUNT} ModelInfers (1P2D, one worker each) vs ${COUNT * 10} cdk8s-plus-34 Deployments`);
  console.log('| case                   | objects | wall s  | peak MiB | x baseline |');
  console.log('|------------------------|---------|---------|----------|------------|');
  console.log(row({ ...base, name: 'cdk8s-plus Deployments' }));
  console.log(row({ ...ours, name: 'inferkit ModelInfer' }));
  console.log(`targets: <= 10 s, <= 1024 MiB, <= 3x baseline -> ${ours.seconds <= 10 && ours.rssMiB <= 1024 && ours.seconds / base.seconds <= 3 ? 'met' : 'NOT met'}`);
}
