import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import { main, readOutputs, SpecErrorList, synthManifests } from '../cli/inferkit';
import { placedAssignments } from '../constructs/model-replica';
import { ledgerOf, Manifest } from '../src';

// Modelplane's fleet semantics in one `inferkit synth` run: deployments share the fleet's capacity, a later run keeps
// the placements of an earlier one, and a ModelCache is staged on every cluster it selects.

const fleetFile = path.join(__dirname, '..', 'examples', 'manifests', 'modelplane-fleet.yaml');
const fleet = (): Manifest[] => parseAllDocuments(fs.readFileSync(fleetFile, 'utf8')).map(d => d.toJS());
const ofKind = (docs: Manifest[], kind: string) => docs.filter(d => d.kind === kind);
const named = (docs: Manifest[], kind: string, name: string) => docs.find(d => d.kind === kind && (d.metadata as Manifest).name === name)! as any;

/** The fleet example without its cache, with `deployments` (copies of its deployment) instead of its own. */
function withDeployments(deployments: Array<{ name: string; replicas: number; region?: string }>): Manifest[] {
  const docs = fleet().filter(d => d.kind !== 'ModelCache');
  const template = named(docs, 'ModelDeployment', 'qwen3-8b');
  delete template.spec.template.spec.modelCacheRef;
  return [...docs.filter(d => d.kind !== 'ModelDeployment'), ...deployments.map(({ name, replicas, region }) => {
    const copy = JSON.parse(JSON.stringify(template));
    copy.metadata.name = name;
    copy.spec.replicas = replicas;
    if (region) copy.spec.template.spec.clusterSelector.matchLabels.region = region;
    return copy;
  })];
}

const run = (docs: Manifest[], previous: Parameters<typeof synthManifests>[1] = {}) => synthManifests(docs.map(doc => ({ file: 'fleet.yaml', doc })), previous);
const objectsIn = (result: ReturnType<typeof synthManifests>, folder: string) =>
  result.outputs.filter(o => path.dirname(o.file) === folder).flatMap(o => o.chart.toJson());

describe('ModelDeployments in one run share the fleet', () => {
  test('a deployment is placed around the GPUs an earlier one of the run holds: 6 replicas pinned to us-east, then 6 anywhere', () => {
    // us-east-l4 has 8 GPUs (2 nodes of 4), us-west-h100 8 (1 node of 8). Alone, the second would spread 3 + 3.
    const result = run(withDeployments([{ name: 'chat', replicas: 6, region: 'us-east' }, { name: 'batch', replicas: 6 }]));
    const held = (cluster: string, owner: string) => ledgerOf(cluster, objectsIn(result, cluster)).filter(e => e.owner === `ml-team/${owner}`).length;
    expect([held('us-east-l4', 'chat'), held('us-east-l4', 'batch'), held('us-west-h100', 'batch')]).toEqual([6, 2, 4]);
  });

  test('a deployment that no longer fits beside an earlier one of the run is an error, not an overcommitted pool', () => {
    // us-east-l4 has 8 GPUs: 6 + 3 replicas of one GPU do not fit; alone, each would.
    let error: unknown;
    try {
      run(withDeployments([{ name: 'chat', replicas: 6, region: 'us-east' }, { name: 'batch', replicas: 3, region: 'us-east' }]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecErrorList);
    expect((error as SpecErrorList).errors).toEqual([expect.stringContaining('fleet.yaml: Unable to synthesize ModelDeployment/batch: spec.replicas 3 leaves replica 2 unplaced')]);
  });
});

describe('a later run keeps the placements of an earlier one', () => {
  const leftovers: string[] = [];
  afterAll(() => leftovers.forEach(f => fs.rmSync(f, { recursive: true, force: true })));

  test('scaling up with -o DIR keeps every replica that still fits where the earlier run put it', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-fleet-'));
    const input = path.join(out, '..', `${path.basename(out)}-in.yaml`);
    leftovers.push(out, input);
    const write = (docs: Manifest[]) => fs.writeFileSync(input, docs.map(d => JSON.stringify(d)).join('\n---\n'));
    const synth = () => {
      let err = '';
      const code = main(['synth', '-f', input, '-o', out], () => undefined, s => { err += s; });
      return { code, err };
    };
    // First run: two replicas, on the two clusters that may hold them.
    write(fleet());
    expect(synth()).toEqual({ code: 0, err: `wrote 3 file(s) to ${out}\n` });
    const before = placedAssignments({ name: 'qwen3-8b', namespace: 'ml-team', engines: [{ name: 'qwen3-8b', members: [{}] }] }, readOutputs(out));
    expect(before.map(a => a.replica)).toEqual([0, 1, 2, 3]);
    // Second run: the drained cluster is back (emptier than the others, and first by name) and the deployment grows to 6.
    const docs = fleet();
    const euWest = named(docs, 'InferenceCluster', 'eu-west-h100');
    delete euWest.spec.taints;
    euWest.spec.cluster = { source: 'Existing', existing: { secretRef: { name: 'eu-west-h100-kubeconfig' }, cache: { storageClassName: 'nfs-rwx' } } };
    named(docs, 'ModelDeployment', 'qwen3-8b').spec.replicas = 6;
    write(docs);
    expect(synth()).toEqual({ code: 0, err: `wrote 3 file(s) to ${out}\n` });
    const after = placedAssignments({ name: 'qwen3-8b', namespace: 'ml-team', engines: [{ name: 'qwen3-8b', members: [{}] }] }, readOutputs(out));
    expect(after.slice(0, 4)).toEqual(before);
    expect(after.map(a => a.replica)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('without an earlier run, placedAssignments finds nothing', () => {
    expect(placedAssignments({ name: 'qwen3-8b', engines: [] }, readOutputs(path.join(os.tmpdir(), 'inferkit-none')))).toEqual([]);
  });
});

describe('a ModelCache is staged on every cluster it selects', () => {
  test('before any deployment uses it: a claim and a hydration Job per selected cluster, none elsewhere', () => {
    const docs = fleet().filter(d => d.kind !== 'ModelDeployment');
    named(docs, 'InferenceCluster', 'eu-west-h100').metadata.labels.tier = 'staging';
    const result = run(docs);
    expect(result.outputs.map(o => o.file).sort()).toEqual(['us-east-l4/modelcache-qwen3-8b.k8s.yaml', 'us-west-h100/modelcache-qwen3-8b.k8s.yaml']);
    const objs = objectsIn(result, 'us-east-l4');
    expect(objs.map(o => `${o.kind}/${o.metadata.name}`)).toEqual(['PersistentVolumeClaim/qwen3-8b', 'Job/qwen3-8b-hydrate']);
    expect(objs[0].metadata.namespace).toBe('ml-team');
    expect(objs[0].spec.storageClassName).toBe('nfs-rwx');
  });

  test('a cluster where a deployment stages it gets it once; a selected cluster without replicas still gets it', () => {
    const result = run(fleet());
    for (const cluster of ['us-east-l4', 'us-west-h100', 'eu-west-h100']) {
      expect(ofKind(objectsIn(result, cluster), 'PersistentVolumeClaim').map((o: any) => o.metadata.name)).toEqual(['qwen3-8b']);
    }
    expect(result.outputs.map(o => o.file).filter(f => f.startsWith('eu-west-h100/'))).toEqual(['eu-west-h100/modelcache-qwen3-8b.k8s.yaml']);
  });
});

describe('a PrefillDecode ModelDeployment', () => {
  test('gets its InferencePool and a warning that Modelplane\'s per-replica HTTPRoute is not rendered', () => {
    const docs = withDeployments([{ name: 'qwen-pd', replicas: 1 }]);
    const d = named(docs, 'ModelDeployment', 'qwen-pd');
    const [engine] = d.spec.template.spec.engines;
    d.spec.template.spec.serving = { mode: 'PrefillDecode' };
    d.spec.template.spec.engines = [{ ...engine, name: 'prefill', phase: 'Prefill' }, { ...engine, name: 'decode', phase: 'Decode' }];
    const result = run(docs);
    expect(result.outputs.flatMap(o => o.chart.toJson()).filter(o => o.kind === 'InferencePool').map(o => o.metadata.name)).toEqual(['qwen-pd']);
    expect(result.warnings.map(w => w.warning)).toContainEqual({
      path: 'ModelDeployment/qwen-pd',
      field: 'spec.template.spec.serving.mode',
      value: 'PrefillDecode',
      cause: 'is routed by Modelplane through an HTTPRoute per replica on its Gateway modelplane-system/inference-gateway (path /<namespace>/<replica>/); '
        + 'inferkit renders the InferencePool and its endpoint picker, but no HTTPRoute',
      fix: 'Route to the InferencePool qwen-pd with an HTTPRoute on your Gateway',
    });
  });
});
