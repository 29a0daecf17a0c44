import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { InferenceManifestOptions, InferenceService, Manifest, Warnings } from '../../index';
import { loadModelVersionManifest } from '../../src';
import { messageOf } from '../_helpers';

const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');
const load = (file: string): any => parse(fs.readFileSync(path.join(manifests, file), 'utf8'));

function make(doc: Manifest, options: InferenceManifestOptions = {}): Chart {
  const chart = new Chart(Testing.app(), 'c');
  InferenceService.fromManifest(chart, 'i', doc, options);
  return chart;
}

const fromManifest = (doc: Manifest, options: InferenceManifestOptions = {}) => Testing.synth(make(doc, options));
const warningsOf = (doc: Manifest, options: InferenceManifestOptions = {}) => Warnings.of(make(doc, options)).all;

/** A KubeDL ModelVersion as its model builder leaves it, with the image tag the user chose (the status is ignored). */
const modelVersion = (name: string, extra: Manifest = {}): Manifest => ({
  apiVersion: 'model.kubedl.io/v1alpha1',
  kind: 'ModelVersion',
  metadata: { name },
  spec: {
    modelName: 'mnist',
    createdBy: 'tfjob-mnist',
    imageRepo: 'modelhub/mnist',
    imageTag: name,
    storage: { localStorage: { path: '/tmp/model', mountPath: '/tmp/model', nodeName: 'node-1' } },
  },
  status: { image: `modelhub/mnist:${name}`, imageBuildPhase: 'ImageBuildSucceeded', finishTime: '2026-11-28T06:00:00Z' },
  ...extra,
});
const versions = [modelVersion('model-a'), modelVersion('model-b')].map(loadModelVersionManifest);
const dep = (objs: any[], name: string) => objs.find(o => o.kind === 'Deployment' && o.metadata.name === name)!;

const errorOf = (doc: Manifest): string => messageOf(() => fromManifest(doc));

describe('loading KubeDL Inference manifests', () => {
  test('the seed\'s multi-model Inference splits 90/10 at the gateway, on the HTTP port, and autoscales each predictor', () => {
    const objs = fromManifest(load('inference-multi-model.yaml'), { gateways: [{ namespace: 'edge', name: 'public' }] });
    const route = objs.find(o => o.kind === 'HTTPRoute')!;
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'edge' }]);
    expect(route.spec.rules[0].backendRefs.map((b: any) => [b.name, b.port, b.weight])).toEqual([
      ['hello-inference-model-a-predictor', 8080, 90], ['hello-inference-model-b-predictor', 8080, 10],
    ]);
    // KubeDL's predictor Service: http 8080 forwards to TF Serving's REST port (--rest_api_port=8500), grpc 9000 to --port=9000.
    const service = objs.find(o => o.kind === 'Service' && o.metadata.name === 'hello-inference-model-a-predictor')!;
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8500 }, { name: 'grpc', port: 9000, targetPort: 9000 }]);
    // No Service selects both predictors' pods: it would split by pod count.
    expect(objs.filter(o => o.kind === 'Service').map(o => o.metadata.name).sort()).toEqual(['hello-inference-model-a-predictor', 'hello-inference-model-b-predictor']);
    expect(objs.filter(o => o.kind === 'HorizontalPodAutoscaler').map(h => [h.spec.minReplicas, h.spec.maxReplicas])).toEqual([[1, 10], [1, 10]]);
    const b = dep(objs, 'hello-inference-model-b-predictor');
    expect(b.spec.template.metadata.labels['serving.kubedl.io/model-version']).toBe('model-b');
    expect(b.spec.template.spec.containers[0].image).toBe('tensorflow/serving:1.11.1');
  });

  test('a predictor\'s ModelVersion is loaded as KubeDL loads it: the model image copied into /kubedl-model/<version>, its path and name in the env', () => {
    const objs = fromManifest(load('inference-multi-model.yaml'), { modelVersions: versions });
    const pod = dep(objs, 'hello-inference-model-a-predictor').spec.template.spec;
    expect(pod.initContainers).toEqual([expect.objectContaining({
      name: 'kubedl-model-loader',
      image: 'modelhub/mnist:model-a',
      command: ['/bin/sh', '-c', 'cp -r /kubedl-model/* /mnt/kubedl-model/'],
    })]);
    expect(pod.volumes).toContainEqual({ name: 'kubedl-model-loader', emptyDir: {} });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'kubedl-model-loader', mountPath: '/kubedl-model/model-a' });
    expect(pod.containers[0].env).toEqual(expect.arrayContaining([
      { name: 'KUBEDL_MODEL_PATH', value: '/kubedl-model/model-a' }, { name: 'MODEL_BASE_PATH', value: '/kubedl-model' }, { name: 'MODEL_NAME', value: 'mnist' },
    ]));
    expect(warningsOf(load('inference-multi-model.yaml'), { modelVersions: versions, gateways: [{ name: 'gw' }] })).toEqual([]);
  });

  test('a ModelVersion\'s image is spec.imageRepo:spec.imageTag; its status is ignored', () => {
    const v = loadModelVersionManifest(modelVersion('model', { status: { image: 'elsewhere/mnist:built' } }));
    expect(v.image).toBe('modelhub/mnist:model');
    const pod = dep(fromManifest(load('inference-single-model.yaml'), { modelVersions: [v] }), 'hello-inference-model-predictor').spec.template.spec;
    expect(pod.initContainers[0].image).toBe('modelhub/mnist:model');
  });

  test.each<[string, InferenceManifestOptions, string]>([
    ['not among the input documents', {},
      "Warning: Inference/hello-inference spec.predictors[0].modelVersion 'model': names no ModelVersion among the input documents; the pods get no model, "
      + 'where KubeDL would copy its image\'s /kubedl-model files into /kubedl-model/model of every container (init container kubedl-model-loader, env KUBEDL_MODEL_PATH). '
      + 'Add the model.kubedl.io/v1alpha1 ModelVersion model to the input, with spec.imageRepo and spec.imageTag naming its built image.'],
    ['without an image tag', { modelVersions: [loadModelVersionManifest(modelVersion('model', { spec: { modelName: 'mnist', imageRepo: 'modelhub/mnist' } }))] },
      "Warning: Inference/hello-inference spec.predictors[0].modelVersion 'model': names a ModelVersion without spec.imageTag, so inferkit cannot know its image; "
      + 'the pods get no model, where KubeDL would copy its image\'s /kubedl-model files into /kubedl-model/model of every container (init container '
      + 'kubedl-model-loader, env KUBEDL_MODEL_PATH). Add the model.kubedl.io/v1alpha1 ModelVersion model to the input, with spec.imageRepo and spec.imageTag '
      + 'naming its built image.'],
    ['in another namespace', { modelVersions: [loadModelVersionManifest(modelVersion('model', { metadata: { name: 'model', namespace: 'other' } }))] },
      "Warning: Inference/hello-inference spec.predictors[0].modelVersion 'model': names no ModelVersion among the input documents"],
  ])('a ModelVersion %s gets no model loader, with a warning', (_, options, warning) => {
    const doc = load('inference-single-model.yaml');
    expect(warningsOf(doc, options)[0]).toContain(warning);
    expect(dep(fromManifest(doc, options), 'hello-inference-model-predictor').spec.template.spec.initContainers).toBeUndefined();
  });

  test('an autoScaler reference (required by KubeDL\'s CRD) loads, with a warning that inferkit renders its own autoscaler in its place', () => {
    const doc = load('inference-single-model.yaml');
    doc.spec.predictors[0].autoScale.autoScaler = { kind: 'HorizontalPodAutoscaler', name: 'mnist-hpa' };
    expect(fromManifest(doc).filter(o => o.kind === 'HorizontalPodAutoscaler').map(h => [h.metadata.name, h.spec.minReplicas, h.spec.maxReplicas]))
      .toEqual([['hello-inference-model-predictor', 1, 10]]);
    expect(warningsOf(doc)).toContain('Warning: Inference/hello-inference spec.predictors[0].autoScale.autoScaler '
      + '{"kind":"HorizontalPodAutoscaler","name":"mnist-hpa"}: refers to HorizontalPodAutoscaler mnist-hpa, '
      + 'which inferkit neither renders nor manages; it renders its own HorizontalPodAutoscaler hello-inference-model-predictor (1 to 10 replicas, '
      + 'at 80% CPU utilisation) in its place. Remove autoScaler to use inferkit\'s autoscaler, or remove autoScale and point your own autoscaler at '
      + 'Deployment hello-inference-model-predictor.');
  });

  test('an autoScale without maxReplicas keeps the fixed replicas, with a warning', () => {
    const doc = load('inference-single-model.yaml');
    doc.spec.predictors[0].autoScale = { minReplicas: 2, autoScaler: {} };
    const objs = fromManifest(doc);
    expect(objs.some(o => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
    expect(dep(objs, 'hello-inference-model-predictor').spec.replicas).toBe(3);
    expect(warningsOf(doc)).toContain('Warning: Inference/hello-inference spec.predictors[0].autoScale.maxReplicas: is missing, so no autoscaler can be rendered: '
      + 'Deployment hello-inference-model-predictor keeps a fixed 3 replica(s). Give maxReplicas to autoscale the predictor.');
  });

  test('without a gateway the seed\'s 90/10 split warns what the weights can and cannot do', () => {
    expect(warningsOf(load('inference-multi-model.yaml'), { modelVersions: versions })).toEqual([
      'Warning: Inference/hello-inference spec.predictors[*].trafficPercentage [90,10]: are split only where Gateway API routes the traffic: without a gateway, '
      + 'HTTPRoute hello-inference attaches to Service hello-inference, which a service mesh implementing Gateway API for Services (such as Istio or Linkerd) '
      + 'splits as declared; without such a mesh, Service hello-inference has no endpoints and Services hello-inference-model-a-predictor, '
      + 'hello-inference-model-b-predictor are reached only directly, unweighted. Give a gateway (inferkit synth --gateway NAMESPACE/NAME, or the gateways prop) '
      + 'to split the traffic at its address.',
    ]);
  });

  test('KubeDL\'s later spelling trafficWeight is read like trafficPercentage', () => {
    const doc = load('inference-multi-model.yaml');
    for (const p of doc.spec.predictors) {
      p.trafficWeight = p.trafficPercentage;
      delete p.trafficPercentage;
    }
    expect(fromManifest(doc)).toEqual(fromManifest(load('inference-multi-model.yaml')));
  });

  test('modelPath becomes KUBEDL_MODEL_PATH in every container', () => {
    const doc = load('inference-single-model.yaml');
    doc.spec.predictors[0].modelPath = '/kubedl-model/mnist';
    const d = fromManifest(doc).find(o => o.kind === 'Deployment')!;
    expect(d.spec.template.spec.containers[0].env).toContainEqual({ name: 'KUBEDL_MODEL_PATH', value: '/kubedl-model/mnist' });
  });

  test.each<[string, (d: any) => void, string]>([
    ['shares that do not add up to 100', d => { d.spec.predictors[1].trafficPercentage = 20; },
      'Unable to synthesize Inference/hello-inference: spec.predictors[*].trafficPercentage [90,20] add up to 110, not 100. Make the traffic shares add up to exactly 100.'],
    ['both spellings of the share', d => { d.spec.predictors[0].trafficWeight = 90; },
      'Unable to synthesize Inference/hello-inference: spec.predictors[0].trafficWeight 90 is given beside trafficPercentage; they are two spellings of one field. Keep one of them.'],
    ['an unknown field in the autoscaler reference', d => { d.spec.predictors[0].autoScale.autoScaler = { kind: 'HorizontalPodAutoscaler', nam: 'x' }; },
      'spec.predictors[0].autoScale.autoScaler.nam \'x\' is not a field of serving.kubedl.io/v1alpha1 Inference. Remove it; spec.predictors[0].autoScale.autoScaler accepts apiVersion, fieldPath, kind, name, namespace, resourceVersion, uid.'],
    ['an unknown predictor field', d => { d.spec.predictors[0].weight = 90; },
      'spec.predictors[0].weight 90 is not a field of serving.kubedl.io/v1alpha1 Inference. Remove it; spec.predictors[0] accepts name, modelVersion, modelPath, replicas, trafficPercentage, trafficWeight, autoScale, batching, template.'],
    ['an unknown field in a pod template', d => { d.spec.predictors[0].template.spec.containers[0].imagePulPolicy = 'Always'; },
      'spec.predictors[0].template.spec.containers[0].imagePulPolicy is not a field of a Kubernetes 1.34 PodTemplateSpec (or has the wrong type). Remove it or fix its spelling.'],
  ])('%s fails with a message naming the field and the fix', (_, edit, message) => {
    const doc = load('inference-multi-model.yaml');
    edit(doc);
    expect(errorOf(doc)).toContain(message);
  });

  test('an unknown ModelVersion field fails with a message naming it', () => {
    expect(messageOf(() => loadModelVersionManifest(modelVersion('m', { spec: { modelName: 'mnist', imageRepository: 'x' } })))).toBe(
      "Unable to synthesize ModelVersion/m: spec.imageRepository 'x' is not a field of model.kubedl.io/v1alpha1 ModelVersion. Remove it; spec accepts modelName, createdBy, storage, imageRepo, imageTag.");
  });
});
