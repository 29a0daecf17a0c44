import { App, Chart, Testing } from 'cdk8s';
import { parse } from 'yaml';
import {
  EPP_CONFIG_FILE, EppPorts, GIE_EPP_IMAGE, InferencePool, InferencePoolLabels, InferencePoolProps, LLMD_EPP_IMAGE, SchedulingMode,
} from '../../constructs/inference-pool';
import { messageOf } from '../_helpers';

type Obj = Record<string, any>;

const SELECTOR = { 'app': 'llama-70b', 'modelplane.ai/replica': 'llama-70b-0' };
const PD = SchedulingMode.prefillDecode({ key: 'modelplane.ai/phase', prefillValue: 'Prefill', decodeValue: 'Decode' });

function synth(props: Partial<InferencePoolProps> = {}, id = 'llama-70b', namespace: string | undefined = 'serving'): Obj[] {
  const chart = new Chart(Testing.app(), 'test', { namespace });
  new InferencePool(chart, id, { selector: SELECTOR, ...props });
  return Testing.synth(chart);
}

const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find(x => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${objs.map(x => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
};

/** The `--flag value` pairs of the EPP's args as a map (`--flag=value` too). */
function flags(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split('=', 2);
    if (inline !== undefined) out[flag] = inline;
    else out[flag] = args[++i];
  }
  return out;
}

const eppContainer = (objs: Obj[], name = 'llama-70b-epp'): Obj => find(objs, 'Deployment', name).spec.template.spec.containers[0];
const eppConfig = (objs: Obj[], name = 'llama-70b-epp'): Obj => parse(find(objs, 'ConfigMap', name).data[EPP_CONFIG_FILE]);

describe('InferencePool', () => {
  test('renders the pool, its endpoint picker objects, and no route without a gateway', () => {
    const objs = synth();
    expect(objs.map(o => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'ClusterRole/inferkit-epp-auth:serving:llama-70b-epp', 'ClusterRoleBinding/inferkit-epp-auth:serving:llama-70b-epp',
      'ConfigMap/llama-70b-epp', 'Deployment/llama-70b-epp', 'InferencePool/llama-70b', 'Role/llama-70b-epp',
      'RoleBinding/llama-70b-epp', 'Service/llama-70b-epp', 'ServiceAccount/llama-70b-epp',
    ]);
    expect(objs.every(o => o.metadata.namespace === 'serving')).toBe(true);
  });

  test('the InferencePool selects the engine pods on their port and points at the EPP Service\'s gRPC port', () => {
    const objs = synth({ targetPort: 8080 });
    const pool = find(objs, 'InferencePool', 'llama-70b');
    expect(pool.apiVersion).toBe('inference.networking.k8s.io/v1');
    expect(pool.spec).toEqual({
      selector: { matchLabels: SELECTOR },
      targetPorts: [{ number: 8080 }],
      endpointPickerRef: { name: 'llama-70b-epp', port: { number: 9002 } },
    });
    const service = find(objs, 'Service', pool.spec.endpointPickerRef.name);
    expect(service.spec.ports.find((p: Obj) => p.port === pool.spec.endpointPickerRef.port.number)).toMatchObject({ name: 'grpc-ext-proc', targetPort: 9002 });
    const deployment = find(objs, 'Deployment', 'llama-70b-epp');
    expect(service.spec.selector).toEqual({ [InferencePoolLabels.EPP]: 'llama-70b-epp' });
    expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
  });

  test('every documented default is what is synthesized', () => {
    const chart = new Chart(Testing.app(), 'test', { namespace: 'serving' });
    const pool = new InferencePool(chart, 'qwen', { selector: { app: 'qwen' }, gateway: { name: 'gw' } });
    expect(pool.name).toBe('qwen');
    expect(pool.namespace).toBe('serving');
    expect(pool.targetPort).toBe(8000);
    expect(pool.mode.kind).toBe('Unified');
    expect(pool.eppImage).toBe(GIE_EPP_IMAGE);
    const objs = Testing.synth(chart);
    expect(find(objs, 'InferencePool', 'qwen').spec.targetPorts).toEqual([{ number: 8000 }]);
    expect(eppContainer(objs, 'qwen-epp').image).toBe(GIE_EPP_IMAGE);
    expect(eppConfig(objs, 'qwen-epp').schedulingProfiles.map((p: Obj) => p.name)).toEqual(['default']);
    const route = find(objs, 'HTTPRoute', 'qwen');
    expect(route.metadata.namespace).toBe('serving');
    expect(route.spec.parentRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }]);
    expect(route.spec.rules[0].matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    // PrefillDecode: llm-d's image and threshold 0
    const pd = synth({ mode: PD });
    expect(eppContainer(pd).image).toBe(LLMD_EPP_IMAGE);
    expect(eppConfig(pd).plugins.find((p: Obj) => p.type === 'pd-profile-handler').parameters.threshold).toBe(0);
  });

  test('name and namespace props override the construct id and the chart namespace', () => {
    const objs = synth({ name: 'pool-a', namespace: 'other' });
    const pool = find(objs, 'InferencePool', 'pool-a');
    expect(pool.metadata.namespace).toBe('other');
    expect(flags(eppContainer(objs, 'pool-a-epp').args)).toMatchObject({ '--pool-name': 'pool-a', '--pool-namespace': 'other' });
    expect(find(objs, 'RoleBinding', 'pool-a-epp').subjects).toEqual([{ kind: 'ServiceAccount', name: 'pool-a-epp', namespace: 'other' }]);
  });

  describe('endpoint picker', () => {
    test('runs pinned, with upstream\'s args: the pool, the mounted config file, and its ports', () => {
      const objs = synth();
      const deployment = find(objs, 'Deployment', 'llama-70b-epp');
      const c = eppContainer(objs);
      expect(c.image).toBe('registry.k8s.io/gateway-api-inference-extension/epp:v1.1.0');
      expect(c.imagePullPolicy).toBe('IfNotPresent');
      const f = flags(c.args);
      expect(f).toEqual({
        '--pool-name': 'llama-70b',
        '--pool-namespace': 'serving',
        '--config-file': `/config/${EPP_CONFIG_FILE}`,
        '--grpc-port': '9002',
        '--grpc-health-port': '9003',
        '--metrics-port': '9090',
        '--zap-encoder': 'json',
        '--metrics-endpoint-auth': 'true',
        '--tracing': 'false',
      });
      // the config file is the ConfigMap's key, mounted where --config-file points
      const mount = c.volumeMounts.find((m: Obj) => f['--config-file'].startsWith(`${m.mountPath}/`));
      const volume = deployment.spec.template.spec.volumes.find((v: Obj) => v.name === mount.name);
      expect(find(objs, 'ConfigMap', volume.configMap.name).data).toHaveProperty([f['--config-file'].slice(mount.mountPath.length + 1)]);
      expect(c.ports).toEqual([
        { name: 'grpc', containerPort: EppPorts.GRPC },
        { name: 'grpc-health', containerPort: EppPorts.HEALTH },
        { name: 'metrics', containerPort: EppPorts.METRICS },
      ]);
      expect(c.env).toEqual([{ name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }]);
      expect(deployment.spec.replicas).toBe(1);
      expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
      expect(deployment.spec.template.spec.serviceAccountName).toBe('llama-70b-epp');
    });

    test('is probed through gRPC health on 9003, as upstream does', () => {
      const c = eppContainer(synth());
      expect(c.readinessProbe).toEqual({ grpc: { port: 9003, service: 'inference-extension' }, periodSeconds: 2 });
      expect(c.livenessProbe).toEqual({ grpc: { port: 9003, service: 'inference-extension' }, initialDelaySeconds: 5, periodSeconds: 10 });
    });

    test('passes PodSecurity restricted: non-root, RuntimeDefault seccomp, no escalation, no capabilities', () => {
      const objs = synth();
      const pod = find(objs, 'Deployment', 'llama-70b-epp').spec.template.spec;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
      expect(pod.containers[0].securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });
      expect(pod.hostNetwork).toBeUndefined();
      expect(pod.volumes.every((v: Obj) => v.hostPath === undefined)).toBe(true);
    });

    test('may read exactly what it watches: InferenceObjectives, InferencePools and Pods of its namespace', () => {
      const objs = synth();
      expect(find(objs, 'Role', 'llama-70b-epp').rules).toEqual([
        { apiGroups: ['inference.networking.x-k8s.io'], resources: ['inferenceobjectives'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: ['inference.networking.k8s.io'], resources: ['inferencepools'], verbs: ['get', 'watch', 'list'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'watch', 'list'] },
      ]);
      const binding = find(objs, 'RoleBinding', 'llama-70b-epp');
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'llama-70b-epp', namespace: 'serving' }]);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'llama-70b-epp' });
      expect(objs.filter(o => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toHaveLength(2);
    });

    test('serves /metrics only to authenticated and authorized callers: it may review tokens and access, nothing else cluster-wide', () => {
      const objs = synth();
      expect(flags(eppContainer(objs).args)['--metrics-endpoint-auth']).toBe('true');
      expect(find(objs, 'ClusterRole', 'inferkit-epp-auth:serving:llama-70b-epp').rules).toEqual([
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
      ]);
      const binding = find(objs, 'ClusterRoleBinding', 'inferkit-epp-auth:serving:llama-70b-epp');
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'llama-70b-epp', namespace: 'serving' }]);
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'inferkit-epp-auth:serving:llama-70b-epp' });
    });

    test('metricsAuth: false serves metrics openly, with no cluster-wide role', () => {
      const objs = synth({ metricsAuth: false });
      expect(flags(eppContainer(objs).args)['--metrics-endpoint-auth']).toBe('false');
      expect(objs.some(o => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding')).toBe(false);
    });

    test('asks the scheduler for what it uses, so it is never BestEffort, and keeps its ServiceAccount token (it watches the API)', () => {
      const objs = synth();
      expect(eppContainer(objs).resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' } });
      expect(find(objs, 'Deployment', 'llama-70b-epp').spec.template.spec.automountServiceAccountToken).toBeUndefined();
    });

    test('an image override is used as given', () => {
      expect(eppContainer(synth({ eppImage: 'registry.example/epp:v1.1.0-fix' })).image).toBe('registry.example/epp:v1.1.0-fix');
    });
  });

  describe('Unified mode', () => {
    test('has upstream\'s default profile: queue, kv-cache-utilization and prefix-cache scorers, max-score picker', () => {
      expect(eppConfig(synth({ mode: SchedulingMode.unified() }))).toEqual({
        apiVersion: 'inference.networking.x-k8s.io/v1alpha1',
        kind: 'EndpointPickerConfig',
        plugins: [{ type: 'queue-scorer' }, { type: 'kv-cache-utilization-scorer' }, { type: 'prefix-cache-scorer' }, { type: 'max-score-picker' }],
        schedulingProfiles: [{
          name: 'default',
          plugins: [
            { pluginRef: 'queue-scorer' }, { pluginRef: 'kv-cache-utilization-scorer' }, { pluginRef: 'prefix-cache-scorer' },
            { pluginRef: 'max-score-picker' },
          ],
        }],
      });
    });
  });

  describe('PrefillDecode mode', () => {
    const objs = synth({ mode: SchedulingMode.prefillDecode({ key: 'modelplane.ai/phase', prefillValue: 'Prefill', decodeValue: 'Decode', threshold: 128 }) });
    const config = eppConfig(objs);
    const plugin = (name: string): Obj => {
      const p = config.plugins.find((x: Obj) => (x.name ?? x.type) === name);
      if (!p) throw new Error(`no plugin ${name}`);
      return p;
    };

    test('runs llm-d\'s endpoint picker, which has the P/D plugins, pinned', () => {
      expect(eppContainer(objs).image).toBe('ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0');
      expect(flags(eppContainer(objs).args)['--tracing']).toBe('false');
    });

    test('has a prefill and a decode profile, each filtered by the phase label', () => {
      expect(config.schedulingProfiles.map((p: Obj) => p.name)).toEqual(['prefill', 'decode']);
      const refs = (profile: string): string[] => config.schedulingProfiles.find((p: Obj) => p.name === profile).plugins.map((p: Obj) => p.pluginRef);
      expect(refs('prefill')).toEqual(['prefill-filter', 'queue-scorer', 'prefix-cache-scorer', 'max-score-picker']);
      expect(refs('decode')).toEqual(['decode-filter', 'queue-scorer', 'prefix-cache-scorer', 'max-score-picker']);
      expect(plugin('prefill-filter')).toEqual({ type: 'by-label', name: 'prefill-filter', parameters: { label: 'modelplane.ai/phase', validValues: ['Prefill'], allowsNoLabel: false } });
      expect(plugin('decode-filter')).toEqual({ type: 'by-label', name: 'decode-filter', parameters: { label: 'modelplane.ai/phase', validValues: ['Decode'], allowsNoLabel: false } });
      // every reference names a plugin
      const names = new Set(config.plugins.map((p: Obj) => p.name ?? p.type));
      for (const p of config.schedulingProfiles.flatMap((x: Obj) => x.plugins)) expect(names).toContain(p.pluginRef);
    });

    test('picks profiles with the pd-profile-handler and hands the prefill pod to the decode pod in a header', () => {
      expect(plugin('pd-profile-handler').parameters).toEqual({ threshold: 128, prefillProfile: 'prefill', decodeProfile: 'decode' });
      expect(plugin('prefill-header-handler')).toEqual({ type: 'prefill-header-handler' });
      // the handler reads the prefix scorer's state under its type name
      expect(plugin('prefix-cache-scorer').name).toBeUndefined();
    });

    test('the pool selects both phases: the phase label is not in its selector', () => {
      expect(find(objs, 'InferencePool', 'llama-70b').spec.selector.matchLabels).toEqual(SELECTOR);
    });
  });

  describe('HTTPRoute', () => {
    test('routes the path prefix from the Gateway\'s listener to the InferencePool', () => {
      const objs = synth({ gateway: { name: 'inference.gateway', namespace: 'gateways', sectionName: 'https' }, pathPrefix: '/v1' });
      const route = find(objs, 'HTTPRoute', 'llama-70b');
      expect(route.apiVersion).toBe('gateway.networking.k8s.io/v1');
      expect(route.spec).toEqual({
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'inference.gateway', namespace: 'gateways', sectionName: 'https' }],
        rules: [{
          matches: [{ path: { type: 'PathPrefix', value: '/v1' } }],
          backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'llama-70b' }],
        }],
      });
    });
  });

  test('the user\'s labels and annotations are on every object, with managed-by', () => {
    const objs = synth({ gateway: { name: 'gw' }, mode: PD, metadata: { labels: { team: 'ml' }, annotations: { owner: 'ml@example.com' } } });
    expect(objs).toHaveLength(10);
    for (const o of objs) {
      expect(o.metadata.labels).toMatchObject({ 'team': 'ml', 'app.kubernetes.io/managed-by': 'inferkit' });
      expect(o.metadata.annotations).toEqual({ owner: 'ml@example.com' });
    }
  });

  test('synthesis is deterministic', () => {
    expect(JSON.stringify(synth({ mode: PD, gateway: { name: 'gw' } }))).toEqual(JSON.stringify(synth({ mode: PD, gateway: { name: 'gw' } })));
  });
});

describe('InferencePool errors name the construct path, the field, the value and the fix', () => {
  const errorOf = (props: Partial<InferencePoolProps>, id = 'llama-70b', namespace: string | undefined = 'serving'): string =>
    messageOf(() => synth(props, id, namespace));
  const PATH = 'Unable to synthesize test/llama-70b:';

  test.each<[string, Partial<InferencePoolProps>, string[]]>([
    ['empty selector', { selector: {} }, ['selector {}', 'is empty', 'Give the labels of the engine pods']],
    ['bad selector key', { selector: { 'bad key': 'x' } }, ['selector[\'bad key\'] \'bad key\'', 'is not a label key', 'Use a key such as']],
    ['bad selector value', { selector: { app: 'no spaces' } }, ['selector[\'app\'] \'no spaces\'', 'is not a label value', 'Use a value such as']],
    ['port 0', { targetPort: 0 }, ['targetPort 0', 'is not a port number', 'such as 8000']],
    ['port too large', { targetPort: 70000 }, ['targetPort 70000', 'is not a port number']],
    ['fractional port', { targetPort: 80.5 }, ['targetPort 80.5', 'is not a port number']],
    ['PD values equal', { mode: SchedulingMode.prefillDecode({ key: 'role', prefillValue: 'x', decodeValue: 'x' }) },
      ['mode.decodeValue \'x\'', 'equals mode.prefillValue', 'cannot be told apart by \'role\'', 'Give prefill and decode pods different values']],
    ['PD bad key', { mode: SchedulingMode.prefillDecode({ key: '-role', prefillValue: 'p', decodeValue: 'd' }) }, ['mode.key \'-role\'', 'is not a label key']],
    ['PD bad value', { mode: SchedulingMode.prefillDecode({ key: 'role', prefillValue: 'pre fill', decodeValue: 'd' }) }, ['mode.prefillValue \'pre fill\'', 'is not a label value']],
    ['PD negative threshold', { mode: SchedulingMode.prefillDecode({ key: 'role', prefillValue: 'p', decodeValue: 'd', threshold: -1 }) },
      ['mode.threshold -1', 'is not a non-negative integer', 'Use 0 to send every request through a prefill pod']],
    ['PD key in selector', { selector: { app: 'x', role: 'decode' }, mode: SchedulingMode.prefillDecode({ key: 'role', prefillValue: 'prefill', decodeValue: 'decode' }) },
      ['mode.key \'role\'', 'is also in selector with value \'decode\'', 'keep the phase label out of selector']],
    ['upper-case name', { name: 'Llama' }, ['name \'Llama\'', 'is not a DNS-1035 label', 'Use a name such as']],
    ['name too long for <name>-epp', { name: 'a'.repeat(60) }, [`name '${'a'.repeat(60)}'`, 'is 60 characters long, more than 59']],
    ['bad gateway name', { gateway: { name: 'Gateway_1' } }, ['gateway.name \'Gateway_1\'', 'is not a DNS-1123 subdomain']],
    ['bad gateway section', { gateway: { name: 'gw', sectionName: 'HTTPS' } }, ['gateway.sectionName \'HTTPS\'', 'is not a DNS-1123 subdomain']],
    ['relative path prefix', { gateway: { name: 'gw' }, pathPrefix: 'v1' }, ['pathPrefix \'v1\'', 'must start with \'/\'', 'Use a path such as']],
    ['path prefix without gateway', { pathPrefix: '/v1' }, ['pathPrefix \'/v1\'', 'is set without gateway', 'Set gateway, or remove pathPrefix']],
    ['blank image', { eppImage: ' ' }, ['eppImage \' \'', 'is not an image reference', 'or leave eppImage unset']],
  ])('%s', (_, props, parts) => {
    const message = errorOf(props);
    expect(message.startsWith(PATH)).toBe(true);
    for (const part of parts) expect(message).toContain(part);
  });

  test('a pool without any namespace is refused, since its RoleBinding and --pool-namespace need one', () => {
    const app = new App();
    const chart = new Chart(app, 'test');
    expect(messageOf(() => new InferencePool(chart, 'llama-70b', { selector: SELECTOR })))
      .toBe('Unable to synthesize test/llama-70b: namespace is not set, and the chart has no namespace either. Set namespace, or give the chart a namespace.');
  });

  test('every problem is reported at once', () => {
    const message = errorOf({ selector: {}, targetPort: -1, name: 'X' });
    expect(message.split('\n')).toHaveLength(3);
  });
});
