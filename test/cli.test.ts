import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { main } from '../cli/inferkit';

const manifests = path.join(__dirname, '..', 'examples', 'manifests');

function run(...argv: string[]): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = main(argv, s => { out += s; }, s => { err += s; });
  return { code, out, err };
}

/** The warning of Kthena's own ModelInfer sample on StatefulSets: its CRD's default recoveryPolicy, with a 60 s grace period. */
const SAMPLE_WARNING = "Warning: ModelInfer/sample spec.recoveryPolicy 'RoleRecreate': the StatefulSet backend restarts a failed pod in place, where Kthena's "
  + 'controller recreates its whole role instance (entry and workers) once it has not recovered for 60 seconds. Use the LeaderWorkerSet backend '
  + '(--backend LeaderWorkerSet), which recreates the whole role instance of a failed pod; or set recoveryPolicy None to accept restarts in place.';

/** Runs `act` with a fresh temporary directory, removed afterwards. */
function withDir<T>(act: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-cli-'));
  try {
    return act(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('inferkit synth', () => {
  test('writes the manifests of several files to stdout, and the warnings to stderr', () => {
    const { code, out, err } = run('synth', '-f', path.join(manifests, 'modelinfer-sample.yaml'), '-f', path.join(manifests, 'modelserving-sample.yaml'));
    expect(err).toBe(`${SAMPLE_WARNING}\n`);
    expect(code).toBe(0);
    const docs = parseAllDocuments(out).map(d => d.toJS());
    // Per file: the groups' objects and PodGroup, and one PodDisruptionBudget.
    expect(docs).toHaveLength(16);
    expect(docs.filter(d => d.kind === 'PodGroup').map(d => d.spec.networkTopology)).toEqual([undefined, { mode: 'hard', highestTierAllowed: 2 }]);
  });

  test('reads every seed example manifest: Kthena, KubeDL, FlexInfer and Modelplane kinds', () => {
    // The two KubeDL examples share a name; each run takes one of them. The fleet spans clusters: it needs -o (below).
    const files = fs.readdirSync(manifests).filter(f => f !== 'inference-single-model.yaml' && f !== 'modelplane-fleet.yaml').sort().flatMap(f => ['-f', path.join(manifests, f)]);
    const { code, out, err } = run('synth', ...files);
    expect(err.split('\n').filter(l => l !== '' && !l.startsWith('Warning: '))).toEqual([]);
    expect(code).toBe(0);
    const kinds = new Set(parseAllDocuments(out).map(d => d.toJS().kind));
    expect([...kinds].sort()).toEqual([
      'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'HTTPRoute', 'HTTPScaledObject', 'HorizontalPodAutoscaler', 'InferencePool',
      'PodDisruptionBudget', 'PodGroup', 'ResourceClaimTemplate', 'Role', 'RoleBinding', 'ScaledObject', 'Service', 'ServiceAccount', 'StatefulSet',
    ]);
  });

  test('a resource defined twice is an error naming both files', () => {
    const a = path.join(manifests, 'inference-single-model.yaml');
    const b = path.join(manifests, 'inference-multi-model.yaml');
    const { code, err } = run('synth', '-f', a, '-f', b);
    expect(code).toBe(1);
    expect(err).toContain(`${b}: Unable to synthesize Inference/hello-inference: it is defined twice, here and in ${a}. Give each resource a unique name.`);
  });

  test('writes one file per manifest with -o', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-cli-'));
    try {
      const { code } = run('synth', '-f', path.join(manifests, 'modelserving-sample.yaml'), '-o', dir, '--backend', 'LeaderWorkerSet');
      expect(code).toBe(0);
      expect(fs.readdirSync(dir)).toEqual(['modelserving-sample.k8s.yaml']);
      const kinds = parseAllDocuments(fs.readFileSync(path.join(dir, 'modelserving-sample.k8s.yaml'), 'utf8')).map(d => d.toJS().kind);
      expect(kinds.sort()).toEqual(['LeaderWorkerSet', 'LeaderWorkerSet', 'PodDisruptionBudget', 'PodGroup']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('Modelplane fleets', () => {
    const fleet = path.join(manifests, 'modelplane-fleet.yaml');
    /** Every file under `dir`, relative, with its bytes. */
    const tree = (dir: string): Record<string, string> => Object.fromEntries(
      (fs.readdirSync(dir, { recursive: true }) as string[]).sort()
        .filter(f => fs.statSync(path.join(dir, f)).isFile())
        .map(f => [f, fs.readFileSync(path.join(dir, f), 'utf8')]));

    test('-o writes what each cluster runs to its own folder; the drained cluster gets no replica, only the cache it is selected for; other kinds stay at the top', () => withDir(dir => {
      const { code, err } = run('synth', '-f', fleet, '-f', path.join(manifests, 'modelreplica-seed.yaml'), '-f', path.join(manifests, 'modelserving-sample.yaml'), '-o', dir);
      expect(err).toBe(`wrote 5 file(s) to ${dir}\n`);
      expect(code).toBe(0);
      expect(Object.keys(tree(dir))).toEqual([
        path.join('eks-l4', 'modelreplica-qwen3-8b-eks-l4-0.k8s.yaml'),
        path.join('eu-west-h100', 'modelcache-qwen3-8b.k8s.yaml'),
        'modelserving-sample.k8s.yaml',
        path.join('us-east-l4', 'modeldeployment-qwen3-8b.k8s.yaml'),
        path.join('us-west-h100', 'modeldeployment-qwen3-8b.k8s.yaml'),
      ]);
      const replicasIn = (cluster: string) => parseAllDocuments(fs.readFileSync(path.join(dir, cluster, 'modeldeployment-qwen3-8b.k8s.yaml'), 'utf8'))
        .map(d => d.toJS()).filter(o => o.kind === 'Deployment').map(o => [o.metadata.name, o.metadata.labels['modelplane.ai/cluster']]);
      expect(replicasIn('us-east-l4')).toEqual([['qwen3-8b-0-qwen3-8b', 'us-east-l4'], ['qwen3-8b-2-qwen3-8b', 'us-east-l4']]);
      expect(replicasIn('us-west-h100')).toEqual([['qwen3-8b-1-qwen3-8b', 'us-west-h100'], ['qwen3-8b-3-qwen3-8b', 'us-west-h100']]);
    }));

    test('the fleet example synthesizes to the same bytes every time, whatever the order of its documents', () => {
      const first = withDir(dir => (run('synth', '-f', fleet, '-o', dir), tree(dir)));
      const again = withDir(dir => (run('synth', '-f', fleet, '-o', dir), tree(dir)));
      expect(Object.keys(first)).toHaveLength(3);
      expect(again).toEqual(first);
      const reversed = withDir(dir => {
        const file = path.join(dir, 'reversed.yaml');
        fs.writeFileSync(file, fs.readFileSync(fleet, 'utf8').split('\n---\n').reverse().join('\n---\n'));
        return run('synth', '-f', file).out;
      });
      expect(reversed).toBe(run('synth', '-f', fleet).out);
    });

    test('a fleet manifest defined twice is an error naming both files', () => withDir(dir => {
      const copy = path.join(dir, 'copy.yaml');
      fs.writeFileSync(copy, fs.readFileSync(fleet, 'utf8').split('\n---\n').filter(d => d.includes('name: us-east-l4')).join(''));
      const { code, err } = run('synth', '-f', fleet, '-f', copy);
      expect(code).toBe(1);
      expect(err).toContain(`${copy}: Unable to synthesize InferenceCluster/us-east-l4: it is defined twice, here and in ${fleet}.`);
    }));

    test('every error of the fleet and of the deployment is reported, each with its file', () => withDir(dir => {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, fs.readFileSync(fleet, 'utf8')
        .replace('memory: {value: 24Gi}', 'memory: 24Gi')
        .replace('className: h100-x8\n      nodeCount: 1\n      minNodeCount', 'className: h200-x8\n      nodeCount: 1\n      minNodeCount')
        .replace('replicas: 4', 'replicas: 4\n  paused: true'));
      const { code, out, err } = run('synth', '-f', bad);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toContain(`${bad}: Unable to synthesize InferenceClass/l4-x4: spec.devices[0].capacity.memory '24Gi' is not an object.`);
      expect(err).toContain(`${bad}: Unable to synthesize ModelDeployment/qwen3-8b: spec.paused true is not a field of modelplane.ai/v1alpha1 ModelDeployment.`);
      expect(err).toContain(`${bad}: Unable to synthesize InferenceCluster/us-west-h100: spec.nodePools[0].className 'h200-x8' names no InferenceClass in the given files.`);
      // us-east-l4's class, l4-x4, is there but did not load: its own error is the one to fix.
      expect(err.trim().split('\n')).toHaveLength(3);
    }));

    test('a fleet placed on several clusters is not written to one stream', () => {
      const { code, out, err } = run('synth', '-f', fleet);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toBe('error: the manifests are placed on 3 clusters (eu-west-h100, us-east-l4, us-west-h100), which one stream cannot tell apart. Give -o DIR to write a folder per cluster.\n');
    });

    test('a pool whose class is not given is reported once, with the cluster\'s file', () => withDir(dir => {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, fs.readFileSync(fleet, 'utf8').replace('className: l4-x4', 'className: l40s-x4'));
      const { code, err } = run('synth', '-f', bad);
      expect(code).toBe(1);
      expect(err).toBe(`${bad}: Unable to synthesize InferenceCluster/us-east-l4: spec.nodePools[0].className 'l40s-x4' names no InferenceClass in the given files. `
        + 'Add that InferenceClass, or use one of h100-x8, l4-x4.\n');
    }));
  });

  test('exits non-zero with every error of every file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-cli-'));
    try {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, [
        'apiVersion: workload.matrixinfer.ai/v1alpha1\nkind: ModelInfer\nmetadata: {name: a}\nspec: {schedulerName: volcano, template: {roles: [{name: decode-worker, workerReplicas: 0, entryTemplate: {spec: {containers: [{name: c, image: x}]}}}]}}',
        'apiVersion: networking.serving.volcano.sh/v1alpha1\nkind: ExternalModelProvider\nmetadata: {name: b}',
      ].join('\n---\n'));
      const { code, out, err } = run('synth', '-f', bad);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toContain(`${bad}: Unable to synthesize ModelInfer/a: spec.template.roles[0].name 'decode-worker' is 13 characters long`);
      expect(err).toContain(`${bad}: Unable to synthesize ExternalModelProvider/b: apiVersion 'networking.serving.volcano.sh/v1alpha1' kind 'ExternalModelProvider' is a Kthena kind`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('warnings and --strict', () => {
    const sample = path.join(manifests, 'modelinfer-sample.yaml');

    test('a warning is printed on stderr and the objects are written: exit 0', () => withDir(dir => {
      const { code, err } = run('synth', '-f', sample, '-o', dir);
      expect(code).toBe(0);
      expect(err).toBe(`${SAMPLE_WARNING}\nwrote 1 file(s) to ${dir}\n`);
      expect(fs.readdirSync(dir)).toEqual(['modelinfer-sample.k8s.yaml']);
    }));

    test('--strict makes every warning an error: exit 1, the warnings printed as errors, nothing written', () => withDir(dir => {
      const out = path.join(dir, 'out');
      const { code, out: stdout, err } = run('synth', '-f', sample, '-f', path.join(manifests, 'modelserving-sample.yaml'), '--strict', '-o', out);
      expect(code).toBe(1);
      expect(stdout).toBe('');
      expect(err).toBe(`${sample}: Unable to synthesize ModelInfer/sample with --strict: spec.recoveryPolicy 'RoleRecreate': the StatefulSet backend restarts `
        + "a failed pod in place, where Kthena's controller recreates its whole role instance (entry and workers) once it has not recovered for 60 seconds. "
        + 'Use the LeaderWorkerSet backend (--backend LeaderWorkerSet), which recreates the whole role instance of a failed pod; or set recoveryPolicy None to '
        + 'accept restarts in place.\n');
      expect(fs.existsSync(out)).toBe(false);
      expect(run('synth', '-f', sample, '--strict').out).toBe('');
    }));

    test('--strict passes manifests that run exactly as their controllers would', () => {
      const { code, err } = run('synth', '-f', path.join(manifests, 'modelserving-sample.yaml'), '--strict');
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(run('synth', '-f', sample, '--strict', '--backend', 'LeaderWorkerSet').err).toContain(
        'Unable to synthesize ModelInfer/sample with --strict: spec.template.restartGracePeriodSeconds 60: the LeaderWorkerSet backend recreates a role instance');
    });

    test('with errors, the warnings of the other manifests are printed first, and the exit code is 1', () => withDir(dir => {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'apiVersion: networking.serving.volcano.sh/v1alpha1\nkind: ExternalModelProvider\nmetadata: {name: qwen}\nspec: {}\n');
      const { code, err } = run('synth', '-f', sample, '-f', bad);
      expect(code).toBe(1);
      expect(err.split('\n')[0]).toBe(SAMPLE_WARNING);
      expect(err.split('\n')[1]).toBe(`${bad}: Unable to synthesize ExternalModelProvider/qwen: apiVersion 'networking.serving.volcano.sh/v1alpha1' kind 'ExternalModelProvider' `
        + "is a Kthena kind that inferkit does not compile, and without Kthena's controller nothing would act on it. Remove it, or write what it asks as one of the "
        + 'Kthena kinds inferkit reads: registry.matrixinfer.ai/v1alpha1 Model, workload.serving.volcano.sh/v1alpha1 ModelBooster, '
        + 'networking.matrixinfer.ai/v1alpha1 ModelServer, networking.serving.volcano.sh/v1alpha1 ModelServer, networking.matrixinfer.ai/v1alpha1 ModelRoute, '
        + 'networking.serving.volcano.sh/v1alpha1 ModelRoute, registry.matrixinfer.ai/v1alpha1 AutoscalingPolicy, workload.serving.volcano.sh/v1alpha1 AutoscalingPolicy, '
        + 'registry.matrixinfer.ai/v1alpha1 AutoscalingPolicyBinding, workload.matrixinfer.ai/v1alpha1 ModelInfer, workload.serving.volcano.sh/v1alpha1 ModelServing.');
    }));

    test('the usage documents --strict', () => {
      expect(run('help').err).toContain('[--strict]');
      expect(run('help').err).toContain('--strict makes every warning an error');
    });
  });

  describe('Kubernetes conventions in the input', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'vllm-config', namespace: 'llm', labels: { app: 'vllm' } }, data: { 'config.yaml': 'max-model-len: 8192\n', 'empty': '' } };
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'hf-token', namespace: 'llm' }, type: 'Opaque', stringData: { token: 'hf_x' } };
    const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'llm' }, spec: { selector: { 'modelserving.volcano.sh/name': 'sample' }, ports: [{ port: 80, targetPort: 8000 }] } };
    const writeDocs = (dir: string, docs: unknown[]) => {
      const file = path.join(dir, 'in.yaml');
      fs.writeFileSync(file, docs.map(d => JSON.stringify(d)).join('\n---\n'));
      return file;
    };

    test('plain Kubernetes objects pass through unchanged, each in its own namespace, beside the compiled CRs', () => withDir(dir => {
      const file = writeDocs(dir, [configMap, secret, service]);
      const { code, out, err } = run('synth', '-f', file, '-f', path.join(manifests, 'modelserving-sample.yaml'));
      expect(err).toBe('');
      expect(code).toBe(0);
      const docs = parseAllDocuments(out).map(d => d.toJS());
      expect(docs.slice(0, 3)).toEqual([configMap, secret, service]);
      expect(docs.filter(d => d.kind === 'StatefulSet').every(d => d.metadata.namespace === 'default')).toBe(true);
    }));

    test('what the API server populates is ignored for every kind, as kubectl apply does; a List is read item by item', () => withDir(dir => {
      const exported = (o: any, i: number) => ({
        ...o,
        metadata: {
          ...o.metadata,
          uid: `0000-${i}`,
          resourceVersion: String(100 + i),
          generation: 2,
          creationTimestamp: '2026-11-27T09:12:44Z',
          managedFields: [{ manager: 'kubectl', operation: 'Update' }],
          ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: 'llm', uid: 'x' }],
          annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(o) },
        },
        status: { observedGeneration: 2 },
      });
      const serving = parseAllDocuments(fs.readFileSync(path.join(manifests, 'modelserving-sample.yaml'), 'utf8'))[0].toJS();
      const list = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [configMap, serving].map(exported) };
      const fromList = run('synth', '-f', writeDocs(dir, [list]));
      expect(fromList.err).toBe('');
      expect(fromList.code).toBe(0);
      const plain = run('synth', '-f', writeDocs(dir, [configMap, serving]));
      expect(fromList.out).toBe(plain.out);
      expect(parseAllDocuments(plain.out).map(d => d.toJS())[0]).toEqual(configMap);
    }));

    test('every example manifest, of every kind inferkit reads, synthesizes the same when exported from a cluster', () => withDir(dir => {
      // The two KubeDL examples share a name: one of them is enough. The fleet spans clusters: it is written with -o.
      const names = fs.readdirSync(manifests).filter(f => f !== 'inference-single-model.yaml').sort();
      const exportedFiles = names.map((f, i) => {
        const docs = parseAllDocuments(fs.readFileSync(path.join(manifests, f), 'utf8')).map(d => d.toJS()).filter(d => d);
        const file = path.join(dir, f);
        fs.writeFileSync(file, docs.map((d, j) => JSON.stringify({
          ...d,
          metadata: {
            ...d.metadata,
            uid: `uid-${i}-${j}`,
            resourceVersion: '7',
            generation: 1,
            creationTimestamp: '2026-11-27T09:12:44Z',
            managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update' }],
            ownerReferences: [{ apiVersion: 'v1', kind: 'Namespace', name: 'default', uid: 'ns' }],
            annotations: { ...d.metadata.annotations, 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(d) },
          },
          status: { observedGeneration: 1 },
        })).join('\n---\n'));
        return file;
      });
      const tree = (out: string) => Object.fromEntries((fs.readdirSync(out, { recursive: true }) as string[]).sort()
        .filter(f => fs.statSync(path.join(out, f)).isFile()).map(f => [f, fs.readFileSync(path.join(out, f), 'utf8')]));
      const exported = run('synth', ...exportedFiles.flatMap(f => ['-f', f]), '-o', path.join(dir, 'exported'));
      const plain = run('synth', ...names.flatMap(f => ['-f', path.join(manifests, f)]), '-o', path.join(dir, 'plain'));
      expect(exported.code).toBe(0);
      expect(Object.keys(tree(path.join(dir, 'exported')))).toHaveLength(Object.keys(tree(path.join(dir, 'plain'))).length);
      expect(tree(path.join(dir, 'exported'))).toEqual(tree(path.join(dir, 'plain')));
      expect(exported.err.replace('exported', 'plain')).toBe(plain.err.split(manifests).join(dir));
    }));

    test.each([
      ['a Kthena ExternalModelProvider', 'networking.serving.volcano.sh/v1alpha1', 'ExternalModelProvider', 'Kthena'],
      ['a KubeDL PyTorchJob', 'training.kubedl.io/v1alpha1', 'PyTorchJob', 'KubeDL'],
      ['a Modelplane ModelService', 'modelplane.ai/v1alpha1', 'ModelService', 'Modelplane'],
      // flexinfer/flexinfer examples/v1alpha2/gpu-sharing.yaml and others write this group; FlexInfer's CRD is ai.flexinfer.
      ['a FlexInfer Model of the wrong group', 'ai.flexinfer.io/v1alpha2', 'Model', 'FlexInfer'],
    ])('%s is refused, not passed through', (_, apiVersion, kind, system) => withDir(dir => {
      const file = writeDocs(dir, [{ apiVersion, kind, metadata: { name: 'llama' }, spec: {} }]);
      const { code, out, err } = run('synth', '-f', file);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toContain(`${file}: Unable to synthesize ${kind}/llama: apiVersion '${apiVersion}' kind '${kind}' is a ${system} kind that inferkit does not compile, `
        + `and without ${system}'s controller nothing would act on it. Remove it, or write what it asks as one of the ${system} kinds inferkit reads: `);
    }));

    test.each([
      ['a document that is not a Kubernetes object', { replicas: 2 },
        'Unable to synthesize (no kind)/(unnamed): the document has no apiVersion or kind, so it is not a Kubernetes object. Give both, or remove the document.'],
      ['an object without a name', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'x-' } },
        'Unable to synthesize ConfigMap/(unnamed): metadata.name is missing. Name the object.'],
    ])('%s is an error', (_, doc, message) => withDir(dir => {
      const file = writeDocs(dir, [doc]);
      const { code, err } = run('synth', '-f', file);
      expect(code).toBe(1);
      expect(err).toBe(`${file}: ${message}\n`);
    }));
  });

  test.each([
    [[], 'no command'],
    [['deploy'], "unknown command 'deploy'"],
    [['synth'], 'no input: give at least one -f <file.yaml>'],
    [['synth', '-f'], '-f needs a value'],
    [['synth', '-f', 'x.yaml', '--backend', 'Deployment'], "--backend 'Deployment' is not a backend: use StatefulSet or LeaderWorkerSet"],
    [['synth', '--frobnicate'], "unknown argument '--frobnicate'"],
  ])('refuses %j with a message', (argv, message) => {
    const { code, err } = run(...argv);
    expect(code).not.toBe(0);
    expect(err).toContain(message);
  });
});
