import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { parse } from 'yaml';
import { GangScheduling, KthenaApi, Manifest, ModelInfer, NetworkTopology, RecoveryPolicy, Warnings, WorkloadBackend } from '../../index';
import { messageOf } from '../_helpers';

const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');
const load = (file: string): Manifest => parse(fs.readFileSync(path.join(manifests, file), 'utf8'));

const pod = (name: string): k8s.PodTemplateSpec => ({ spec: { containers: [{ name, image: 'nginx', ports: [{ containerPort: 8080 }] }] } });
const seedRoles = ['prefill', 'decode'].map(name => ({ name, replicas: 1, entryTemplate: pod('leader'), workerReplicas: 3, workerTemplate: pod('worker') }));

function fromManifest(doc: Manifest, backend?: WorkloadBackend) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'default' });
  ModelInfer.fromManifest(chart, 'm', doc, { backend });
  return Testing.synth(chart);
}

function construct(props: ConstructorParameters<typeof ModelInfer>[2]) {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'default' });
  new ModelInfer(chart, 'sample', props);
  return Testing.synth(chart);
}

const errorOf = (doc: Manifest, backend?: WorkloadBackend): string => messageOf(() => fromManifest(doc, backend));

/** The seed ModelInfer with `edit` applied to a deep copy. */
function seed(edit: (d: any) => void): Manifest {
  const d = load('modelinfer-sample.yaml');
  edit(d);
  return d;
}

describe('loading Kthena manifests', () => {
  test('a ModelInfer gives the same objects as the equivalent construct', () => {
    expect(fromManifest(load('modelinfer-sample.yaml'))).toEqual(construct({ roles: seedRoles, restartGracePeriod: Duration.seconds(60) }));
  });

  test('a ModelServing gives the same objects as the equivalent construct', () => {
    expect(fromManifest(load('modelserving-sample.yaml'))).toEqual(construct({
      kthenaApi: KthenaApi.MODEL_SERVING,
      roles: seedRoles,
      recoveryPolicy: RecoveryPolicy.NONE,
      rolloutStrategy: { maxUnavailable: 1 },
      restartGracePeriod: Duration.seconds(60),
      gangScheduling: GangScheduling.volcano({ minRoleReplicas: { prefill: 1, decode: 1 }, networkTopology: NetworkTopology.hard(2) }),
    }));
  });

  test('metadata labels and annotations reach every object', () => {
    const objs = fromManifest(seed(d => {
      d.metadata.labels = { team: 'llm' }; d.metadata.annotations = { owner: 'ml-platform' };
    }));
    for (const o of objs) {
      expect(o.metadata.labels.team).toBe('llm');
      expect(o.metadata.annotations.owner).toBe('ml-platform');
    }
  });

  test('the LeaderWorkerSet backend honours the CRD\'s default recoveryPolicy, RoleRecreate, without a warning', () => {
    const { objs, warnings } = withWarnings(seed(d => { delete d.spec.template.restartGracePeriodSeconds; }), WorkloadBackend.LEADER_WORKER_SET);
    expect(objs.filter(o => o.kind === 'LeaderWorkerSet').map(o => o.spec.leaderWorkerTemplate.restartPolicy)).toEqual(['RecreateGroupOnPodRestart', 'RecreateGroupOnPodRestart']);
    expect(warnings).toEqual([]);
  });

  test('quantities and int-or-string ports in pod templates survive loading', () => {
    const objs = fromManifest(seed(d => {
      d.spec.template.roles[0].entryTemplate.spec.containers[0].resources = { limits: { 'nvidia.com/gpu': 8, 'memory': '80Gi' } };
      d.spec.template.roles[0].entryTemplate.spec.containers[0].readinessProbe = { httpGet: { path: '/health', port: 'http' } };
    }));
    const c = objs.find(o => o.metadata.name === 'sample-0-prefill-0')!.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ limits: { 'nvidia.com/gpu': 8, 'memory': '80Gi' } });
    expect(c.readinessProbe).toEqual({ httpGet: { path: '/health', port: 'http' } });
    expect(objs.find(o => o.kind === 'PodGroup')!.spec.minResources).toEqual({ 'memory': '80Gi', 'nvidia.com/gpu': '8' });
  });

  test.each<[string, (d: any) => void, string]>([
    ['an unknown spec field', d => { d.spec.replica = 2; },
      'Unable to synthesize ModelInfer/sample: spec.replica 2 is not a field of workload.matrixinfer.ai/v1alpha1 ModelInfer. Remove it; spec accepts replicas, schedulerName, template, rolloutStrategy, recoveryPolicy, topologySpreadConstraints.'],
    ['an unknown field in a pod template', d => { d.spec.template.roles[0].entryTemplate.spec.containers[0].imagePullPolicyy = 'Always'; },
      'Unable to synthesize ModelInfer/sample: spec.template.roles[0].entryTemplate.spec.containers[0].imagePullPolicyy is not a field of a Kubernetes 1.34 PodTemplateSpec (or has the wrong type). Remove it or fix its spelling.'],
    ['a 13-character role name', d => { d.spec.template.roles[0].name = 'prefill-stage'; },
      "Unable to synthesize ModelInfer/sample: spec.template.roles[0].name 'prefill-stage' is 13 characters long, more than 12. Use a role name of at most 12 characters, such as 'prefill'."],
    ['duplicate roles', d => { d.spec.template.roles[1].name = 'prefill'; },
      "Unable to synthesize ModelInfer/sample: spec.template.roles[1].name 'prefill' is used by another role. Give every role a unique name."],
    ['5 roles', d => { d.spec.template.roles = ['a', 'b', 'c', 'd', 'e'].map(name => ({ ...d.spec.template.roles[0], name })); },
      'Unable to synthesize ModelInfer/sample: spec.template.roles has 5 roles; an InferGroup has 1 to 4. Merge roles or split the model into several ModelInfers (at most 4 roles).'],
    ['partition >= replicas', d => { d.spec.rolloutStrategy = { type: 'InferGroupRollingUpdate', rollingUpdateConfiguration: { partition: 1 } }; },
      'Unable to synthesize ModelInfer/sample: spec.rolloutStrategy.rollingUpdateConfiguration.partition 1 is not less than replicas (1), so no group would ever be updated. Use a partition from 0 to 0.'],
    ['maxSurge and maxUnavailable both 0', d => { d.spec.rolloutStrategy = { type: 'InferGroupRollingUpdate', rollingUpdateConfiguration: { maxSurge: 0, maxUnavailable: 0 } }; },
      'Unable to synthesize ModelInfer/sample: spec.rolloutStrategy.rollingUpdateConfiguration {"maxUnavailable":0,"maxSurge":0} has maxSurge and maxUnavailable both 0, so no group could ever be replaced. Allow at least one: maxUnavailable 1 (replace in place) or maxSurge 1 (add a group first).'],
    ['minRoleReplicas for an unknown role', d => { d.spec.template.gangSchedule = { minRoleReplicas: { prefil: 1 } }; },
      "Unable to synthesize ModelInfer/sample: spec.template.gangSchedule.minRoleReplicas.prefil 1 names role 'prefil', which is not one of the roles (prefill, decode). Use the name of a role, or remove the entry."],
    ['a recovery policy of the other API generation', d => { d.spec.recoveryPolicy = 'ServingGroupRecreate'; },
      "Unable to synthesize ModelInfer/sample: spec.recoveryPolicy 'ServingGroupRecreate' is not a recovery policy. Use one of InferGroupRecreate, RoleRecreate, None."],
    ['the simple modelRef form mixed with roles', d => { d.spec.modelRef = { name: 'llama' }; },
      'spec.modelRef {"name":"llama"} belongs to the simple ModelInfer form, which cannot be mixed with the roles form (spec.template). Keep spec.modelRef and drop spec.template, or the reverse.'],
  ])('%s fails with a message naming the field and the fix', (_, edit, message) => {
    expect(errorOf(seed(edit))).toContain(message);
  });

  test('ModelServing fields inferkit cannot honour are refused, not dropped', () => {
    const doc = load('modelserving-sample.yaml') as any;
    doc.spec.plugins = [{ name: 'headless-service', type: 'BuiltIn' }];
    doc.spec.rolloutStrategy.type = 'Canary';
    const message = errorOf(doc);
    expect(message).toContain('Unable to synthesize ModelServing/sample: spec.plugins [{"name":"headless-service","type":"BuiltIn"}] are run by the Kthena controller, which inferkit replaces.');
    expect(message).toContain("spec.rolloutStrategy.type 'Canary' is not a rollout type. Use ServingGroupRollingUpdate or RoleRollingUpdate.");
  });

  test('what the API server populates is ignored, as kubectl apply does; other metadata is refused', () => {
    // As `kubectl get modelserving sample -o yaml` exports it.
    const exported = (d: any) => {
      d.metadata.uid = '6f1c2d9e-4b1a-4f7e-9c1d-2a3b4c5d6e7f';
      d.metadata.resourceVersion = '48211';
      d.metadata.generation = 3;
      d.metadata.creationTimestamp = '2026-11-27T09:12:44Z';
      d.metadata.managedFields = [{ manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: d.apiVersion, fieldsType: 'FieldsV1', fieldsV1: {} }];
      d.metadata.ownerReferences = [{ apiVersion: 'workload.serving.volcano.sh/v1alpha1', kind: 'ModelBooster', name: 'sample', uid: 'a-b', controller: true }];
      d.metadata.annotations = { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ apiVersion: d.apiVersion, kind: d.kind }), 'owner': 'ml-platform' };
      d.status = { replicas: 1, availableReplicas: 1, conditions: [{ type: 'Available', status: 'True' }] };
    };
    const doc = load('modelserving-sample.yaml') as any;
    const plain = fromManifest(load('modelserving-sample.yaml'));
    exported(doc);
    const objs = fromManifest(doc);
    expect(objs.map(o => o.metadata.annotations)).toEqual(plain.map(o => ({ ...o.metadata.annotations, owner: 'ml-platform' })));
    const withoutAnnotations = (o: any) => ({ ...o, metadata: { ...o.metadata, annotations: undefined } });
    expect(objs.map(withoutAnnotations)).toEqual(plain.map(withoutAnnotations));
    expect(errorOf(seed(d => { d.metadata.finalizers = ['x']; }))).toContain('metadata.finalizers ["x"] is not a field of workload.matrixinfer.ai/v1alpha1 ModelInfer.');
  });
});

/** Loads `doc` and returns the objects and the warnings recorded in the construct tree. */
function withWarnings(doc: Manifest, backend?: WorkloadBackend): { objs: any[]; warnings: string[] } {
  const chart = new Chart(Testing.app(), 'c', { namespace: 'default' });
  ModelInfer.fromManifest(chart, 'm', doc, { backend });
  return { objs: Testing.synth(chart), warnings: Warnings.of(chart).all };
}

/**
 * A multi-node ModelServing shaped like Kthena's own examples: a 405B model served by a Ray head (the entry) and one
 * Ray worker per role instance, the entry pods spread by an anti-affinity on the controller's labels, and a router role
 * scaled to its entry pod (workerReplicas 0) that keeps its worker template. recoveryPolicy is left to the CRD default.
 */
const llamaMultinode = (): Manifest => parse(`
apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata:
  name: llama-multinode
  namespace: default
spec:
  schedulerName: volcano
  replicas: 1
  template:
    restartGracePeriodSeconds: 60
    gangPolicy:
      minRoleReplicas:
        405b: 2
    roles:
      - name: 405b
        replicas: 2
        entryTemplate:
          spec:
            affinity:
              podAntiAffinity:
                requiredDuringSchedulingIgnoredDuringExecution:
                  - labelSelector:
                      matchLabels:
                        modelserving.volcano.sh/role: 405b
                        modelserving.volcano.sh/entry: "true"
                    topologyKey: kubernetes.io/hostname
            containers:
              - name: leader
                image: vllm/vllm-openai:v0.11.0
                command: ["sh", "-c", "ray start --head --port=6379 && vllm serve meta-llama/Llama-3.1-405B-Instruct --tensor-parallel-size 8 --pipeline-parallel-size 2"]
                ports:
                  - containerPort: 8000
                resources:
                  limits:
                    nvidia.com/gpu: "8"
        workerReplicas: 1
        workerTemplate:
          spec:
            containers:
              - name: worker
                image: vllm/vllm-openai:v0.11.0
                command: ["sh", "-c", "ray start --address=$(ENTRY_ADDRESS):6379 --block"]
                resources:
                  limits:
                    nvidia.com/gpu: "8"
      - name: router
        replicas: 1
        entryTemplate:
          spec:
            containers:
              - name: router
                image: ghcr.io/volcano-sh/kthena-router:v0.1.0
        workerReplicas: 0
        workerTemplate:
          spec:
            containers:
              - name: router
                image: ghcr.io/volcano-sh/kthena-router:v0.1.0
`);

describe('Kthena\'s current API (ModelServing)', () => {
  const M = 'modelserving.volcano.sh/';

  test('pods carry the controller\'s modelserving.volcano.sh labels, so the CR\'s own anti-affinity selects its entry pods', () => {
    const { objs } = withWarnings(llamaMultinode());
    const entry = objs.find(o => o.metadata.name === 'llama-multinode-0-405b-1')!.spec.template;
    const selector = entry.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchLabels;
    expect(entry.metadata.labels).toMatchObject(selector);
    expect(entry.metadata.labels).toMatchObject({ [`${M}name`]: 'llama-multinode', [`${M}group-name`]: 'llama-multinode-0', [`${M}role-id`]: '405b-1' });
    expect(Object.keys(entry.metadata.labels).filter(k => k.startsWith('modelinfer.matrixinfer.ai/'))).toEqual([]);
    const worker = objs.find(o => o.metadata.name === 'llama-multinode-0-405b-1-w')!.spec.template;
    expect(worker.metadata.labels).not.toMatchObject(selector);
  });

  test('a ModelInfer-era CR keeps the modelinfer.matrixinfer.ai labels', () => {
    const { objs } = withWarnings(load('modelinfer-sample.yaml'));
    const labels = objs.find(o => o.metadata.name === 'sample-0-decode-0')!.spec.template.metadata.labels;
    expect(labels).toMatchObject({ 'modelinfer.matrixinfer.ai/name': 'sample', 'modelinfer.matrixinfer.ai/entry': 'true' });
    expect(Object.keys(labels).filter(k => k.startsWith(M))).toEqual([]);
  });

  test('a role with a worker template and workerReplicas 0, valid in the CRD, is accepted and runs its entry pod only', () => {
    const { objs } = withWarnings(llamaMultinode());
    const router = objs.filter(o => o.kind === 'StatefulSet' && o.metadata.name.startsWith('llama-multinode-0-router'));
    expect(router.map(o => o.metadata.name)).toEqual(['llama-multinode-0-router-0']);
    expect(objs.find(o => o.kind === 'PodGroup')!.spec).toMatchObject({ minMember: 2 * 2 + 1, minTaskMember: { '405b-0': 2, '405b-1': 2, 'router-0': 1 } });
  });

  test('the CRD\'s default recoveryPolicy (RoleRecreate) runs on StatefulSets as restarts in place, with a warning', () => {
    const { objs, warnings } = withWarnings(llamaMultinode());
    expect(objs.filter(o => o.kind === 'StatefulSet')).toHaveLength(2 * 2 + 1);
    expect(warnings).toEqual([
      "Warning: ModelServing/llama-multinode spec.recoveryPolicy 'RoleRecreate': the StatefulSet backend restarts a failed pod in place, where Kthena's controller "
      + 'recreates its whole role instance (entry and workers) once it has not recovered for 60 seconds. Use the LeaderWorkerSet backend (--backend LeaderWorkerSet), '
      + 'which recreates the whole role instance of a failed pod; or set recoveryPolicy None to accept restarts in place.',
    ]);
  });

  test('ServingGroupRecreate is named as the ModelServing wrote it', () => {
    const doc = llamaMultinode() as any;
    doc.spec.recoveryPolicy = 'ServingGroupRecreate';
    expect(withWarnings(doc).warnings).toEqual([expect.stringContaining(
      "Warning: ModelServing/llama-multinode spec.recoveryPolicy 'ServingGroupRecreate': the StatefulSet backend restarts a failed pod in place, where Kthena's "
      + 'controller recreates its whole ServingGroup once it has not recovered for 60 seconds.')]);
    expect(withWarnings(doc, WorkloadBackend.LEADER_WORKER_SET).warnings).toEqual([
      "Warning: ModelServing/llama-multinode spec.recoveryPolicy 'ServingGroupRecreate': the LeaderWorkerSet backend recreates only the role instance of a failed pod, "
      + "where Kthena's controller recreates the whole ServingGroup of 3 role instances. Set recoveryPolicy RoleRecreate to accept it, or give each ServingGroup a single role instance.",
      'Warning: ModelServing/llama-multinode spec.template.restartGracePeriodSeconds 60: the LeaderWorkerSet backend recreates a role instance as soon as one of its pods fails, '
      + "where Kthena's controller first waits 60 seconds for it to recover. Remove restartGracePeriodSeconds to accept it, or set recoveryPolicy None (failed pods restart in place).",
    ]);
  });

  test('recoveryPolicy None is honoured exactly on StatefulSets: no warning', () => {
    const doc = llamaMultinode() as any;
    doc.spec.recoveryPolicy = 'None';
    expect(withWarnings(doc).warnings).toEqual([]);
  });
});
