import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import { parseAllDocuments, parseDocument, stringify } from 'yaml';
import { main } from '../../cli/inferkit';
import { InferenceService, Model, ModelInfer, ModelSource, Warnings } from '../../index';

const manifests = path.join(__dirname, '..', '..', 'examples', 'manifests');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'inferkit-pod-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** `inferkit synth` of the ModelServing sample with `edit` applied to it: the exit code and stderr, minus the file name. */
function synth(edit: (doc: any) => void): { code: number; err: string } {
  const doc = parseDocument(fs.readFileSync(path.join(manifests, 'modelserving-sample.yaml'), 'utf8')).toJS();
  edit(doc);
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  let err = '';
  const code = main(['synth', '-f', file], () => undefined, s => { err += s; });
  return { code, err: err.split(`${file}: `).join('') };
}

const ENTRY = 'spec.template.roles[0].entryTemplate.spec';
const entry = (d: any) => d.spec.template.roles[0].entryTemplate.spec;
const container = (d: any) => entry(d).containers[0];
const error = (text: string) => `Unable to synthesize ModelServing/sample: ${text}\n`;

describe('pod templates are checked by type and value, as the API server would', () => {
  test.each<[string, (d: any) => void, string]>([
    ["image: ''", d => { container(d).image = ''; }, `${ENTRY}.containers[0].image '' is empty. Give the image, such as vllm/vllm-openai:v0.11.0.`],
    ['containerPort: 70000', d => { container(d).ports[0].containerPort = 70000; },
      `${ENTRY}.containers[0].ports[0].containerPort 70000 is not a port number from 1 to 65535. Give a port number from 1 to 65535.`],
    ['containerPort: 2.5', d => { container(d).ports[0].containerPort = 2.5; },
      `${ENTRY}.containers[0].ports[0].containerPort 2.5 is not a whole number. Write it as an integer.`],
    ["containerPort: 'http'", d => { container(d).ports[0].containerPort = 'http'; },
      `${ENTRY}.containers[0].ports[0].containerPort 'http' is not a whole number. Write it as an integer.`],
    ['two containers of one name', d => { entry(d).containers.push({ ...container(d) }); },
      `${ENTRY}.containers[1].name 'leader' is the name of another container of the pod. Give every container of the pod its own name.`],
    ['containers: []', d => { entry(d).containers = []; }, `${ENTRY}.containers [] is empty. Give at least one container.`],
    ['imagePullPolicy: Sometimes', d => { container(d).imagePullPolicy = 'Sometimes'; },
      `${ENTRY}.containers[0].imagePullPolicy 'Sometimes' is not one of Always, IfNotPresent, Never. Use one of Always, IfNotPresent, Never.`],
    ['requests above limits', d => { container(d).resources = { requests: { cpu: '2' }, limits: { cpu: '1500m' } }; },
      `${ENTRY}.containers[0].resources.requests['cpu'] '2' is more than its limit 1500m. Request at most the limit of cpu, or raise the limit.`],
    ['a quantity such as lots', d => { container(d).resources = { limits: { memory: 'lots' } }; },
      `${ENTRY}.containers[0].resources.limits['memory'] 'lots' is not a Kubernetes quantity. Write a quantity such as 500m, 2, 16Gi or 1.5.`],
    ['a container name that is not a DNS label', d => { container(d).name = 'Leader_1'; },
      `${ENTRY}.containers[0].name 'Leader_1' is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending alphanumeric). Use a name such as 'llama-70b'.`],
    ['a container without a name', d => { delete container(d).name; },
      `${ENTRY}.containers[0].name is missing. Give name, which Kubernetes requires.`],
    ['a string where a number belongs', d => { entry(d).terminationGracePeriodSeconds = '30'; },
      `${ENTRY}.terminationGracePeriodSeconds '30' is not a whole number. Write it as an integer.`],
    ['a number where a string belongs', d => { container(d).image = 5; }, `${ENTRY}.containers[0].image 5 is not a string. Quote the value.`],
    ['an int32 field beyond int32', d => { container(d).ports[0].hostPort = 2 ** 31; },
      `${ENTRY}.containers[0].ports[0].hostPort 2147483648 is beyond ±2147483647, the int32 range of the field. Give a smaller number.`],
    ['a probe port beyond 65535', d => { container(d).readinessProbe = { httpGet: { port: 65536 } }; },
      `${ENTRY}.containers[0].readinessProbe.httpGet.port 65536 is not a port number from 1 to 65535. Give a port number from 1 to 65535.`],
    ['a probe port name that is no port name', d => { container(d).readinessProbe = { tcpSocket: { port: 'HTTP port' } }; },
      `${ENTRY}.containers[0].readinessProbe.tcpSocket.port 'HTTP port' is not a port number or a port name (up to 15 of a-z, 0-9 and '-', with a letter). `
      + 'Give a port number from 1 to 65535 or the name of a container port.'],
    ['a port name too long', d => { container(d).ports[0].name = 'inference-server-http'; },
      `${ENTRY}.containers[0].ports[0].name 'inference-server-http' is not a port name (up to 15 of a-z, 0-9 and '-', with a letter, no '--'). Name the port such as 'http'.`],
    ['two volumes of one name', d => { entry(d).volumes = [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }]; },
      `${ENTRY}.volumes[1].name 'v' is the name of another volume of the pod. Give every volume of the pod its own name.`],
    ['an environment variable name with =', d => { container(d).env = [{ name: 'A=B', value: '1' }]; },
      `${ENTRY}.containers[0].env[0].name 'A=B' is not an environment variable name (printable ASCII characters other than '='). Name the variable such as HF_HOME.`],
    ['a template label value over 63 characters', d => { d.spec.template.roles[0].entryTemplate.metadata = { labels: { team: 'x'.repeat(64) } }; },
      `spec.template.roles[0].entryTemplate.metadata.labels['team'] '${'x'.repeat(64)}' is 64 characters long, so it is not a label value `
      + "(up to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric). Use a value such as 'decode'."],
    ['an annotation that is not a string', d => { d.spec.template.roles[0].entryTemplate.metadata = { annotations: { note: { a: 1 } } }; },
      'spec.template.roles[0].entryTemplate.metadata.annotations[\'note\'] {"a":1} is not a string. Quote the value.'],
    ['a toleration effect Kubernetes does not know', d => { entry(d).tolerations = [{ key: 'gpu', operator: 'Exists', effect: 'NoRun' }]; },
      `${ENTRY}.tolerations[0].effect 'NoRun' is not one of NoSchedule, PreferNoSchedule, NoExecute. Use one of NoSchedule, PreferNoSchedule, NoExecute.`],
  ])('%s is an error naming the field, the value and the fix', (_, edit, message) => {
    const { code, err } = synth(edit);
    expect(code).toBe(1);
    expect(err).toBe(error(message));
  });

  test('every problem of a template is reported at once', () => {
    const { err } = synth(d => { container(d).image = ''; container(d).imagePullPolicy = 'Sometimes'; entry(d).containers[1] = { name: 'leader', image: 'x' }; });
    expect(err.trim().split('\n')).toHaveLength(3);
  });
});

describe('the namespace and the labels of a manifest follow Kubernetes\' rules', () => {
  test.each<[string, (d: any) => void, string]>([
    ['namespace ../x', d => { d.metadata.namespace = '../x'; },
      "metadata.namespace '../x' is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending alphanumeric). Use a namespace such as 'ml-team'."],
    ['namespace ML', d => { d.metadata.namespace = 'ML'; },
      "metadata.namespace 'ML' is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending alphanumeric). Use a namespace such as 'ml-team'."],
    ['a label value over 63 characters', d => { d.metadata.labels = { team: 'a'.repeat(64) }; },
      `metadata.labels['team'] '${'a'.repeat(64)}' is 64 characters long, so it is not a label value (up to 63 letters, digits, '-', '_' or '.', `
      + "starting and ending alphanumeric). Use a value such as 'decode'."],
    ['a label key with a space', d => { d.metadata.labels = { 'my team': 'a' }; },
      "metadata.labels['my team'] 'my team' is not a label key (an optional DNS subdomain and '/', then up to 63 letters, digits, '-', '_' or '.', starting "
      + "and ending alphanumeric). Use a key such as 'app' or 'llm-d.ai/role'."],
    ['annotations over 256 KiB', d => { d.metadata.annotations = { big: 'x'.repeat(256 * 1024) }; },
      'metadata.annotations hold 262147 bytes, more than the 262144 Kubernetes accepts on one object. Move large values into a ConfigMap.'],
  ])('%s is an error', (_, edit, message) => {
    expect(synth(edit)).toEqual({ code: 1, err: error(message) });
  });
});

describe('merged defaults that would make the pod unrunnable are errors that name the default', () => {
  test('privileged: true beside the restricted default\'s allowPrivilegeEscalation: false', () => {
    expect(synth(d => { container(d).securityContext = { privileged: true }; }).err).toBe(error(`${ENTRY}.containers[0].securityContext.privileged true conflicts with `
      + 'the allowPrivilegeEscalation: false of the restricted pod default, and the API server refuses both together. '
      + 'Set allowPrivilegeEscalation: true beside it, or turn the restricted default off (podDefaults.restricted: false).'));
  });

  test('CAP_SYS_ADMIN beside the same default', () => {
    expect(synth(d => { container(d).securityContext = { capabilities: { add: ['SYS_ADMIN'] } }; }).err).toContain(
      `${ENTRY}.containers[0].securityContext.capabilities.add 'SYS_ADMIN' conflicts with the allowPrivilegeEscalation: false of the restricted pod default`);
  });

  test('runAsUser: 0 beside the restricted default\'s runAsNonRoot: true', () => {
    expect(synth(d => { container(d).securityContext = { runAsUser: 0 }; }).err).toBe(error(`${ENTRY}.containers[0].securityContext.runAsUser 0 runs as root while `
      + 'the runAsNonRoot: true of the restricted pod default forbids it, so the kubelet never starts the container. '
      + 'Run as a non-zero uid, set runAsNonRoot: false beside runAsUser: 0, or turn the restricted default off (podDefaults.restricted: false).'));
  });

  test('runAsUser: 0 beside a runAsNonRoot: true written in the template', () => {
    expect(synth(d => { container(d).securityContext = { runAsUser: 0, runAsNonRoot: true }; }).err).toBe(error(`${ENTRY}.containers[0].securityContext.runAsUser 0 `
      + 'runs as root while the runAsNonRoot: true written beside it forbids it, so the kubelet never starts the container. Run as a non-zero uid, or remove runAsNonRoot.'));
  });

  test('each is fine once the template says what it means', () => {
    const explicit = synth(d => {
      container(d).securityContext = { privileged: true, allowPrivilegeEscalation: true, runAsUser: 0, runAsNonRoot: false };
    });
    expect(explicit.code).toBe(0);
    const rootPod = synth(d => { entry(d).securityContext = { runAsUser: 0 }; container(d).securityContext = { runAsUser: 0 }; });
    expect(rootPod.code).toBe(0);
  });
});

describe('what weakens isolation is a warning', () => {
  test('hostNetwork, a hostPath volume, a privileged container and a literal HF_TOKEN each warn, and synthesis goes on', () => {
    const { code, err } = synth(d => {
      entry(d).hostNetwork = true;
      entry(d).volumes = [{ name: 'models', hostPath: { path: '/models' } }];
      container(d).securityContext = { privileged: true, allowPrivilegeEscalation: true };
      container(d).env = [{ name: 'HF_TOKEN', value: 'hf_secret' }, { name: 'HF_HOME_DIR', value: '/x' }, { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
    });
    expect(code).toBe(0);
    expect(err).not.toContain('hf_secret');
    expect(err.trim().split('\n')).toEqual([
      `Warning: ModelServing/sample ${ENTRY}.containers[0].securityContext.privileged true: runs the container with every privilege of the node, `
      + 'which PodSecurity baseline and restricted refuse. Grant only the capabilities it needs instead.',
      `Warning: ModelServing/sample ${ENTRY}.containers[0].env[0] 'HF_TOKEN': holds a literal secret, written in clear into every manifest and into the objects `
      + 'anyone who can read pods sees. Put it in a Secret and refer to it with valueFrom.secretKeyRef.',
      `Warning: ModelServing/sample ${ENTRY}.hostNetwork true: shares the node's network namespace with the pod, which PodSecurity baseline and restricted refuse. `
      + 'Remove hostNetwork.',
      `Warning: ModelServing/sample ${ENTRY}.volumes[0].hostPath '/models': mounts a directory of the node, which PodSecurity baseline and restricted refuse. `
      + 'Use a PersistentVolumeClaim or an emptyDir instead.',
    ]);
  });
});

describe('constructs: templates given as props are checked the same way, once however many groups render them', () => {
  test('a ModelInfer of three groups reports a bad template once', () => {
    const chart = new Chart(Testing.app(), 'c');
    expect(() => new ModelInfer(chart, 'mi', {
      replicas: 3,
      roles: [{ name: 'serve', entryTemplate: { spec: { containers: [{ name: 'vllm', image: 'vllm/vllm-openai:v0.11.0', imagePullPolicy: 'Sometimes' }] } } }],
    })).toThrow(/^Unable to synthesize c\/mi: roles\[0\]\.entryTemplate\.spec\.containers\[0\]\.imagePullPolicy 'Sometimes' is not one of Always, IfNotPresent, Never\. [^\n]*$/);
  });

  test('a privileged container with podDefaults.restricted off is a warning, not an error', () => {
    const app = Testing.app();
    new ModelInfer(new Chart(app, 'c'), 'mi', {
      podDefaults: { restricted: false },
      roles: [{ name: 'serve', entryTemplate: { spec: { containers: [{ name: 'vllm', image: 'vllm/vllm-openai:v0.11.0', securityContext: { privileged: true } }] } } }],
    });
    expect(Warnings.of(app).all).toEqual([expect.stringContaining('Warning: c/mi roles[0].entryTemplate.spec.containers[0].securityContext.privileged true: runs the container')]);
  });

  test('a serverless idle timeout beyond int32 seconds is refused, not written as a 15-digit cooldown', () => {
    const chart = new Chart(Testing.app(), 'c');
    expect(() => new Model(chart, 'm', { backend: 'vllm', source: ModelSource.huggingFace('Qwen/Qwen2.5-7B'), gpu: {}, serverless: { idleTimeout: Duration.hours(99_999_999_999) } }))
      .toThrow("Unable to synthesize c/m: serverless.idleTimeout '359999999996400s' is more than 2147483647 seconds, the int32 of KEDA's cooldownPeriod. "
        + 'Give a shorter idle timeout.');
  });

  test('replica counts given as props are whole numbers within int32', () => {
    const template = { spec: { containers: [{ name: 'tf', image: 'tensorflow/serving:2.14.0' }] } };
    expect(() => new InferenceService(new Chart(Testing.app(), 'c'), 'svc', { framework: 'TFServing', predictors: [{ name: 'p', template, replicas: 2.5 }] }))
      .toThrow('Unable to synthesize c/svc: predictors[0].replicas 2.5 is not a whole number of replicas. Use 0 to 2147483647 replicas.');
    const chart = new Chart(Testing.app(), 'c');
    const model = new Model(chart, 'llama', { backend: 'ollama', source: 'ollama://llama2:7b', serverless: { enabled: false } });
    expect(() => new ModelInfer(chart, 'infer', { modelRef: model, replicas: 2 ** 31 }))
      .toThrow('Unable to synthesize c/infer: replicas 2147483648 is more than 2147483647, the largest int32 Kubernetes accepts. Use 0 to 2147483647 replicas.');
    const other = new Chart(Testing.app(), 'c');
    const scaled = new Model(other, 'llama', { backend: 'ollama', source: 'ollama://llama2:7b', serverless: { enabled: false } });
    expect(() => new ModelInfer(other, 'infer', { modelRef: scaled, autoscaling: { maxReplicas: 2 ** 31 } }))
      .toThrow('Unable to synthesize c/infer: autoscaling.maxReplicas 2147483648 is more than 2147483647, the largest int32 Kubernetes accepts. Use 1 to 2147483647.');
  });

  test('a FlexInfer shared group whose name is free text is refused before it names a PriorityClass', () => {
    const chart = new Chart(Testing.app(), 'c');
    expect(() => new Model(chart, 'm', { backend: 'vllm', source: ModelSource.huggingFace('Qwen/Qwen2.5-7B'), gpu: { product: 'L4', shared: 'Group One!', priority: 5 } }))
      .toThrow("Unable to synthesize c/m: gpu.shared 'Group One!' gives the PriorityClass name 'inferkit-Group One!-p5', which is not a DNS-1123 subdomain");
  });
});

describe('free text that would reach names, labels and selectors of the output', () => {
  /** `inferkit synth -o` of an example with `edit` applied to its `index`-th document: the exit code and the errors, minus the file name. */
  function synthExample(example: string, index: number, edit: (doc: any) => void): { code: number; errors: string[] } {
    const docs = parseAllDocuments(fs.readFileSync(path.join(manifests, example), 'utf8')).map(d => d.toJS()).filter(d => d);
    edit(docs[index]);
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(file, docs.map(d => stringify(d)).join('---\n'));
    let err = '';
    const code = main(['synth', '-f', file, '-o', path.join(dir, 'out')], () => undefined, s => { err += s; });
    return { code, errors: err.split(`${file}: `).join('').split('\n').filter(l => l.startsWith('Unable to')) };
  }
  const simple = (d: any) => d.spec;

  test.each<[string, string, number, (d: any) => void, string]>([
    ['a simple ModelInfer named with free text', 'modelinfer-simple-advanced.yaml', 1, d => { d.metadata.name = 'Bad Value!'; },
      "Unable to synthesize ModelInfer/Bad Value!: metadata.name 'Bad Value!' is not a DNS-1123 label (lower-case letters, digits and '-', starting and ending "
      + "alphanumeric). Use a name such as 'llama-70b'."],
    ['a label selector operator Kubernetes does not know', 'modelinfer-simple-advanced.yaml', 1,
      d => { simple(d).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchExpressions[0].operator = 'Maybe'; },
      'Unable to synthesize ModelInfer/production-infer: spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector'
      + ".matchExpressions[0].operator 'Maybe' is not one of In, NotIn, Exists, DoesNotExist. Use one of In, NotIn, Exists, DoesNotExist."],
    ['a topology key with a space', 'modelinfer-simple-advanced.yaml', 1,
      d => { simple(d).affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey = 'a zone'; },
      'Unable to synthesize ModelInfer/production-infer: spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey '
      + "'a zone' is not a label key (an optional DNS subdomain and '/', then up to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric). "
      + "Use a key such as 'app' or 'llm-d.ai/role'."],
    ['a toleration key with a space', 'modelinfer-simple-advanced.yaml', 1, d => { simple(d).tolerations[0].key = 'gpu type'; },
      "Unable to synthesize ModelInfer/production-infer: spec.tolerations[0].key 'gpu type' is not a label key (an optional DNS subdomain and '/', then up to 63 "
      + "letters, digits, '-', '_' or '.', starting and ending alphanumeric). Use a key such as 'app' or 'llm-d.ai/role'."],
    ['a resource quantity of the simple form', 'modelinfer-simple-advanced.yaml', 1, d => { simple(d).resources.limits.memory = 'lots'; },
      "Unable to synthesize ModelInfer/production-infer: spec.resources.limits['memory'] 'lots' is not a Kubernetes quantity. Write a quantity such as 500m, 2, 16Gi or 1.5."],
    ['a DeviceClass named with free text', 'modelreplica-seed.yaml', 0, d => { d.spec.engines[0].members[0].deviceRequests[0].deviceClassName = 'NVIDIA GPU'; },
      "Unable to synthesize ModelReplica/qwen3-8b-eks-l4-0: spec.engines[0].members[0].deviceRequests[0].deviceClassName 'NVIDIA GPU' is not a DNS-1123 subdomain "
      + "(lower-case letters, digits, '-' and '.', each part starting and ending alphanumeric). Use a name such as 'llama-70b'."],
    ['a node pool named with free text (it labels the nodes pods are pinned to)', 'modelplane-fleet.yaml', 4, d => { d.spec.nodePools[0].name = 'H100 pool'; },
      "Unable to synthesize InferenceCluster/eu-west-h100: spec.nodePools[0].name 'H100 pool' is not a label value (up to 63 letters, digits, '-', '_' or '.', "
      + "starting and ending alphanumeric). Use a value such as 'decode'."],
  ])('%s is an error', (_, example, index, edit, message) => {
    const { code, errors } = synthExample(example, index, edit);
    expect(code).toBe(1);
    expect(errors).toContain(message);
  });
});
