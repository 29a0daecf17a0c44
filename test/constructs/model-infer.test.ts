import { Chart, Duration, Size, Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { seedSample } from '../../examples/seed-sample';
import { Accelerator, GangScheduling, KthenaApi, ModelInfer, ModelInferProps, NetworkTopology, RecoveryPolicy, Warnings, WorkloadBackend } from '../../index';

type Obj = Record<string, any>;

function synth(props: ModelInferProps, namespace: string | null = 'default'): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace: namespace ?? undefined });
  new ModelInfer(chart, 'sample', props);
  return Testing.synth(chart);
}

const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find(x => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objs.map(x => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};
const envOf = (pod: Obj, container = 0): Record<string, unknown> =>
  Object.fromEntries(pod.spec.containers[container].env.map((e: Obj) => [e.name, e.value ?? e.valueFrom]));

const nginx = (name: string): k8s.PodTemplateSpec => ({ spec: { containers: [{ name, image: 'nginx', ports: [{ containerPort: 8080 }] }] } });
/** The labels of one Kthena API generation, by their prefix. */
const kthenaLabelsOf = (labels: Record<string, string>, prefix: string): Record<string, string> =>
  Object.fromEntries(Object.entries(labels).filter(([k]) => k.startsWith(prefix)));

describe('the seed sample (1 prefill, 1 decode, 3 workers each)', () => {
  const objs = Testing.synth(seedSample(Testing.app()));

  test('emits per role instance an entry StatefulSet, a worker StatefulSet and a headless Service, and one PodGroup', () => {
    expect(objs.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'PodDisruptionBudget/sample', 'PodGroup/sample-0',
      'Service/sample-0-decode-0-0', 'Service/sample-0-prefill-0-0',
      'StatefulSet/sample-0-decode-0', 'StatefulSet/sample-0-decode-0-w',
      'StatefulSet/sample-0-prefill-0', 'StatefulSet/sample-0-prefill-0-w',
    ]);
  });

  test('the entry pod carries the Kthena labels and the gang annotations', () => {
    const pod = find(objs, 'StatefulSet', 'sample-0-decode-0').spec.template;
    expect(kthenaLabelsOf(pod.metadata.labels, 'modelinfer.matrixinfer.ai/')).toEqual({
      'modelinfer.matrixinfer.ai/name': 'sample',
      'modelinfer.matrixinfer.ai/group-name': 'sample-0',
      'modelinfer.matrixinfer.ai/role': 'decode',
      'modelinfer.matrixinfer.ai/role-id': 'decode-0',
      'modelinfer.matrixinfer.ai/revision': expect.stringMatching(/^[0-9a-f]{10}$/),
      'modelinfer.matrixinfer.ai/entry': 'true',
    });
    expect(pod.metadata.annotations).toEqual({ 'scheduling.k8s.io/group-name': 'sample-0', 'volcano.sh/task-spec': 'decode-0' });
    expect(pod.spec.schedulerName).toBe('volcano');
  });

  test('entry and workers get GROUP_SIZE, ENTRY_ADDRESS and WORKER_INDEX', () => {
    const entry = find(objs, 'StatefulSet', 'sample-0-decode-0');
    const workers = find(objs, 'StatefulSet', 'sample-0-decode-0-w');
    expect(envOf(entry.spec.template)).toMatchObject({ GROUP_SIZE: '4', ENTRY_ADDRESS: 'sample-0-decode-0-0.sample-0-decode-0-0.default', WORKER_INDEX: '0' });
    expect(envOf(workers.spec.template)).toMatchObject({
      GROUP_SIZE: '4',
      ENTRY_ADDRESS: 'sample-0-decode-0-0.sample-0-decode-0-0.default',
      WORKER_INDEX: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
    });
    expect(workers.spec.template.metadata.labels['modelinfer.matrixinfer.ai/entry']).toBe('false');
  });

  test('the entry StatefulSet gives pod <instance>-0 under the headless Service of the same name; workers count from 1', () => {
    const entry = find(objs, 'StatefulSet', 'sample-0-prefill-0');
    const workers = find(objs, 'StatefulSet', 'sample-0-prefill-0-w');
    expect(entry.spec).toMatchObject({ replicas: 1, serviceName: 'sample-0-prefill-0-0' });
    expect(workers.spec).toMatchObject({ replicas: 3, ordinals: { start: 1 }, serviceName: 'sample-0-prefill-0-0' });
    const svc = find(objs, 'Service', 'sample-0-prefill-0-0');
    expect(svc.spec).toEqual({
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: entry.spec.selector.matchLabels,
    });
    expect(entry.spec.selector.matchLabels['modelinfer.matrixinfer.ai/entry']).toBe('true');
    expect(svc.metadata.labels).toMatchObject({
      'modelinfer.matrixinfer.ai/group-name': 'sample-0', 'modelinfer.matrixinfer.ai/role': 'prefill', 'modelinfer.matrixinfer.ai/role-id': 'prefill-0',
    });
  });

  test('the PodGroup counts every pod and each role instance as a task', () => {
    const pg = find(objs, 'PodGroup', 'sample-0');
    expect(pg.apiVersion).toBe('scheduling.volcano.sh/v1beta1');
    expect(pg.spec).toEqual({ minMember: 8, minTaskMember: { 'prefill-0': 4, 'decode-0': 4 } });
  });
});

describe('Kthena\'s current API (kthenaApi MODEL_SERVING)', () => {
  const roles = [
    { name: 'prefill', entryTemplate: nginx('leader'), workerReplicas: 1, workerTemplate: nginx('worker') },
    { name: 'decode', replicas: 2, entryTemplate: nginx('leader') },
  ];
  const gangScheduling = GangScheduling.volcano({ roleNetworkTopology: NetworkTopology.hard(1) });
  const objs = synth({ kthenaApi: KthenaApi.MODEL_SERVING, roles, gangScheduling });
  const M = 'modelserving.volcano.sh/';

  test('pods carry the modelserving.volcano.sh labels of Kthena\'s controller, and none of the ModelInfer era', () => {
    const entry = find(objs, 'StatefulSet', 'sample-0-prefill-0').spec.template.metadata.labels;
    expect(kthenaLabelsOf(entry, M)).toEqual({
      [`${M}name`]: 'sample',
      [`${M}group-name`]: 'sample-0',
      [`${M}role`]: 'prefill',
      [`${M}role-id`]: 'prefill-0',
      [`${M}revision`]: expect.stringMatching(/^[0-9a-f]{10}$/),
      [`${M}role-template-hash`]: expect.stringMatching(/^[0-9a-f]{10}$/),
      [`${M}entry`]: 'true',
    });
    expect(kthenaLabelsOf(entry, 'modelinfer.matrixinfer.ai/')).toEqual({});
  });

  test('workers carry no entry label, as under Kthena; the two StatefulSets select disjoint pods', () => {
    const entry = find(objs, 'StatefulSet', 'sample-0-prefill-0');
    const workers = find(objs, 'StatefulSet', 'sample-0-prefill-0-w');
    expect(workers.spec.template.metadata.labels[`${M}entry`]).toBeUndefined();
    expect(workers.spec.selector).toEqual({
      matchLabels: { [`${M}name`]: 'sample', [`${M}group-name`]: 'sample-0', [`${M}role-id`]: 'prefill-0' },
      matchExpressions: [{ key: `${M}entry`, operator: 'DoesNotExist' }],
    });
    expect(entry.spec.selector).toEqual({ matchLabels: { [`${M}name`]: 'sample', [`${M}group-name`]: 'sample-0', [`${M}role-id`]: 'prefill-0', [`${M}entry`]: 'true' } });
    expect(find(objs, 'Service', 'sample-0-prefill-0-0').spec.selector).toEqual(entry.spec.selector.matchLabels);
  });

  test('the role template hash differs between roles and is shared by the instances of a role', () => {
    const hash = (name: string) => find(objs, 'StatefulSet', name).spec.template.metadata.labels[`${M}role-template-hash`];
    expect(hash('sample-0-decode-0')).toBe(hash('sample-0-decode-1'));
    expect(hash('sample-0-decode-0')).not.toBe(hash('sample-0-prefill-0'));
    expect(hash('sample-0-prefill-0-w')).toBe(hash('sample-0-prefill-0'));
  });

  test('the PodGroup and its role sub-groups select by the same labels', () => {
    const pg = find(objs, 'PodGroup', 'sample-0');
    expect(kthenaLabelsOf(pg.metadata.labels, M)).toEqual({ [`${M}name`]: 'sample', [`${M}group-name`]: 'sample-0' });
    expect(pg.spec.subGroupPolicy.map((g: Obj) => [g.labelSelector, g.matchLabelKeys])).toEqual([
      [{ matchLabels: { [`${M}name`]: 'sample', [`${M}role`]: 'prefill' } }, [`${M}role-id`]],
      [{ matchLabels: { [`${M}name`]: 'sample', [`${M}role`]: 'decode' } }, [`${M}role-id`]],
    ]);
  });

  test('the LeaderWorkerSet backend labels leaders and workers the same way', () => {
    const lws = synth({ kthenaApi: KthenaApi.MODEL_SERVING, roles, backend: WorkloadBackend.LEADER_WORKER_SET });
    const prefill = find(lws, 'LeaderWorkerSet', 'sample-0-prefill').spec.leaderWorkerTemplate;
    expect(prefill.leaderTemplate.metadata.labels).toMatchObject({ [`${M}name`]: 'sample', [`${M}group-name`]: 'sample-0', [`${M}entry`]: 'true' });
    expect(prefill.workerTemplate.metadata.labels[`${M}entry`]).toBeUndefined();
    expect(prefill.workerTemplate.metadata.labels[`${M}role`]).toBe('prefill');
  });
});

describe('ModelInfer', () => {
  test('a recovery policy the backend cannot honour runs as in-place restarts, with a warning in the construct tree', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'default' });
    new ModelInfer(chart, 'sample', { recoveryPolicy: RecoveryPolicy.ROLE_RECREATE, roles: [{ name: 'serve', entryTemplate: nginx('e') }] });
    expect(Testing.synth(chart).filter(o => o.kind === 'StatefulSet')).toHaveLength(1);
    expect(Warnings.of(chart).all).toEqual([
      "Warning: test/sample recoveryPolicy 'RoleRecreate': the StatefulSet backend restarts a failed pod in place, where Kthena's controller recreates its whole "
      + 'role instance (entry and workers). Use the LeaderWorkerSet backend (--backend LeaderWorkerSet), which recreates the whole role instance of a failed pod; '
      + 'or set recoveryPolicy None to accept restarts in place.',
    ]);
  });

  test('a worker template with no workers renders the entry pod only', () => {
    const objs = synth({ roles: [{ name: 'serve', entryTemplate: nginx('e'), workerReplicas: 0, workerTemplate: nginx('w') }] });
    expect(objs.filter(o => o.kind === 'StatefulSet').map(o => o.metadata.name)).toEqual(['sample-0-serve-0']);
    expect(envOf(find(objs, 'StatefulSet', 'sample-0-serve-0').spec.template)).toMatchObject({ GROUP_SIZE: '1', WORKER_INDEX: '0' });
  });

  test('minResources counts GPU limits (requests default to limits) of the instances the gang needs', () => {
    const objs = synth({
      replicas: 2,
      gangScheduling: GangScheduling.volcano({ minRoleReplicas: { prefill: 1 }, networkTopology: NetworkTopology.soft(2) }),
      roles: [
        {
          name: 'prefill',
          replicas: 2,
          entryTemplate: { spec: { containers: [{ name: 'e', image: 'x', resources: { limits: { 'nvidia.com/gpu': k8s.Quantity.fromNumber(4) }, requests: { cpu: k8s.Quantity.fromString('500m') } } }] } },
        },
        {
          name: 'decode',
          workerReplicas: 2,
          accelerator: Accelerator.nvidia(8),
          entryTemplate: nginx('e'),
          workerTemplate: nginx('w'),
        },
      ],
    });
    for (const g of ['sample-0', 'sample-1']) {
      expect(find(objs, 'PodGroup', g).spec).toEqual({
        minMember: 1 + 3,
        minTaskMember: { 'prefill-0': 1, 'decode-0': 3 },
        minResources: { 'cpu': '500m', 'nvidia.com/gpu': '28' },
        networkTopology: { mode: 'soft', highestTierAllowed: 2 },
      });
    }
    expect(objs.filter(o => o.kind === 'StatefulSet')).toHaveLength(2 * (2 + 2));
  });

  test('role network topology becomes a Volcano sub-group per role', () => {
    const objs = synth({ gangScheduling: GangScheduling.volcano({ roleNetworkTopology: NetworkTopology.hardByTierName('rack') }), roles: [{ name: 'decode', entryTemplate: nginx('e') }] });
    expect(find(objs, 'PodGroup', 'sample-0').spec.subGroupPolicy).toEqual([{
      name: 'decode',
      labelSelector: { matchLabels: { 'modelinfer.matrixinfer.ai/name': 'sample', 'modelinfer.matrixinfer.ai/role': 'decode' } },
      matchLabelKeys: ['modelinfer.matrixinfer.ai/role-id'],
      subGroupSize: 1,
      minSubGroups: 1,
      networkTopology: { mode: 'hard', highestTierName: 'rack' },
    }]);
  });

  test('without gang scheduling there is no PodGroup and no group annotation', () => {
    const objs = synth({ schedulerName: 'default-scheduler', roles: [{ name: 'serve', entryTemplate: nginx('e') }] });
    expect(objs.some(o => o.kind === 'PodGroup')).toBe(false);
    const pod = find(objs, 'StatefulSet', 'sample-0-serve-0').spec.template;
    expect(pod.metadata.annotations).toBeUndefined();
    expect(pod.spec.schedulerName).toBe('default-scheduler');
  });

  test('without a namespace, ENTRY_ADDRESS reads the pod\'s namespace from the downward API', () => {
    const objs = synth({ roles: [{ name: 'serve', entryTemplate: nginx('e') }] }, null);
    const env = find(objs, 'StatefulSet', 'sample-0-serve-0').spec.template.spec.containers[0].env;
    expect(env[0]).toEqual({ name: 'INFERKIT_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } });
    expect(env[2]).toEqual({ name: 'ENTRY_ADDRESS', value: 'sample-0-serve-0-0.sample-0-serve-0-0.$(INFERKIT_NAMESPACE)' });
  });

  test('init containers get the role environment too', () => {
    const objs = synth({ roles: [{ name: 'serve', entryTemplate: { spec: { initContainers: [{ name: 'fetch', image: 'busybox' }], containers: [{ name: 'e', image: 'x' }] } } }] });
    const init = find(objs, 'StatefulSet', 'sample-0-serve-0').spec.template.spec.initContainers[0];
    expect(init.env.map((e: Obj) => e.name)).toEqual(expect.arrayContaining(['GROUP_SIZE', 'ENTRY_ADDRESS', 'WORKER_INDEX']));
  });

  test('topology spread constraints are applied to every pod', () => {
    const tsc: k8s.TopologySpreadConstraint = { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', matchLabelKeys: ['modelinfer.matrixinfer.ai/group-name'] };
    const objs = synth({ topologySpreadConstraints: [tsc], roles: [{ name: 'serve', workerReplicas: 1, entryTemplate: nginx('e'), workerTemplate: nginx('w') }] });
    for (const sts of objs.filter(o => o.kind === 'StatefulSet')) {
      expect(sts.spec.template.spec.topologySpreadConstraints).toEqual([tsc]);
    }
  });

  test('the resolved rollout strategy is recorded on each workload', () => {
    const objs = synth({ replicas: 4, rolloutStrategy: { maxUnavailable: '50%', maxSurge: 1, partition: 1 }, roles: [{ name: 'serve', entryTemplate: nginx('e') }] });
    expect(find(objs, 'StatefulSet', 'sample-3-serve-0').metadata.annotations).toEqual({
      'rollout.inferkit.dev/replicas': '4',
      'rollout.inferkit.dev/max-unavailable': '2',
      'rollout.inferkit.dev/max-surge': '1',
      'rollout.inferkit.dev/partition': '1',
      'rollout.inferkit.dev/unit-kind': 'group',
    });
  });

  test('the revision changes with a pod template but not with replica counts', () => {
    const rev = (props: Partial<ModelInferProps>, image = 'nginx:1') => {
      const chart = new Chart(Testing.app(), 't');
      return new ModelInfer(chart, 'sample', { roles: [{ name: 'serve', entryTemplate: { spec: { containers: [{ name: 'e', image }] } } }], ...props }).revision;
    };
    expect(rev({ replicas: 3 })).toBe(rev({ replicas: 1 }));
    expect(rev({}, 'nginx:2')).not.toBe(rev({}));
  });

  test('accelerator sets the GPU limit and the product node selector on every pod of the role', () => {
    const objs = synth({ roles: [{ name: 'serve', workerReplicas: 1, accelerator: Accelerator.nvidia(8, 'NVIDIA-H100-80GB-HBM3'), entryTemplate: nginx('e'), workerTemplate: nginx('w') }] });
    for (const sts of objs.filter(o => o.kind === 'StatefulSet')) {
      expect(sts.spec.template.spec.containers[0].resources).toEqual({ limits: { 'nvidia.com/gpu': 8 } });
      expect(sts.spec.template.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H100-80GB-HBM3' });
    }
  });

  describe('the LeaderWorkerSet backend', () => {
    const objs = synth({
      backend: WorkloadBackend.LEADER_WORKER_SET,
      roles: [{ name: 'serve', replicas: 2, workerReplicas: 1, entryTemplate: nginx('leader'), workerTemplate: nginx('worker') }],
    });
    const lws = find(objs, 'LeaderWorkerSet', 'sample-0-serve');

    test('emits one LWS per (group, role) with size 1 + workers and RecreateGroupOnPodRestart', () => {
      expect(lws.apiVersion).toBe('leaderworkerset.x-k8s.io/v1');
      expect(lws.spec.replicas).toBe(2);
      expect(lws.spec.leaderWorkerTemplate.size).toBe(2);
      expect(lws.spec.leaderWorkerTemplate.restartPolicy).toBe('RecreateGroupOnPodRestart');
      expect(objs.some(o => o.kind === 'StatefulSet' || o.kind === 'Service')).toBe(false);
    });

    test('aliases the LWS variables into the Kthena environment', () => {
      const leader = lws.spec.leaderWorkerTemplate.leaderTemplate;
      const worker = lws.spec.leaderWorkerTemplate.workerTemplate;
      expect(envOf(leader)).toMatchObject({
        INFERKIT_GROUP_INDEX: { fieldRef: { fieldPath: "metadata.labels['leaderworkerset.sigs.k8s.io/group-index']" } },
        GROUP_SIZE: '2',
        ENTRY_ADDRESS: 'sample-0-serve-$(INFERKIT_GROUP_INDEX).sample-0-serve.default',
        WORKER_INDEX: '0',
      });
      expect(envOf(worker)).toMatchObject({ WORKER_INDEX: { fieldRef: { fieldPath: "metadata.labels['leaderworkerset.sigs.k8s.io/worker-index']" } } });
    });

    test('the PodGroup gangs LWS groups as Volcano sub-groups', () => {
      const pg = find(objs, 'PodGroup', 'sample-0');
      expect(pg.spec.minMember).toBe(4);
      expect(pg.spec.minTaskMember).toBeUndefined();
      expect(pg.spec.subGroupPolicy[0]).toMatchObject({ matchLabelKeys: ['leaderworkerset.sigs.k8s.io/group-index'], subGroupSize: 2, minSubGroups: 2 });
    });

    test('a single-pod role has no leader template: LWS builds the leader from the worker template', () => {
      const single = find(synth({ backend: WorkloadBackend.LEADER_WORKER_SET, roles: [{ name: 'serve', entryTemplate: nginx('only') }] }), 'LeaderWorkerSet', 'sample-0-serve');
      expect(single.spec.leaderWorkerTemplate.leaderTemplate).toBeUndefined();
      expect(single.spec.leaderWorkerTemplate.workerTemplate.spec.containers[0].name).toBe('only');
    });
  });

  describe('GPU-first pod defaults', () => {
    const pod = (props: Partial<ModelInferProps> = {}, template: k8s.PodTemplateSpec = {
      spec: { containers: [{ name: 'vllm', image: 'vllm', readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(8000) } } }] },
    }) => find(synth({ roles: [{ name: 'serve', entryTemplate: template }], ...props }), 'StatefulSet', 'sample-0-serve-0').spec.template.spec;

    test('every documented default is what is synthesized', () => {
      const p = pod();
      const c = p.containers[0];
      expect(p.volumes).toEqual([{ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16Gi' } }, { name: 'cache', emptyDir: {} }]);
      expect(c.volumeMounts).toEqual([{ name: 'dshm', mountPath: '/dev/shm' }, { name: 'cache', mountPath: '/cache' }]);
      expect(p.automountServiceAccountToken).toBe(false);
      expect(c.env).toEqual(expect.arrayContaining([{ name: 'HF_HOME', value: '/cache/huggingface' }, { name: 'XDG_CACHE_HOME', value: '/cache' }]));
      expect(c.startupProbe).toEqual({ httpGet: { path: '/health', port: 8000 }, periodSeconds: 10, failureThreshold: 180 });
      expect(c.imagePullPolicy).toBe('IfNotPresent');
      expect(c.resources).toBeUndefined();
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(p.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    });

    test('each default can be turned back off', () => {
      const p = pod({
        podDefaults: {
          sharedMemory: false, cacheVolume: false, startupProbe: false, restricted: false, pullIfNotPresent: false, serviceAccountToken: true,
        },
      });
      const c = p.containers[0];
      expect(p.automountServiceAccountToken).toBeUndefined();
      expect(p.volumes).toBeUndefined();
      expect(c.volumeMounts).toBeUndefined();
      expect(c.startupProbe).toBeUndefined();
      expect(c.imagePullPolicy).toBeUndefined();
      expect(c.securityContext).toBeUndefined();
      expect(p.securityContext).toBeUndefined();
      expect(c.env.map((e: Obj) => e.name)).toEqual(['GROUP_SIZE', 'ENTRY_ADDRESS', 'WORKER_INDEX']);
    });

    test('defaults can be sized, and what the template says wins', () => {
      const p = pod({ podDefaults: { sharedMemory: Size.gibibytes(16), startupProbe: Duration.minutes(60) } }, {
        spec: {
          securityContext: { runAsUser: 2000 },
          containers: [{ name: 'vllm', image: 'vllm', imagePullPolicy: 'Always', ports: [{ containerPort: 8000 }], env: [{ name: 'HF_HOME', value: '/models' }] }],
        },
      });
      const c = p.containers[0];
      expect(p.volumes[0]).toEqual({ name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '16384Mi' } });
      expect(c.startupProbe).toEqual({ tcpSocket: { port: 8000 }, periodSeconds: 10, failureThreshold: 360 });
      expect(c.imagePullPolicy).toBe('Always');
      expect(c.env.filter((e: Obj) => e.name === 'HF_HOME')).toEqual([{ name: 'HF_HOME', value: '/models' }]);
      expect(p.securityContext.runAsUser).toBe(2000);
    });

    test('/dev/shm is sized by the memory of the containers that mount it: the largest limit, else the largest request', () => {
      const container = (name: string, resources: k8s.ResourceRequirements) => ({ name, image: 'vllm', resources });
      const template = (...containers: k8s.Container[]) => ({ spec: { containers } });
      const shm = (t: k8s.PodTemplateSpec) => pod({}, t).volumes.find((v: Obj) => v.name === 'dshm').emptyDir;
      expect(shm(template(container('a', { limits: { memory: k8s.Quantity.fromString('64Gi') }, requests: { memory: k8s.Quantity.fromString('32Gi') } }),
        container('b', { limits: { memory: k8s.Quantity.fromString('70000Mi') } })))).toEqual({ medium: 'Memory', sizeLimit: '70000Mi' });
      expect(shm(template(container('a', { requests: { memory: k8s.Quantity.fromString('24Gi') } })))).toEqual({ medium: 'Memory', sizeLimit: '24Gi' });
      expect(shm(template(container('a', { requests: { cpu: k8s.Quantity.fromNumber(4) } })))).toEqual({ medium: 'Memory', sizeLimit: '16Gi' });
    });

    test('a template that asks for the ServiceAccount token keeps it', () => {
      const p = pod({}, { spec: { automountServiceAccountToken: true, containers: [{ name: 'vllm', image: 'vllm' }] } });
      expect(p.automountServiceAccountToken).toBe(true);
    });

    test('an image that must run as root keeps uid 0 without runAsNonRoot', () => {
      const p = pod({}, { spec: { securityContext: { runAsUser: 0 }, containers: [{ name: 'c', image: 'x' }] } });
      expect(p.securityContext).toEqual({ seccompProfile: { type: 'RuntimeDefault' }, runAsUser: 0 });
    });
  });

  describe('conflicts with the template are errors, never silently resolved', () => {
    test.each<[string, k8s.PodTemplateSpec, string]>([
      ['an env var inferkit owns', { spec: { containers: [{ name: 'c', image: 'x', env: [{ name: 'WORKER_INDEX', value: '3' }] }] } },
        'Unable to synthesize test/sample: roles[0].entryTemplate.spec.containers[0].env \'WORKER_INDEX\' sets WORKER_INDEX, which inferkit sets for the role instance. Remove WORKER_INDEX from the template.'],
      ['a label inferkit owns', { metadata: { labels: { 'modelinfer.matrixinfer.ai/role': 'other' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
        'roles[0].entryTemplate.metadata.labels \'modelinfer.matrixinfer.ai/role\' sets modelinfer.matrixinfer.ai/role=other, which inferkit sets to serve. Remove modelinfer.matrixinfer.ai/role from the template.'],
      ['another scheduler', { spec: { schedulerName: 'other', containers: [{ name: 'c', image: 'x' }] } },
        "roles[0].entryTemplate.spec.schedulerName 'other' differs from the ModelInfer's schedulerName 'volcano'. Set schedulerName on the ModelInfer, not in the template."],
    ])('%s', (_, template, message) => {
      expect(() => synth({ roles: [{ name: 'serve', entryTemplate: template }] })).toThrow(message);
    });

    test('a GPU limit that disagrees with the accelerator', () => {
      expect(() => synth({
        roles: [{ name: 'serve', accelerator: Accelerator.nvidia(8), entryTemplate: { spec: { containers: [{ name: 'c', image: 'x', resources: { limits: { 'nvidia.com/gpu': k8s.Quantity.fromNumber(4) } } }] } } }],
      })).toThrow('roles[0].entryTemplate.spec.containers[0].resources.limits {"nvidia.com/gpu":4} asks for 4 nvidia.com/gpu while the role\'s accelerator asks for 8. Remove the limit from the template or make them agree.');
    });
  });

  test('the construct path and the field name the problem', () => {
    expect(() => synth({ roles: [{ name: 'decode-worker', entryTemplate: nginx('e') }] }))
      .toThrow("Unable to synthesize test/sample: roles[0].name 'decode-worker' is 13 characters long, more than 12.");
  });
});
