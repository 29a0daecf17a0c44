import * as fs from 'fs';
import * as path from 'path';
import { Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import { InferenceService, Manifest } from '../../index';
import { messageOf } from '../_helpers';

const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');
const load = (file: string): any => parse(fs.readFileSync(path.join(manifests, file), 'utf8'));

function fromManifest(doc: Manifest) {
  const chart = new Chart(Testing.app(), 'c');
  InferenceService.fromManifest(chart, 'i', doc);
  return Testing.synth(chart);
}

const errorOf = (doc: Manifest): string => messageOf(() => fromManifest(doc));

describe('loading KubeDL Inference manifests', () => {
  test('the seed\'s multi-model Inference splits 90/10 and autoscales each predictor', () => {
    const objs = fromManifest(load('inference-multi-model.yaml'));
    const route = objs.find(o => o.kind === 'HTTPRoute')!;
    expect(route.spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight])).toEqual([['hello-inference-model-a-predictor', 90], ['hello-inference-model-b-predictor', 10]]);
    expect(objs.filter(o => o.kind === 'HorizontalPodAutoscaler').map(h => [h.spec.minReplicas, h.spec.maxReplicas])).toEqual([[1, 10], [1, 10]]);
    const dep = objs.find(o => o.kind === 'Deployment' && o.metadata.name === 'hello-inference-model-b-predictor')!;
    expect(dep.spec.template.metadata.labels['serving.kubedl.io/model-version']).toBe('model-b');
    expect(dep.spec.template.spec.containers[0].image).toBe('tensorflow/serving:1.11.1');
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
    const dep = fromManifest(doc).find(o => o.kind === 'Deployment')!;
    expect(dep.spec.template.spec.containers[0].env).toContainEqual({ name: 'KUBEDL_MODEL_PATH', value: '/kubedl-model/mnist' });
  });

  test.each<[string, (d: any) => void, string]>([
    ['shares that do not add up to 100', d => { d.spec.predictors[1].trafficPercentage = 20; },
      'Unable to synthesize Inference/hello-inference: spec.predictors[*].trafficPercentage [90,20] add up to 110, not 100. Make the traffic shares add up to exactly 100.'],
    ['both spellings of the share', d => { d.spec.predictors[0].trafficWeight = 90; },
      'Unable to synthesize Inference/hello-inference: spec.predictors[0].trafficWeight 90 is given beside trafficPercentage; they are two spellings of one field. Keep one of them.'],
    ['an autoscaler reference for KubeDL to manage', d => { d.spec.predictors[0].autoScale.autoScaler = { kind: 'HorizontalPodAutoscaler', name: 'x' }; },
      'spec.predictors[0].autoScale.autoScaler {"kind":"HorizontalPodAutoscaler","name":"x"} refers to an autoscaler for KubeDL to manage; inferkit renders its own HorizontalPodAutoscaler. Remove autoScaler and give minReplicas and maxReplicas.'],
    ['an unknown predictor field', d => { d.spec.predictors[0].weight = 90; },
      'spec.predictors[0].weight 90 is not a field of serving.kubedl.io/v1alpha1 Inference. Remove it; spec.predictors[0] accepts name, modelVersion, modelPath, replicas, trafficPercentage, trafficWeight, autoScale, batching, template.'],
    ['an unknown field in a pod template', d => { d.spec.predictors[0].template.spec.containers[0].imagePulPolicy = 'Always'; },
      'spec.predictors[0].template.spec.containers[0].imagePulPolicy is not a field of a Kubernetes 1.34 PodTemplateSpec (or has the wrong type). Remove it or fix its spelling.'],
  ])('%s fails with a message naming the field and the fix', (_, edit, message) => {
    const doc = load('inference-multi-model.yaml');
    edit(doc);
    expect(errorOf(doc)).toContain(message);
  });
});
