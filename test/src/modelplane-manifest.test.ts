import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';
import {
  fleetInventory, loadInferenceClass, loadInferenceCluster, loadModelCache, loadModelDeployment, loadModelDeploymentWithFleet, loadModelReplica,
  Manifest, modelDeploymentFieldName,
} from '../../src';
import { messageOf } from '../_helpers';

const fleetFile = path.join(__dirname, '..', '..', 'examples', 'manifests', 'modelplane-fleet.yaml');
/** The fleet example's documents, fresh for each call, by `<Kind>/<name>`. */
const example = (): Record<string, any> =>
  Object.fromEntries(parseAllDocuments(fs.readFileSync(fleetFile, 'utf8')).map(d => d.toJS()).map(d => [`${d.kind}/${d.metadata.name}`, d]));
const fleetOf = (docs: Record<string, any>) => ({
  clusters: Object.values(docs).filter(d => d.kind === 'InferenceCluster'),
  classes: Object.values(docs).filter(d => d.kind === 'InferenceClass'),
  caches: Object.values(docs).filter(d => d.kind === 'ModelCache'),
});

describe('loading Modelplane InferenceClasses', () => {
  test('devices become fleet devices: typed attributes, capacity quantities, count defaulted, Synthetic devices without a class', () => {
    const docs = example();
    expect(loadInferenceClass(docs['InferenceClass/h100-x8']).devices).toEqual([
      {
        name: 'gpu',
        driver: 'gpu.nvidia.com',
        deviceClassName: 'gpu.nvidia.com',
        count: 8,
        attributes: { productName: 'NVIDIA H100 80GB HBM3', cudaComputeCapability: { version: '9.0.0' } },
        capacity: { memory: '80Gi' },
      },
      { name: 'fabric', driver: 'fabric.modelplane.ai', deviceClassName: undefined, count: 1, attributes: { type: 'InfiniBand' }, capacity: {} },
    ]);
  });

  test('int and bool attributes keep their types', () => {
    const doc = example()['InferenceClass/l4-x4'];
    doc.spec.devices[0].attributes = { cores: { int: 7424 }, mig: { bool: false } };
    expect(loadInferenceClass(doc).devices[0].attributes).toEqual({ cores: 7424, mig: false });
  });

  test('a Synthetic device drops the class the CRD ignores for it', () => {
    const doc = example()['InferenceClass/h100-x8'];
    doc.spec.devices[1].deviceClassName = 'ib.example.com';
    expect(loadInferenceClass(doc).devices[1].deviceClassName).toBeUndefined();
  });

  test.each<[string, (d: any) => void, string]>([
    ['an unknown field', d => { d.spec.devices[0].vendor = 'nvidia'; },
      "Unable to synthesize InferenceClass/l4-x4: spec.devices[0].vendor 'nvidia' is not a field of modelplane.ai/v1alpha1 InferenceClass. Remove it; spec.devices[0] accepts name, claim, driver, deviceClassName, count, attributes, capacity."],
    ['an attribute with two typed values', d => { d.spec.devices[0].attributes.productName = { string: 'L4', int: 4 }; },
      'Unable to synthesize InferenceClass/l4-x4: spec.devices[0].attributes.productName {"string":"L4","int":4} sets string and int. Set exactly one of string, int, bool, version.'],
    ['an attribute with no typed value', d => { d.spec.devices[0].attributes.productName = {}; },
      'spec.devices[0].attributes.productName {} sets no typed value. Set exactly one of string, int, bool, version.'],
    ['an untyped attribute', d => { d.spec.devices[0].attributes.productName = 'L4'; },
      "spec.devices[0].attributes.productName 'L4' is not an object. Write spec.devices[0].attributes.productName as a mapping."],
    ['a version that is not semver', d => { d.spec.devices[0].attributes.cudaComputeCapability = { version: '8.9' }; },
      "spec.devices[0].attributes.cudaComputeCapability.version '8.9' is not a semantic version. Give major.minor.patch, such as 9.0.0."],
    ['a bool written as text', d => { d.spec.devices[0].attributes.mig = { bool: 'yes' }; },
      "spec.devices[0].attributes.mig.bool 'yes' is not true or false. Write true or false."],
    ['a capacity that is not a quantity', d => { d.spec.devices[0].capacity.memory = { value: '24 GiB' }; },
      "spec.devices[0].capacity.memory.value '24 GiB' is not a Kubernetes quantity. Give a quantity, such as '80Gi'."],
    ['a capacity without its value', d => { d.spec.devices[0].capacity.memory = '24Gi'; },
      "spec.devices[0].capacity.memory '24Gi' is not an object."],
    ['a DRA device without a class', d => { delete d.spec.devices[0].deviceClassName; },
      'spec.devices[0].deviceClassName is missing on a claim: DRA device, which pods claim through its DeviceClass. Name the DeviceClass the DRA driver installs, such as gpu.nvidia.com, or set claim: Synthetic for a device placement reads but pods never claim.'],
    ['an unknown claim mode', d => { d.spec.devices[0].claim = 'Static'; }, "spec.devices[0].claim 'Static' is not a claim mode. Use DRA or Synthetic."],
    ['a count beyond the CRD', d => { d.spec.devices[0].count = 65; }, 'spec.devices[0].count 65 is outside 1 to 64.'],
    ['a namespace on a cluster-scoped kind', d => { d.metadata.namespace = 'ml-team'; },
      "metadata.namespace 'ml-team' is set, but InferenceClasses are cluster-scoped. Remove it."],
    ['an unknown provisioning field', d => { d.spec.provisioning.gke.spot = true; }, 'spec.provisioning.gke.spot true is not a field of modelplane.ai/v1alpha1 InferenceClass.'],
    ['two devices of one name', d => { d.spec.devices.push({ ...d.spec.devices[0] }); }, "spec.devices[1].name 'gpu' names another device of the class too."],
  ])('%s is refused with a message naming the field and the fix', (_, edit, message) => {
    const doc = example()['InferenceClass/l4-x4'];
    edit(doc);
    expect(messageOf(() => loadInferenceClass(doc))).toContain(message);
  });
});

describe('loading Modelplane InferenceClusters', () => {
  test('labels, taints and pools; an autoscaled pool counts its maximum, a fixed one its nodeCount', () => {
    const docs = example();
    expect(loadInferenceCluster(docs['InferenceCluster/us-west-h100'])).toMatchObject({
      labels: { region: 'us-west', tier: 'prod' },
      source: 'Existing',
      cacheStorageClassName: 'nfs-rwx',
      taints: [],
      nodePools: [{ name: 'gpu-h100', className: 'h100-x8', nodes: 2 }],
    });
    expect(loadInferenceCluster(docs['InferenceCluster/eu-west-h100'])).toMatchObject({
      source: 'GKE',
      cacheStorageClassName: undefined,
      taints: [{ key: 'drain', value: 'true', effect: 'NoExecute' }],
      nodePools: [{ name: 'gpu-h100', nodes: 1, zones: ['europe-west4-b'] }],
    });
  });

  test('a pool without nodeCount holds one node, the CRD default', () => {
    const doc = example()['InferenceCluster/us-east-l4'];
    delete doc.spec.nodePools[0].nodeCount;
    expect(loadInferenceCluster(doc).nodePools[0].nodes).toBe(1);
  });

  test.each<[string, (d: any) => void, string]>([
    ['an unknown field', d => { d.spec.nodePools[0].gpus = 8; },
      'Unable to synthesize InferenceCluster/us-east-l4: spec.nodePools[0].gpus 8 is not a field of modelplane.ai/v1alpha1 InferenceCluster.'],
    ['an unknown cache field', d => { d.spec.cluster.existing.cache.size = '1Ti'; }, "spec.cluster.existing.cache.size '1Ti' is not a field"],
    ['a pool without a class', d => { delete d.spec.nodePools[0].className; }, 'spec.nodePools[0].className is missing. Name the InferenceClass of the pool.'],
    ['a taint effect Kubernetes nodes have but clusters do not', d => { d.spec.taints = [{ key: 'gpu', effect: 'PreferNoSchedule' }]; },
      "spec.taints[0].effect 'PreferNoSchedule' is not a cluster taint effect. Use NoSchedule or NoExecute."],
    ['a source without its block', d => { d.spec.cluster = { source: 'EKS' }; }, 'spec.cluster.eks is missing, and spec.cluster.source is EKS. Add spec.cluster.eks.'],
    ['a name that cannot be a folder', d => { d.metadata.name = 'US_East'; }, "metadata.name 'US_East' is not a DNS-1123 subdomain."],
  ])('%s is refused with a message naming the field and the fix', (_, edit, message) => {
    const doc = example()['InferenceCluster/us-east-l4'];
    edit(doc);
    expect(messageOf(() => loadInferenceCluster(doc))).toContain(message);
  });
});

describe('the fleet inventory', () => {
  test('clusters carry their labels and taints; pools the devices of their class', () => {
    const docs = example();
    const { clusters, classes } = fleetOf(docs);
    const inventory = fleetInventory(clusters.map(loadInferenceCluster), classes.map(loadInferenceClass));
    expect(inventory.clusters.map(c => [c.name, c.labels, c.taints?.length, c.nodePools.map(p => [p.name, p.nodes, p.devicesPerNode.map(d => `${d.name}x${d.count}`)])])).toEqual([
      ['us-east-l4', { region: 'us-east', tier: 'prod' }, 0, [['gpu-l4', 2, ['gpux4']]]],
      ['us-west-h100', { region: 'us-west', tier: 'prod' }, 0, [['gpu-h100', 2, ['gpux8', 'fabricx1']]]],
      ['eu-west-h100', { region: 'eu-west', tier: 'prod' }, 1, [['gpu-h100', 1, ['gpux8', 'fabricx1']]]],
    ]);
  });

  test('a class or a cluster given twice is an error, not a choice left to the order of the files', () => {
    const { clusters, classes } = fleetOf(example());
    const twice = <T>(xs: T[]) => [...xs, xs[0]];
    const message = messageOf(() => fleetInventory(twice(clusters).map(loadInferenceCluster), twice(classes).map(loadInferenceClass)));
    const name = String(classes[0].metadata.name);
    expect(message).toContain(`Unable to synthesize InferenceClass/${name}: metadata.name '${name}' is given twice. Give each InferenceClass once.`);
    expect(message).toContain(`Unable to synthesize InferenceCluster/${String(clusters[0].metadata.name)}: metadata.name`);
  });

  test('a pool whose class is not given is an error naming the cluster, the field and the value', () => {
    const docs = example();
    const { clusters, classes } = fleetOf(docs);
    const message = messageOf(() => fleetInventory(clusters.map(loadInferenceCluster), classes.filter(c => c.metadata.name !== 'h100-x8').map(loadInferenceClass)));
    expect(message.split('\n')).toEqual([
      "Unable to synthesize InferenceCluster/us-west-h100: spec.nodePools[0].className 'h100-x8' names no InferenceClass in the given files. Add that InferenceClass, or use one of l4-x4.",
      "Unable to synthesize InferenceCluster/eu-west-h100: spec.nodePools[0].className 'h100-x8' names no InferenceClass in the given files. Add that InferenceClass, or use one of l4-x4.",
    ]);
  });
});

describe('loading Modelplane ModelCaches', () => {
  test('the Hugging Face source and the cluster selector', () => {
    expect(loadModelCache(example()['ModelCache/qwen3-8b'])).toMatchObject({
      name: 'qwen3-8b', namespace: 'ml-team', repo: 'Qwen/Qwen3-8B', sizeGiB: 40, clusterSelector: { matchLabels: { tier: 'prod' } },
    });
  });

  test.each<[string, (d: any) => void, string]>([
    ['an unknown field', d => { d.spec.huggingFace.token = 'hf_x'; }, "Unable to synthesize ModelCache/qwen3-8b: spec.huggingFace.token 'hf_x' is not a field of modelplane.ai/v1alpha1 ModelCache."],
    ['another source', d => { d.spec.source = 'S3'; }, "spec.source 'S3' is not a cache source. Use HuggingFace."],
    ['no size', d => { delete d.spec.huggingFace.sizeGiB; }, 'spec.huggingFace.sizeGiB is missing. Give the size to allocate on each cluster, in GiB.'],
    ['a size beyond the CRD', d => { d.spec.huggingFace.sizeGiB = 0; }, 'spec.huggingFace.sizeGiB 0 is outside 1 to 100000.'],
    ['matchExpressions, which Modelplane selectors lack', d => { d.spec.clusterSelector.matchExpressions = []; }, 'spec.clusterSelector.matchExpressions [] is not a field'],
  ])('%s is refused with a message naming the field and the fix', (_, edit, message) => {
    const doc = example()['ModelCache/qwen3-8b'];
    edit(doc);
    expect(messageOf(() => loadModelCache(doc))).toContain(message);
  });
});

describe('loading Modelplane ModelDeployments', () => {
  test('replicas, labels, selector, cache reference and engines whose members ask for devices', () => {
    expect(loadModelDeployment(example()['ModelDeployment/qwen3-8b'])).toMatchObject({
      replicas: 4,
      templateLabels: { app: 'qwen3-8b' },
      clusterSelector: { matchLabels: { tier: 'prod' } },
      modelCacheRef: 'qwen3-8b',
      tolerations: [],
      engines: [{
        name: 'qwen3-8b',
        members: [{ role: 'Standalone', deviceRequests: [{ name: 'gpu', count: 1, selectors: ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('24Gi')) >= 0"] }] }],
      }],
    });
  });

  const f = 'spec.template.spec.engines[0].members[0]';
  test.each<[string, (d: any) => void, string]>([
    ['an unknown field', d => { d.spec.template.spec.priority = 'high'; },
      "Unable to synthesize ModelDeployment/qwen3-8b: spec.template.spec.priority 'high' is not a field of modelplane.ai/v1alpha1 ModelDeployment."],
    ['a replica\'s nodePoolName', d => { d.spec.template.spec.engines[0].members[0].nodePoolName = 'gpu-l4'; }, `${f}.nodePoolName 'gpu-l4' is not a field`],
    ['a field outside the curated template', d => { d.spec.template.spec.engines[0].members[0].template.spec.hostNetwork = true; }, `${f}.template.spec.hostNetwork true is not a field`],
    ['an env source the CRD lacks', d => { d.spec.template.spec.engines[0].members[0].template.spec.containers[0].env = [{ name: 'X', valueFrom: { resourceFieldRef: {} } }]; },
      `${f}.template.spec.containers[0].env[0].valueFrom.resourceFieldRef {} is not a field`],
    ['a container not named engine', d => { d.spec.template.spec.engines[0].members[0].template.spec.containers[0].name = 'vllm'; },
      `${f}.template.spec.containers[0].name 'vllm' is not engine: the single container must be named engine. Name it engine.`],
    ['args written as text', d => { d.spec.template.spec.engines[0].members[0].template.spec.containers[0].args = '--model=x'; },
      `${f}.template.spec.containers[0].args '--model=x' is not a list.`],
    ['a request without selectors', d => { delete d.spec.template.spec.engines[0].members[0].nodeSelector.devices[0].selectors; },
      `${f}.nodeSelector.devices[0].selectors is missing.`],
    ['an empty selector', d => { d.spec.template.spec.engines[0].members[0].nodeSelector.devices[0].selectors = [{}]; },
      `${f}.nodeSelector.devices[0].selectors[0].cel is missing.`],
    ['worker on a Standalone member', d => { d.spec.template.spec.engines[0].members[0].worker = { nodes: 2 }; },
      `${f}.worker {"nodes":2} is set on a Standalone member. Set worker on the Worker member only.`],
    ['an unknown role', d => { d.spec.template.spec.engines[0].members[0].role = 'Coordinator'; }, `${f}.role 'Coordinator' is not a role. Use Standalone or Leader or Worker.`],
    ['an unknown serving mode', d => { d.spec.template.spec.serving = { mode: 'Split' }; }, "spec.template.spec.serving.mode 'Split' is not a serving mode. Use Unified or PrefillDecode."],
    ['a toleration effect clusters lack', d => { d.spec.template.spec.tolerations = [{ key: 'drain', operator: 'Exists', effect: 'PreferNoSchedule' }]; },
      "spec.template.spec.tolerations[0].effect 'PreferNoSchedule' is not a cluster taint effect."],
    ['no replicas', d => { delete d.spec.replicas; }, 'spec.replicas is missing. Give the number of replicas, 1 to 10.'],
    ['a clusterSelector with expressions, which the CRD lacks', d => { d.spec.template.spec.clusterSelector = { matchExpressions: [] }; },
      'spec.template.spec.clusterSelector.matchExpressions [] is not a field of modelplane.ai/v1alpha1 ModelDeployment.'],
    ['a clusterSelector label that is not text', d => { d.spec.template.spec.clusterSelector = { matchLabels: { region: 5 } }; },
      'spec.template.spec.clusterSelector.matchLabels.region 5 is not'],
    ['more replicas than the CRD allows', d => { d.spec.replicas = 11; }, 'spec.replicas 11 is outside 1 to 10.'],
  ])('%s is refused with a message naming the field and the fix', (_, edit, message) => {
    const doc = example()['ModelDeployment/qwen3-8b'];
    edit(doc);
    expect(messageOf(() => loadModelDeployment(doc))).toContain(message);
  });

  test('template fields written beside replicas are refused with a message that moves each one into spec.template.spec', () => {
    // Trimmed from modelplaneai/modelplane demo/prefill-decode/manifests/11-qwen-pd.yaml, which its CRD refuses.
    const flat = {
      apiVersion: 'modelplane.ai/v1alpha1',
      kind: 'ModelDeployment',
      metadata: { name: 'qwen-pd', namespace: 'ml-team' },
      spec: {
        replicas: 1,
        modelCacheRef: { name: 'qwen' },
        serving: { mode: 'PrefillDecode' },
        engines: [{
          name: 'prefill',
          phase: 'Prefill',
          members: [{ role: 'Standalone', template: { spec: { containers: [{ name: 'engine', image: 'docker.io/vllm/vllm-openai:v0.19.1-x86_64-cu130' }] } } }],
        }],
      },
    };
    const moved = (field: string, value: string) => `Unable to synthesize ModelDeployment/qwen-pd: spec.${field} ${value} is a field of the ModelReplica `
      + `template, not of the ModelDeployment spec: the CRD keeps everything but replicas under spec.template.spec. Move it to spec.template.spec.${field}.`;
    const lines = messageOf(() => loadModelDeployment(flat)).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(moved('modelCacheRef', '{"name":"qwen"}'));
    expect(lines[1]).toBe(moved('serving', '{"mode":"PrefillDecode"}'));
    expect(lines[2]).toMatch(/spec\.engines \[.* is a field of the ModelReplica template, .* Move it to spec\.template\.spec\.engines\.$/);
  });

  test('a deployment of an older schema, without spec.template, is refused naming the missing template', () => {
    // Trimmed from modelplaneai/modelplane examples/qwen-cached-demo/02-deployment.yaml, written for an earlier ModelDeployment schema.
    const old = {
      apiVersion: 'modelplane.ai/v1alpha1',
      kind: 'ModelDeployment',
      metadata: { name: 'qwen-cached-demo', namespace: 'ml-team' },
      spec: { replicas: 2, engine: { image: 'vllm/vllm-openai:v0.7.3', args: ['--served-model-name=qwen'] } },
    };
    expect(messageOf(() => loadModelDeployment(old)).split('\n')).toEqual([
      'Unable to synthesize ModelDeployment/qwen-cached-demo: spec.engine {"image":"vllm/vllm-openai:v0.7.3","args":["--served-model-name=qwen"]} is not a '
      + 'field of modelplane.ai/v1alpha1 ModelDeployment. Remove it; spec accepts replicas, template.',
      'Unable to synthesize ModelDeployment/qwen-cached-demo: spec.template is missing. Give the template of the replicas, with their engines in '
      + 'spec.template.spec.engines.',
    ]);
  });

  test('every problem is reported at once', () => {
    const doc = example()['ModelDeployment/qwen3-8b'];
    doc.spec.replicas = 0;
    doc.spec.template.spec.engines[0].members[0].role = 'Coordinator';
    expect(messageOf(() => loadModelDeployment(doc)).split('\n')).toHaveLength(2);
  });

  test.each([
    ['replicas', 'spec.replicas'],
    ['labels.modelplane.ai/x', 'spec.template.metadata.labels.modelplane.ai/x'],
    ['servingMode', 'spec.template.spec.serving.mode'],
    ['engines[0].members[1].deviceRequests[2].selectors[0]', 'spec.template.spec.engines[0].members[1].nodeSelector.devices[2].selectors[0].cel'],
    ['engines[0].members[1].deviceRequests', 'spec.template.spec.engines[0].members[1].nodeSelector.devices'],
    ['engines[0].members[1].pods', 'spec.template.spec.engines[0].members[1].worker.nodes'],
    ['tolerations[0].value', 'spec.template.spec.tolerations[0].value'],
  ])('the prop %s is the manifest field %s', (prop, field) => {
    expect(modelDeploymentFieldName(prop)).toBe(field);
  });
});

describe('a ModelDeployment with its fleet', () => {
  test('the cache is the ModelCache named, on the StorageClass of the clusters the deployment may go to', () => {
    const docs = example();
    const loaded = loadModelDeploymentWithFleet(docs['ModelDeployment/qwen3-8b'], fleetOf(docs));
    expect(loaded.cache).toMatchObject({ name: 'qwen3-8b', repo: 'Qwen/Qwen3-8B', sizeGiB: 40, storageClassName: 'nfs-rwx' });
    expect(loaded.inventory.clusters.map(c => c.name)).toEqual(['us-east-l4', 'us-west-h100', 'eu-west-h100']);
  });

  test('a missing ModelCache is an error naming modelCacheRef', () => {
    const docs = example();
    const message = messageOf(() => loadModelDeploymentWithFleet(docs['ModelDeployment/qwen3-8b'], { ...fleetOf(docs), caches: [] }));
    expect(message).toBe("Unable to synthesize ModelDeployment/qwen3-8b: spec.template.spec.modelCacheRef.name 'qwen3-8b' names no ModelCache in namespace ml-team in the given files. "
      + 'Add the ModelCache to the input, or remove modelCacheRef and mount the model with the engine templates.');
  });

  test('a ModelCache of another namespace is not the one named', () => {
    const docs = example();
    docs['ModelCache/qwen3-8b'].metadata.namespace = 'other';
    expect(messageOf(() => loadModelDeploymentWithFleet(docs['ModelDeployment/qwen3-8b'], fleetOf(docs)))).toContain('names no ModelCache in namespace ml-team');
  });

  test('clusters that disagree on the cache StorageClass are an error; a drained cluster does not count', () => {
    const docs = example();
    docs['InferenceCluster/us-west-h100'].spec.cluster.existing.cache.storageClassName = 'filestore';
    expect(messageOf(() => loadModelDeploymentWithFleet(docs['ModelDeployment/qwen3-8b'], fleetOf(docs)))).toContain(
      "spec.template.spec.modelCacheRef.name 'qwen3-8b' is staged on clusters whose spec.cluster.existing.cache.storageClassName differ (nfs-rwx: us-east-l4; filestore: us-west-h100). "
      + 'Give the clusters the deployment may go to the same cache storageClassName, or narrow spec.template.spec.clusterSelector to clusters that agree.');
  });

  test('the cache\'s clusterSelector narrows the deployment\'s, and a conflict is an error', () => {
    const docs = example();
    docs['ModelCache/qwen3-8b'].spec.clusterSelector.matchLabels = { region: 'us-east' };
    expect(loadModelDeploymentWithFleet(docs['ModelDeployment/qwen3-8b'], fleetOf(docs)).clusterSelector).toEqual({ matchLabels: { region: 'us-east', tier: 'prod' } });
    docs['ModelDeployment/qwen3-8b'].spec.template.spec.clusterSelector.matchLabels.region = 'us-west';
    expect(messageOf(() => loadModelDeploymentWithFleet(docs['ModelDeployment/qwen3-8b'], fleetOf(docs)))).toContain(
      "spec.template.spec.clusterSelector.matchLabels.region 'us-west' conflicts with ModelCache/qwen3-8b spec.clusterSelector.matchLabels.region 'us-east'");
  });

  test('errors of every manifest are reported at once', () => {
    const docs = example();
    docs['ModelDeployment/qwen3-8b'].spec.replicas = 0;
    docs['InferenceClass/l4-x4'].spec.devices[0].count = 0;
    const message = messageOf(() => loadModelDeploymentWithFleet(docs['ModelDeployment/qwen3-8b'], fleetOf(docs)));
    expect(message).toContain('ModelDeployment/qwen3-8b: spec.replicas 0 is outside 1 to 10');
    expect(message).toContain('InferenceClass/l4-x4: spec.devices[0].count 0 is outside 1 to 64');
  });
});

describe('loading Modelplane ModelReplicas', () => {
  const replica = (): Manifest => ({
    apiVersion: 'modelplane.ai/v1alpha1',
    kind: 'ModelReplica',
    metadata: { name: 'r' },
    spec: {
      clusterName: 'eks-l4',
      engines: [{ name: 'e', members: [{ nodePoolName: 'p', deviceRequests: [{ name: 'gpu', deviceClassName: 'gpu.nvidia.com' }], template: { spec: { containers: [{ name: 'engine', image: 'x' }] } } }] }],
    },
  });

  test('shares the member reading with ModelDeployments: the curated template is checked the same way', () => {
    const doc: any = replica();
    doc.spec.engines[0].members[0].template.spec.containers[0].env = [{ name: 'X', valueFrom: { resourceFieldRef: {} } }];
    expect(messageOf(() => loadModelReplica(doc))).toContain('spec.engines[0].members[0].template.spec.containers[0].env[0].valueFrom.resourceFieldRef {} is not a field');
  });

  test('a clusterName that is no cluster name is refused (it is a folder name with -o)', () => {
    const doc: any = replica();
    doc.spec.clusterName = '../etc';
    expect(messageOf(() => loadModelReplica(doc))).toContain("spec.clusterName '../etc' is not an InferenceCluster name (a DNS-1123 subdomain).");
  });
});
