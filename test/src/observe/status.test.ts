// The status fold: rendered objects and what a cluster shows of them (pods, workloads, PodGroups, Jobs, events) to the
// status each seed system's CRD defines, checked against that CRD's schema, with the reasons a workload is not Ready.
import { App, Chart } from 'cdk8s';
import { at, find, live, podsOf, PodState, schemaErrors, T0 } from './_live';
import { InferenceLabels } from '../../../constructs/inference-service';
import { ModelLabels } from '../../../constructs/model';
import { ModelReplicaLabels } from '../../../constructs/model-replica';
import { deploymentFleet } from '../../../examples/model-deployment';
import { modelGguf, modelScaleToZero } from '../../../examples/models';
import { InferenceService, ModelServingLabels, ModelInfer, GangScheduling, KthenaApi, LedgerLabels } from '../../../index';
import {
  ClusterObservation, foldStatus, groupWorkloads, K8sObject, WorkloadLabels, workloadRef, workloadRefOf, workloadSelector, ObservedStatus,
} from '../../../src';

const MODELINFER_CRD = 'kthena-v0-workload.matrixinfer.ai_modelinfers.yaml';
const MODELSERVING_CRD = 'kthena-workload.serving.volcano.sh_modelservings.yaml';
const MODEL_CRD = 'flexinfer-ai.flexinfer_models.yaml';
const INFERENCE_CRD = 'kubedl-serving.kubedl.io_inferences.yaml';
const DEPLOYMENT_CRD = 'modelplane-modeldeployments-definition.yaml';
const REPLICA_CRD = 'modelplane-modelreplicas-definition.yaml';

const UNSCHEDULABLE = '0/7 nodes are available: 2 Insufficient nvidia.com/gpu, 5 node(s) didn\'t match Pod\'s node affinity/selector. preemption: 0/7 nodes are available: 7 Preemption is not helpful for scheduling.';

/** Two groups of an entry and one worker, as the integration tests' ModelInfer. */
const none = GangScheduling.none();
function groups(api = KthenaApi.MODEL_INFER, gang = none): K8sObject[] {
  const app = new App();
  const chart = new Chart(app, 'c', { namespace: 'ml' });
  const template = (name: string) => ({ spec: { containers: [{ name, image: 'vllm:v1' }] } });
  new ModelInfer(chart, 'llm', {
    replicas: 2,
    kthenaApi: api,
    gangScheduling: gang,
    schedulerName: gang === none ? 'default-scheduler' : 'volcano',
    roles: [{ name: 'serve', entryTemplate: template('engine'), workerReplicas: 1, workerTemplate: template('worker') }],
  });
  return chart.toJson();
}

/** The cluster's objects: the rendered workloads live, their pods in the states given (by group). */
function cluster(objects: readonly K8sObject[], state: (group: number, workload: string) => PodState, more: K8sObject[] = []): ClusterObservation {
  const workloads = objects.filter(o => o.kind === 'StatefulSet' || o.kind === 'Deployment').map(o => live(o));
  const pods = workloads.flatMap(w => podsOf(w, state(Number(w.metadata.labels['rollout.inferkit.dev/unit']), w.metadata.name)));
  return { cluster: '', objects: [...workloads, ...pods, ...more] };
}

const fold = (kind: Parameters<typeof workloadRef>[0], name: string, ns: string, objects: K8sObject[], obs: ClusterObservation[]): ObservedStatus =>
  foldStatus(workloadRef(kind, ns, name), objects, obs, T0 + 60_000);

describe('the labels the fold reads are the constructs\' own', () => {
  test('WorkloadLabels repeat the constructs\' public selector labels', () => {
    expect(WorkloadLabels).toMatchObject({
      MODEL: ModelLabels.MODEL,
      INFERENCE: InferenceLabels.INFERENCE,
      PREDICTOR: InferenceLabels.PREDICTOR,
      DEPLOYMENT: LedgerLabels.DEPLOYMENT,
      REPLICA: ModelReplicaLabels.REPLICA,
      CLUSTER: ModelReplicaLabels.CLUSTER,
      POOL: LedgerLabels.POOL,
    });
  });

  test('a synth output groups into its workloads, each found again in a cluster by its selector', () => {
    const objects = [...groups(), ...modelGguf(new App()).toJson(), ...groups(KthenaApi.MODEL_SERVING).map(o => ({ ...o, metadata: { ...o.metadata, namespace: 'serving' } }))];
    const found = groupWorkloads(objects);
    expect(found.map(w => `${w.ref.kind}/${w.ref.namespace}/${w.ref.name}`)).toEqual(['ModelInfer/ml/llm', 'Model/models/llama-3b', 'ModelServing/serving/llm']);
    // The pods, selected by workloadSelector, are the workload's too.
    for (const { ref, objects: own } of found) {
      const [key, value] = workloadSelector(ref).split('=');
      for (const w of own.filter(o => o.kind === 'StatefulSet' || o.kind === 'Deployment')) {
        expect(podsOf(w, 'ready').map(p => [p.metadata.labels[key], workloadRefOf(p)])).toEqual(podsOf(w, 'ready').map(() => [value, ref]));
      }
    }
    expect(workloadRefOf({ kind: 'ConfigMap', metadata: { name: 'x', labels: {} } })).toBeUndefined();
  });
});

describe('Kthena ModelInfer', () => {
  const objects = groups();

  test('the schema check finds a status its CRD refuses, and fields it would prune', () => {
    expect(schemaErrors(MODELINFER_CRD, { replicas: 'two', conditions: [{ type: 'Available', status: 'Yes' }], ready: true }).sort()).toEqual([
      '.ready: not in the CRD', '/conditions/0 must have required property \'lastTransitionTime\'', '/conditions/0 must have required property \'message\'',
      '/conditions/0 must have required property \'reason\'', '/conditions/0/status must be equal to one of the allowed values', '/replicas must be integer',
    ]);
  });

  test('Running: both groups Ready', () => {
    const s = fold('ModelInfer', 'llm', 'ml', objects, [cluster(objects, () => 'ready')]);
    expect(schemaErrors(MODELINFER_CRD, s.status, ['phase', 'readyReplicas'])).toEqual([]);
    expect(s.status).toMatchObject({ phase: 'Running', replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, currentReplicas: 2 });
    expect(s.status.conditions).toEqual([
      { type: 'Available', status: 'True', reason: 'AllGroupsReady', message: '2/2 groups Ready', lastTransitionTime: at(5) },
      { type: 'Progressing', status: 'False', reason: 'AllGroupsUpdated', message: `2/2 groups at revision ${s.revision}`, lastTransitionTime: at(5) },
    ]);
    expect(s).toMatchObject({ ready: true, readyCount: 2, desired: 2, reasons: [], createdAt: at(0) });
  });

  test('Pending: pods that request more GPUs than any node has quote the scheduler', () => {
    const s = fold('ModelInfer', 'llm', 'ml', objects, [cluster(objects, () => ({ unschedulable: UNSCHEDULABLE }))]);
    expect(schemaErrors(MODELINFER_CRD, s.status, ['phase', 'readyReplicas'])).toEqual([]);
    expect(s.status).toMatchObject({ phase: 'Pending', readyReplicas: 0, availableReplicas: 0 });
    const available = (s.status.conditions as K8sObject[])[0];
    expect(available).toMatchObject({ type: 'Available', status: 'False', reason: 'Unschedulable' });
    expect(available.message).toContain(`pod llm-0-serve-0-0: PodScheduled False Unschedulable: ${UNSCHEDULABLE}`);
    expect(s.reasons[0]).toMatch(/^llm-0: StatefulSet\/llm-0-serve-0: pod llm-0-serve-0-0: PodScheduled False Unschedulable: 0\/7 nodes are available: 2 Insufficient nvidia.com\/gpu/);
  });

  test('partially Ready: a worker in CrashLoopBackOff after OOMKilled fails its group and names the container', () => {
    const s = fold('ModelInfer', 'llm', 'ml', objects, [cluster(objects, (g, w) => (g === 1 && w.endsWith('-w') ? { waiting: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container', lastTerminated: 'OOMKilled' } : 'ready'))]);
    expect(schemaErrors(MODELINFER_CRD, s.status, ['phase', 'readyReplicas'])).toEqual([]);
    expect(s.status).toMatchObject({ phase: 'Failed', replicas: 2, readyReplicas: 1, availableReplicas: 1 });
    expect(s.reasons).toEqual(['llm-1: StatefulSet/llm-1-serve-0-w: pod llm-1-serve-0-w-0: container worker CrashLoopBackOff: back-off 5m0s restarting failed container; container worker OOMKilled (exit 137)']);
    expect((s.status.conditions as K8sObject[])[0]).toMatchObject({ status: 'False', reason: 'CrashLoopBackOff' });
  });

  test('nothing applied yet: every workload is named as missing', () => {
    const s = fold('ModelInfer', 'llm', 'ml', objects, [{ cluster: '', objects: [] }]);
    expect(s.status).toMatchObject({ phase: 'Pending', replicas: 0, readyReplicas: 0 });
    expect(s.reasons[0]).toBe('llm-0: StatefulSet/llm-0-serve-0 not found in the cluster: apply the synth output; StatefulSet/llm-0-serve-0-w not found in the cluster: apply the synth output');
    expect((s.status.conditions as K8sObject[])[0]).toMatchObject({ reason: 'NotApplied', lastTransitionTime: at(60) });
  });

  test('a group with one of its workloads gone is not Ready, even when the pods left are', () => {
    const obs = cluster(objects, () => 'ready');
    const without = obs.objects!.filter(o => !(o.kind === 'StatefulSet' && o.metadata.name === 'llm-1-serve-0-w') && !o.metadata.name.startsWith('llm-1-serve-0-w-'));
    const s = fold('ModelInfer', 'llm', 'ml', objects, [{ cluster: '', objects: without }]);
    expect(s.status).toMatchObject({ phase: 'Pending', readyReplicas: 1, availableReplicas: 1 });
    expect(s.reasons).toEqual(['llm-1: StatefulSet/llm-1-serve-0-w not found in the cluster: apply the synth output']);
  });

  test('a gang PodGroup that Volcano keeps Pending is the group\'s reason', () => {
    const gang = groups(KthenaApi.MODEL_INFER, GangScheduling.volcano());
    const pending = live(find(gang, 'PodGroup', 'llm-0'), {
      status: { phase: 'Pending', conditions: [{ type: 'Unschedulable', status: 'True', reason: 'NotEnoughResources', message: '2/2 tasks in gang unschedulable: pod group is not ready, 2 Pending, 2 minAvailable' }] },
    });
    const unseen = live(find(gang, 'PodGroup', 'llm-1'));
    const s = fold('ModelInfer', 'llm', 'ml', gang, [cluster(gang, () => ({ unschedulable: 'pod group is not ready' }), [pending, unseen])]);
    expect(s.reasons[0]).toMatch(/^llm-0: PodGroup llm-0 is Pending \(NotEnoughResources: 2\/2 tasks in gang unschedulable: pod group is not ready, 2 Pending, 2 minAvailable\); /);
    expect(s.reasons[1]).toMatch(/^llm-1: PodGroup llm-1 has no phase: no Volcano scheduler has seen it \(install Volcano, or use another gang backend\); /);
    expect((s.status.conditions as K8sObject[])[0]).toMatchObject({ reason: 'PodGroupPending' });
    expect(s.phase).toBe('Pending');
  });
});

describe('Kthena ModelServing', () => {
  test('a rollout half done: updated and current revisions, Progressing; no ModelInfer-only fields', () => {
    const objects = groups(KthenaApi.MODEL_SERVING);
    const obs = cluster(objects, () => 'ready');
    // Group 0 still runs the previous revision.
    const old = (o: K8sObject) => (o.metadata.labels[ModelServingLabels.GROUP_NAME] === 'llm-0' && o.kind === 'Pod'
      ? { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, [ModelServingLabels.REVISION]: 'old' } } } : o);
    const s = fold('ModelServing', 'llm', 'ml', objects, [{ cluster: '', objects: obs.objects!.map(old) }]);
    expect(schemaErrors(MODELSERVING_CRD, s.status)).toEqual([]);
    expect(s.status).toMatchObject({
      replicas: 2, updatedReplicas: 1, currentReplicas: 1, availableReplicas: 2, updateRevision: s.revision, currentRevision: 'old', labelSelector: 'modelserving.volcano.sh/name=llm',
    });
    expect(s.status.phase).toBeUndefined();
    expect((s.status.conditions as K8sObject[])[1]).toMatchObject({ type: 'Progressing', status: 'True', reason: 'UpdateInProgress' });
  });
});

describe('Kthena ModelServing rolled role by role', () => {
  test('its groups are still the units: the role instances of each group are found by the group label, not the rollout sets', () => {
    const chart = new Chart(new App(), 'c');
    ModelInfer.fromManifest(chart, 'ds', {
      apiVersion: 'workload.serving.volcano.sh/v1alpha1',
      kind: 'ModelServing',
      metadata: { name: 'ds', namespace: 'ml' },
      spec: {
        replicas: 2,
        schedulerName: 'default-scheduler',
        rolloutStrategy: { type: 'RoleRollingUpdate' },
        recoveryPolicy: 'None',
        template: { roles: [{ name: 'decode', replicas: 3, workerReplicas: 0, entryTemplate: { spec: { containers: [{ name: 'engine', image: 'vllm:v1' }] } } }] },
      },
    } as never);
    const objects = chart.toJson();
    expect(groupWorkloads(objects).map(w => `${w.ref.kind}/${w.ref.name}`)).toEqual(['ModelServing/ds']);
    const obs = cluster(objects, (_, w) => (w === 'ds-1-decode-2' ? { waiting: 'CrashLoopBackOff' } : 'ready'));
    const s = fold('ModelServing', 'ds', 'ml', objects, [obs]);
    expect(schemaErrors(MODELSERVING_CRD, s.status)).toEqual([]);
    expect(s).toMatchObject({ readyCount: 1, desired: 2, phase: 'Failed' });
    expect(s.status).toMatchObject({ replicas: 2, availableReplicas: 1, updatedReplicas: 2 });
    expect(s.reasons).toEqual(['ds-1: StatefulSet/ds-1-decode-2: pod ds-1-decode-2-0: container engine CrashLoopBackOff']);
  });
});

describe('FlexInfer Model', () => {
  const objects = modelGguf(new App()).toJson();
  const deployment = find(objects, 'Deployment', 'llama-3b');
  const job = (status: K8sObject) => live(find(objects, 'Job', 'llama-3b-prefetch'), { status });
  const claim = live(find(objects, 'PersistentVolumeClaim', 'llama-3b-cache'));
  const obs = (state: PodState, more: K8sObject[]): ClusterObservation[] => [{
    cluster: '', objects: [live(deployment), ...podsOf(live(deployment), state), claim, ...more],
  }];

  test('Ready: the prefetch Job succeeded and the pod is Ready; the endpoint is the Service', () => {
    const s = fold('Model', 'llama-3b', 'models', objects, obs('ready', [job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] })]));
    expect(schemaErrors(MODEL_CRD, s.status)).toEqual([]);
    expect(s.status).toMatchObject({
      phase: 'Ready',
      message: '1/1 pods Ready',
      endpoint: expect.stringMatching(/^http:\/\/llama-3b\.models\.svc\.cluster\.local:\d+$/),
      cache: { pvcName: 'llama-3b-cache', jobName: 'llama-3b-prefetch', jobPhase: 'Succeeded', ready: true },
    });
    expect(s.ready).toBe(true);
  });

  test('Failed: a prefetch Job that failed is the model\'s reason, with its last pod', () => {
    const failed = job({ failed: 6, conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }] });
    const jobPod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'llama-3b-prefetch-x7k2p', namespace: 'models', labels: { 'batch.kubernetes.io/job-name': 'llama-3b-prefetch', [ModelLabels.MODEL]: 'llama-3b' } },
      spec: { nodeName: 'n1' },
      status: { phase: 'Failed', containerStatuses: [{ name: 'prefetch', state: { terminated: { reason: 'Error', exitCode: 1 } } }] },
    };
    const s = fold('Model', 'llama-3b', 'models', objects, obs({ waiting: 'PodInitializing' }, [failed, jobPod]));
    expect(schemaErrors(MODEL_CRD, s.status)).toEqual([]);
    expect(s.status).toMatchObject({ phase: 'Failed', cache: { jobPhase: 'Failed', ready: false } });
    expect(s.reasons[0]).toBe('prefetch Job llama-3b-prefetch failed: BackoffLimitExceeded: Job has reached the specified backoff limit (pod llama-3b-prefetch-x7k2p: container prefetch Error (exit 1))');
    expect((s.status.conditions as K8sObject[])[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'JobFailed' });
  });

  test('Loading: the pod runs but is not Ready yet', () => {
    const s = fold('Model', 'llama-3b', 'models', objects, obs('running', [job({ succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] })]));
    expect(schemaErrors(MODEL_CRD, s.status)).toEqual([]);
    expect(s.status).toMatchObject({ phase: 'Loading', loadingSubstage: 'LoadingWeights' });
    expect(s.ready).toBe(false);
  });

  test('Idle: scaled to zero by its autoscaler, waiting for traffic, is Ready', () => {
    const zero = modelScaleToZero(new App()).toJson();
    const d = live(find(zero, 'Deployment', 'qwen-7b'), { spec: { ...find(zero, 'Deployment', 'qwen-7b').spec, replicas: 0 } });
    const s = fold('Model', 'qwen-7b', 'models', zero, [{ cluster: '', objects: [d] }]);
    expect(schemaErrors(MODEL_CRD, s.status)).toEqual([]);
    expect(s).toMatchObject({ phase: 'Idle', ready: true, desired: 0, reasons: ['scaled to zero by ScaledObject qwen-7b: waiting for traffic'] });
    expect((s.status.conditions as K8sObject[])[0]).toMatchObject({ status: 'True', reason: 'ScaledToZero' });
  });
});

describe('KubeDL Inference', () => {
  const app = new App();
  const chart = new Chart(app, 'c', { namespace: 'serving' });
  const template = (image: string) => ({ spec: { containers: [{ name: 'tensorflow', image, ports: [{ containerPort: 8500, name: 'http' }] }] } });
  new InferenceService(chart, 'hello', {
    framework: 'TFServing',
    predictors: [
      { name: 'a', modelVersion: 'v1', replicas: 2, trafficPercentage: 90, template: template('tf:1') },
      { name: 'b', modelVersion: 'v2', replicas: 1, trafficPercentage: 10, template: template('tf:2') },
    ],
  });
  const objects = chart.toJson();

  test('each predictor with its endpoint, replicas, ready replicas and traffic share; a pull error names the image\'s container', () => {
    const obs = cluster(objects, (_, w) => (w === 'hello-b' ? { waiting: 'ImagePullBackOff', message: 'Back-off pulling image "tf:2"' } : 'ready'));
    const s = fold('Inference', 'hello', 'serving', objects, [obs]);
    expect(schemaErrors(INFERENCE_CRD, s.status)).toEqual([]);
    const predictors = s.status.predictorStatuses as K8sObject[];
    expect(predictors.map(p => [p.readyReplicas, p.replicas, p.trafficPercent])).toEqual([[2, 2, 90], [0, 1, 10]]);
    expect(s).toMatchObject({ phase: 'Failed', ready: false, readyCount: 2, desired: 3 });
    expect(s.reasons[0]).toMatch(/container \S+ ImagePullBackOff: Back-off pulling image "tf:2"/);
    expect(s.status.inferenceEndpoint).toBe('hello.serving');
  });
});

describe('Modelplane ModelDeployment', () => {
  const objects = deploymentFleet(new App()).flatMap(c => c.toJson());
  const workloads = objects.filter(o => o.kind === 'Deployment' && o.metadata.labels?.[WorkloadLabels.REPLICA]);
  const clusters = [...new Set(workloads.map(w => w.metadata.labels[WorkloadLabels.CLUSTER]))].sort();

  test('each replica with its cluster, pool and readiness; an unreachable cluster is reported as such', () => {
    expect(clusters.length).toBeGreaterThan(0);
    const [first] = clusters;
    const obs: ClusterObservation[] = [
      { cluster: first, objects: workloads.filter(w => w.metadata.labels[WorkloadLabels.CLUSTER] === first).flatMap(w => [live(w), ...podsOf(live(w), 'ready')]) },
      { cluster: 'eu-central', error: 'no answer from https://10.0.0.1:6443 in 10000 ms' },
    ];
    const s = fold('ModelDeployment', 'mistral-7b', 'fleet-demo', objects, obs);
    expect(schemaErrors(DEPLOYMENT_CRD, s.status, ['conditions'])).toEqual([]);
    expect(s.status.replicas).toEqual({ total: workloads.length, ready: workloads.length });
    const expected = workloads.map(w => [w.metadata.labels[WorkloadLabels.REPLICA], first, true]).sort();
    expect(s.replicas!.map(r => [r.name, r.cluster, r.ready])).toEqual(expected);
    expect(s.replicas!.every(r => typeof r.pool === 'string')).toBe(true);

    const down = fold('ModelDeployment', 'mistral-7b', 'fleet-demo', objects, [{ cluster: first, error: 'connect ECONNREFUSED 127.0.0.1:6443' }]);
    expect(down).toMatchObject({ phase: 'Pending', ready: false, readyCount: 0 });
    expect(down.replicas![0].reason).toBe(`cluster ${first} unreachable: connect ECONNREFUSED 127.0.0.1:6443`);
    expect((down.status.conditions as K8sObject[])[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'Unavailable' });
  });

  test('a ModelReplica reports Crossplane\'s Ready condition', () => {
    const replica = workloads[0];
    const name = replica.metadata.labels[WorkloadLabels.REPLICA];
    const own = { ...replica, metadata: { ...replica.metadata, labels: { ...replica.metadata.labels, [WorkloadLabels.DEPLOYMENT]: name } } };
    expect(workloadRefOf(own)?.kind).toBe('ModelReplica');
    const s = fold('ModelReplica', name, 'fleet-demo', [own], [{ cluster: '', objects: [live(own), ...podsOf(live(own), 'running')] }]);
    expect(schemaErrors(REPLICA_CRD, s.status)).toEqual([]);
    expect((s.status.conditions as K8sObject[])[0]).toMatchObject({ type: 'Ready', status: 'False', reason: 'Creating' });
    expect(s.reasons[0]).toMatch(new RegExp(`^${name} \\(cluster \\S+, pool \\S+\\): Deployment/\\S+: pod \\S+: Ready False ContainersNotReady`));
  });
});
