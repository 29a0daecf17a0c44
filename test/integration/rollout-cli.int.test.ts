// `inferkit rollout` on the real cluster: a synth output applied wave by wave, the floor held throughout, and a
// stuck wave reported with its pods' reasons while the other groups keep their revision.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { stringify } from 'yaml';
import { groupsObjects, GroupsProps, GroupWatcher, isReady, waitAllReady } from './_rollout-helpers';
import { mainAsync } from '../../cli/inferkit';
import { restrictedNamespace } from '../harness/fixtures';
import { KUBECONFIG_ENV } from '../harness/global-setup';
import { Kube } from '../harness/kube';

const kubeconfig = process.env[KUBECONFIG_ENV]!;
const kube = Kube.fromKubeconfig(kubeconfig);
const dirs: string[] = [];
afterAll(() => {
  kube.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Writes a synth output folder of the test ModelInfer, as `cdk8s synth` would. */
function synthOutput(p: GroupsProps): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-rollout-cli-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, `${p.name}.k8s.yaml`), groupsObjects(p).map(o => stringify(o)).join('---\n'));
  return dir;
}

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await mainAsync(['rollout', ...argv], s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

describe('inferkit rollout', () => {
  const ns = 'rollout-cli';
  const base: GroupsProps = { namespace: ns, name: 'llm', replicas: 6, image: 'registry.example/vllm:v1', maxUnavailable: 2, partition: 1 };

  beforeAll(async () => {
    await kube.apply(restrictedNamespace(ns));
  });

  test('rolls 5 of 6 groups in 3 waves, never fewer than 4 Ready, group 0 untouched, each group restarted once', async () => {
    const first = await run('-f', synthOutput(base), '--kubeconfig', kubeconfig, '--progress-deadline', '120');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    await waitAllReady(kube, ns, 'llm', 6);

    const watcher = new GroupWatcher(kube, ns, 'llm').start();
    const second = await run('-f', synthOutput({ ...base, image: 'registry.example/vllm:v2' }), '--kubeconfig', kubeconfig, '--progress-deadline', '120');
    await waitAllReady(kube, ns, 'llm', 6);
    await watcher.stop();

    expect(second.code).toBe(0);
    const waves = second.out.split('\n').filter(l => / wave \d+: updating groups /.test(l));
    expect(waves.map(l => l.replace(/^.*updating groups (.*?) \(.*$/, '$1'))).toEqual(['llm-1, llm-2', 'llm-3, llm-4', 'llm-5']);
    expect(second.out).toMatch(/done, 3 wave\(s\)/);
    expect(watcher.minReady()).toBeGreaterThanOrEqual(4);
    expect(watcher.images.get(0)).toEqual(new Set(['registry.example/vllm:v1']));
    expect(watcher.restarts(0)).toBe(0);
    for (const g of [1, 2, 3, 4, 5]) expect(watcher.restarts(g)).toBe(1);
  });

  test('a wave that never becomes Ready stops the rollout: the report names the group and its reason, the rest keep their revision', async () => {
    const bad = synthOutput({ ...base, image: 'registry.example/vllm:v3', podAnnotations: { 'test.inferkit.dev/fail': 'ImagePullBackOff' } });
    const result = await run('-f', bad, '--kubeconfig', kubeconfig, '--progress-deadline', '5');
    expect(result.code).toBe(1);
    expect(result.out).toMatch(/Unable to roll rollout-cli\/modelinfer\.llm to revision \w+: llm-1, llm-2 not Ready after \d+ s \(progress deadline 5 s\)/);
    expect(result.out).toMatch(/pod llm-1-serve-0-0: container engine ImagePullBackOff/);
    const pods = (await kube.list('v1', 'Pod', ns, 'modelinfer.matrixinfer.ai/name=llm')).filter(p => !p.metadata.deletionTimestamp);
    for (const p of pods.filter(x => !['1', '2'].includes(x.metadata.labels['rollout.inferkit.dev/unit']))) {
      expect(p.spec.containers[0].image).not.toBe('registry.example/vllm:v3');
      expect(p.status.conditions.find((c: any) => c.type === 'Ready')?.status).toBe('True');
    }
  });

  test('role-level rolling of a ModelServing CR: each role instance of the group in waves of the role\'s maxUnavailable, below its partition untouched', async () => {
    const ns2 = 'rollout-role';
    await kube.apply(restrictedNamespace(ns2));
    const cr = (image: string) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-rollout-role-'));
      dirs.push(dir);
      fs.writeFileSync(path.join(dir, 'ms.yaml'), stringify({
        apiVersion: 'workload.serving.volcano.sh/v1alpha1',
        kind: 'ModelServing',
        metadata: { name: 'ds', namespace: ns2 },
        spec: {
          replicas: 1,
          schedulerName: 'default-scheduler',
          recoveryPolicy: 'None',
          rolloutStrategy: { type: 'RoleRollingUpdate' },
          template: {
            roles: [{
              name: 'decode',
              replicas: 4,
              workerReplicas: 0,
              maxUnavailable: 2,
              partition: 1,
              entryTemplate: { metadata: { annotations: { 'test.inferkit.dev/ready-delay': '1s' } }, spec: { containers: [{ name: 'engine', image }] } },
            }],
          },
        },
      }));
      return dir;
    };
    expect((await run('-f', cr('vllm:v1'), '--kubeconfig', kubeconfig)).code).toBe(0);
    const pods = () => kube.list('v1', 'Pod', ns2, 'rollout.inferkit.dev/set=modelinfer.ds-0-decode');
    await kube.waitFor('4 Ready decode instances', async () => {
      const ps = (await pods()).filter(isReady);
      return ps.length === 4 ? ps : undefined;
    });
    const before = new Map((await pods()).map(p => [p.metadata.name, p.metadata.uid]));
    const minReady: number[] = [];
    let stop = false;
    const watch = (async () => {
      while (!stop) {
        minReady.push((await pods()).filter(isReady).length);
        await new Promise(r => setTimeout(r, 100));
      }
    })();
    const result = await run('-f', cr('vllm:v2'), '--kubeconfig', kubeconfig);
    stop = true;
    await watch;
    expect(result.code).toBe(0);
    expect(result.out.split('\n').filter(l => / wave \d+: /.test(l)).map(l => l.replace(/^.*updating role instances (.*?) \(.*$/, '$1'))).toEqual(['ds-0-decode-1, ds-0-decode-2', 'ds-0-decode-3']);
    expect(Math.min(...minReady)).toBeGreaterThanOrEqual(2);
    const after = await pods();
    expect(after.find(p => p.metadata.name === 'ds-0-decode-0-0')?.metadata.uid).toBe(before.get('ds-0-decode-0-0'));
    expect(after.filter(p => p.spec.containers[0].image === 'vllm:v2').map(p => p.metadata.name).sort()).toEqual(['ds-0-decode-1-0', 'ds-0-decode-2-0', 'ds-0-decode-3-0']);
  });

  test('a group whose workload was deleted outside the rollout is made whole again by the next run', async () => {
    const ns3 = 'rollout-repair';
    await kube.apply(restrictedNamespace(ns3));
    const props: GroupsProps = { namespace: ns3, name: 'llm', replicas: 2, image: 'registry.example/vllm:v1' };
    const out = synthOutput(props);
    expect((await run('-f', out, '--kubeconfig', kubeconfig)).code).toBe(0);
    await waitAllReady(kube, ns3, 'llm', 2);
    await kube.delete('apps/v1', 'StatefulSet', ns3, 'llm-1-serve-0-w');
    await kube.waitFor('the worker StatefulSet to be gone', async () => (await kube.get('apps/v1', 'StatefulSet', ns3, 'llm-1-serve-0-w')) ? undefined : true);
    const again = await run('-f', out, '--kubeconfig', kubeconfig);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/wave 1: updating groups llm-1 /);
    await waitAllReady(kube, ns3, 'llm', 2);
  });

  test('a service account that may read pods but not watch them still rolls: the executor observes every second instead', async () => {
    const ns5 = 'rollout-nowatch';
    await kube.apply(restrictedNamespace(ns5));
    await kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer', namespace: ns5 } });
    const rbac = (kind: string) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind, metadata: { name: 'deployer', namespace: ns5 } });
    // Everything in the namespace but watch.
    await kube.apply({ ...rbac('Role'), rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'create', 'update', 'patch', 'delete'] }] });
    await kube.apply({
      ...rbac('RoleBinding'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
      subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns5 }],
    });
    const { body } = await kube.request('POST', `/api/v1/namespaces/${ns5}/serviceaccounts/deployer/token`,
      { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-sa-'));
    dirs.push(dir);
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(file, fs.readFileSync(kubeconfig, 'utf8').replace(/token: .*/, `token: ${body.status.token}`));
    const props: GroupsProps = { namespace: ns5, name: 'llm', replicas: 2, image: 'registry.example/vllm:v1' };
    expect((await run('-f', synthOutput(props), '--kubeconfig', file)).code).toBe(0);
    await waitAllReady(kube, ns5, 'llm', 2);
    const rolled = await run('-f', synthOutput({ ...props, image: 'registry.example/vllm:v2' }), '--kubeconfig', file);
    expect(rolled.code).toBe(0);
    expect(rolled.out).toMatch(/rollout-nowatch\/modelinfer\.llm: cannot watch pods \(.*403.*cannot watch resource "pods".*\); observing every 1000 ms instead \(grant watch on pods/);
    expect(rolled.out).toMatch(/done, 2 wave\(s\)/);
    const pods = await waitAllReady(kube, ns5, 'llm', 2);
    expect(new Set(pods.map(p => p.spec.containers[0].image))).toEqual(new Set(['registry.example/vllm:v2']));
  });

  test('a group whose pods run the given revision under another template gets that template back, with no restart', async () => {
    const ns4 = 'rollout-template';
    await kube.apply(restrictedNamespace(ns4));
    const props: GroupsProps = { namespace: ns4, name: 'llm', replicas: 2, image: 'registry.example/vllm:v1' };
    const out = synthOutput(props);
    expect((await run('-f', out, '--kubeconfig', kubeconfig)).code).toBe(0);
    const uids = (await waitAllReady(kube, ns4, 'llm', 2)).map(p => p.metadata.uid).sort();
    // A run stopped between the apply of group 1's new templates and the replacement of its pods (OnDelete: they keep
    // running v1), then run again at v1.
    const template = (o: any) => o.spec.template.spec.containers[0].image;
    for (const o of groupsObjects({ ...props, image: 'registry.example/vllm:v2' })) {
      if (o.kind === 'StatefulSet' && o.metadata.labels['rollout.inferkit.dev/unit'] === '1') await kube.apply(o);
    }
    expect(template(await kube.get('apps/v1', 'StatefulSet', ns4, 'llm-1-serve-0-w'))).toBe('registry.example/vllm:v2');
    const again = await run('-f', out, '--kubeconfig', kubeconfig);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/rollout-template\/modelinfer\.llm: groups llm-1 run revision \w+ under another template: their templates applied again \(no pod restarts\)/);
    expect(again.out).not.toMatch(/wave \d+:/);
    for (const sts of await kube.list('apps/v1', 'StatefulSet', ns4)) expect(template(sts)).toBe('registry.example/vllm:v1');
    expect((await waitAllReady(kube, ns4, 'llm', 2)).map(p => p.metadata.uid).sort()).toEqual(uids);
  });
});
