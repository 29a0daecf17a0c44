import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { parse } from 'yaml';
import { GangScheduling, Manifest, ModelInfer, NetworkTopology, RecoveryPolicy, WorkloadBackend } from '../../index';
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

  test('the LeaderWorkerSet backend honours RoleRecreate from a manifest', () => {
    const objs = fromManifest(seed(d => {
      d.spec.recoveryPolicy = 'RoleRecreate'; delete d.spec.template.restartGracePeriodSeconds;
    }), WorkloadBackend.LEADER_WORKER_SET);
    expect(objs.filter(o => o.kind === 'LeaderWorkerSet').map(o => o.spec.leaderWorkerTemplate.restartPolicy)).toEqual(['RecreateGroupOnPodRestart', 'RecreateGroupOnPodRestart']);
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
    ['RoleRecreate on the StatefulSet backend', d => { d.spec.recoveryPolicy = 'RoleRecreate'; },
      "Unable to synthesize ModelInfer/sample: spec.recoveryPolicy 'RoleRecreate' cannot be honoured by the StatefulSet backend, which restarts only the failed pod. Use backend LeaderWorkerSet (RoleRecreate), or recoveryPolicy None."],
    ['the simple modelRef form mixed with roles', d => { d.spec.modelRef = { name: 'llama' }; },
      'spec.modelRef {"name":"llama"} belongs to the simple ModelInfer form, which cannot be mixed with the roles form (spec.template). Keep spec.modelRef and drop spec.template, or the reverse.'],
  ])('%s fails with a message naming the field and the fix', (_, edit, message) => {
    expect(errorOf(seed(edit))).toContain(message);
  });

  test('ModelServing fields inferkit cannot honour are refused, not dropped', () => {
    const doc = load('modelserving-sample.yaml') as any;
    doc.spec.plugins = [{ name: 'headless-service', type: 'BuiltIn' }];
    doc.spec.template.roles[0].partition = 1;
    doc.spec.rolloutStrategy.type = 'RoleRollingUpdate';
    const message = errorOf(doc);
    expect(message).toContain('Unable to synthesize ModelServing/sample: spec.plugins [{"name":"headless-service","type":"BuiltIn"}] are run by the Kthena controller, which inferkit replaces.');
    expect(message).toContain('spec.template.roles[0].partition 1 configures a role-by-role rolling update, which inferkit does not do (it rolls InferGroups one by one).');
    expect(message).toContain("spec.rolloutStrategy.type 'RoleRollingUpdate' is not supported: inferkit rolls whole groups one by one. Use ServingGroupRollingUpdate.");
  });

  test('server-owned metadata and status are ignored; other metadata is refused', () => {
    expect(() => fromManifest(seed(d => {
      d.metadata.uid = 'x'; d.metadata.resourceVersion = '1'; d.status = { replicas: 1 };
    }))).not.toThrow();
    expect(errorOf(seed(d => { d.metadata.finalizers = ['x']; }))).toContain('metadata.finalizers ["x"] is not a field of workload.matrixinfer.ai/v1alpha1 ModelInfer.');
  });
});
