import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { FleetInventory, MemberRole, ModelDeployment, Placement } from '../../index';
import { messageOf } from '../_helpers';

const fleetFile = path.join(__dirname, '..', '..', 'examples', 'manifests', 'modelplane-fleet.yaml');
/** The fleet example's documents, fresh for each call. */
const example = (): any[] => parseAllDocuments(fs.readFileSync(fleetFile, 'utf8')).map(d => d.toJS());
const deploymentOf = (docs: any[]) => docs.find(d => d.kind === 'ModelDeployment');
const fleetOf = (docs: any[]) => ({
  clusters: docs.filter(d => d.kind === 'InferenceCluster'),
  classes: docs.filter(d => d.kind === 'InferenceClass'),
  caches: docs.filter(d => d.kind === 'ModelCache'),
});

function fromManifests(docs: any[]): { md: ModelDeployment; objs: Record<string, any[]> } {
  const md = ModelDeployment.fromManifests(Testing.app(), 'qwen3-8b', deploymentOf(docs), fleetOf(docs));
  return { md, objs: Object.fromEntries(md.clusters.map(c => [c, Testing.synth(md.clusterChart(c))])) };
}
const errorOf = (docs: any[]) => messageOf(() => fromManifests(docs));

describe('loading a Modelplane ModelDeployment with its fleet', () => {
  test('the fleet example gives the objects of the construct given the same props and inventory', () => {
    const { md, objs } = fromManifests(example());
    const gpu = { name: 'gpu', driver: 'gpu.nvidia.com', deviceClassName: 'gpu.nvidia.com' };
    const fabric = { name: 'fabric', driver: 'fabric.modelplane.ai', attributes: { type: 'InfiniBand' } };
    const h100 = [{ ...gpu, count: 8, attributes: { productName: 'NVIDIA H100 80GB HBM3', cudaComputeCapability: { version: '9.0.0' } }, capacity: { memory: '80Gi' } }, fabric];
    const inventory: FleetInventory = {
      clusters: [
        {
          name: 'us-east-l4',
          labels: { region: 'us-east', tier: 'prod' },
          nodePools: [{
            name: 'gpu-l4',
            nodes: 2,
            devicesPerNode: [{ ...gpu, count: 4, attributes: { productName: 'NVIDIA L4', cudaComputeCapability: { version: '8.9.0' } }, capacity: { memory: '24Gi' } }],
          }],
        },
        { name: 'us-west-h100', labels: { region: 'us-west', tier: 'prod' }, nodePools: [{ name: 'gpu-h100', nodes: 2, devicesPerNode: h100 }] },
        {
          name: 'eu-west-h100',
          labels: { region: 'eu-west', tier: 'prod' },
          taints: [{ key: 'drain', value: 'true', effect: 'NoExecute' }],
          nodePools: [{ name: 'gpu-h100', nodes: 1, devicesPerNode: h100 }],
        },
      ],
    };
    const byHand = new ModelDeployment(Testing.app(), 'qwen3-8b', {
      namespace: 'ml-team',
      replicas: 4,
      labels: { app: 'qwen3-8b' },
      clusterSelector: { matchLabels: { tier: 'prod' } },
      tolerations: [],
      modelCache: { name: 'qwen3-8b', repo: 'Qwen/Qwen3-8B', sizeGiB: 40, storageClassName: 'nfs-rwx' },
      engines: [{
        name: 'qwen3-8b',
        members: [{
          role: MemberRole.STANDALONE,
          deviceRequests: [{ name: 'gpu', count: 1, selectors: ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('24Gi')) >= 0"] }],
          template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.23.0', args: ['--model=Qwen/Qwen3-8B', '--max-model-len=8192'] }] } },
        }],
      }],
      placement: Placement.solve(inventory),
    });
    expect(md.clusters).toEqual(byHand.clusters);
    expect(objs).toEqual(Object.fromEntries(byHand.clusters.map(c => [c, Testing.synth(byHand.clusterChart(c))])));
  });

  test('replicas spread over the two selected clusters; the drained one gets none', () => {
    const { md, objs } = fromManifests(example());
    expect(md.replicas.map(r => [r.index, r.cluster, r.pools['qwen3-8b/0']])).toEqual([
      [0, 'us-east-l4', 'gpu-l4'], [1, 'us-west-h100', 'gpu-h100'], [2, 'us-east-l4', 'gpu-l4'], [3, 'us-west-h100', 'gpu-h100'],
    ]);
    expect(md.clusters).not.toContain('eu-west-h100');
    for (const cluster of md.clusters) {
      expect(objs[cluster].filter(o => o.kind === 'PersistentVolumeClaim').map(o => o.spec.storageClassName)).toEqual(['nfs-rwx']);
    }
  });

  test('tolerating the drain taint lets replicas go to the drained cluster too', () => {
    const docs = example();
    deploymentOf(docs).spec.template.spec.tolerations = [{ key: 'drain', operator: 'Exists', effect: 'NoExecute' }];
    deploymentOf(docs).spec.replicas = 3;
    // eu-west-h100 is provisioned by GKE: its cache StorageClass is not the others', so this deployment stages no cache.
    delete deploymentOf(docs).spec.template.spec.modelCacheRef;
    expect(fromManifests(docs).md.clusters).toEqual(['eu-west-h100', 'us-east-l4', 'us-west-h100']);
  });

  test.each<[string, (docs: any[]) => void, string]>([
    ['a selector that is not CEL', docs => { deploymentOf(docs).spec.template.spec.engines[0].members[0].nodeSelector.devices[0].selectors[0].cel = 'device.capacity[';},
      "Unable to synthesize ModelDeployment/qwen3-8b: spec.template.spec.engines[0].members[0].nodeSelector.devices[0].selectors[0].cel 'device.capacity[' of request 'gpu' is not a valid device selector"],
    ['more replicas than the fleet holds', docs => { deploymentOf(docs).spec.replicas = 3; deploymentOf(docs).spec.template.spec.engines[0].members[0].nodeSelector.devices[0].count = 8; },
      'Unable to synthesize ModelDeployment/qwen3-8b: spec.replicas 3 leaves replica 2 unplaced: '],
    ['a reserved label', docs => { deploymentOf(docs).spec.template.metadata.labels['inferkit.dev/team'] = 'a'; },
      "Unable to synthesize ModelDeployment/qwen3-8b: spec.template.metadata.labels.inferkit.dev/team 'inferkit.dev/team' uses a reserved prefix"],
    ['a Worker without a Leader', docs => { Object.assign(deploymentOf(docs).spec.template.spec.engines[0].members[0], { role: 'Worker', worker: { nodes: 2 } }); },
      "Unable to synthesize ModelDeployment/qwen3-8b: spec.template.spec.engines[0].members 'Worker' has a Worker without a Leader"],
    ['a missing ModelCache', docs => { docs.splice(docs.findIndex(d => d.kind === 'ModelCache'), 1); },
      "Unable to synthesize ModelDeployment/qwen3-8b: spec.template.spec.modelCacheRef.name 'qwen3-8b' names no ModelCache in namespace ml-team in the given files."],
    ['a pool of a class not given', docs => { docs.splice(docs.findIndex(d => d.kind === 'InferenceClass' && d.metadata.name === 'l4-x4'), 1); },
      "Unable to synthesize InferenceCluster/us-east-l4: spec.nodePools[0].className 'l4-x4' names no InferenceClass in the given files."],
  ])('%s is refused in the manifest\'s terms', (_, edit, message) => {
    const docs = example();
    edit(docs);
    expect(errorOf(docs)).toContain(message);
  });
});
