import { Duration } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { canonicalJson, isQuantity, Issues, parseQuantity } from '../src';
import { HF_DOWNLOADER_IMAGE } from './_hf-download';
import { checkPodTemplate, isCheckedTemplate } from './_pod-template-json';
import { DEFAULT_SHARED_MEMORY, PodDefaults } from './pod-defaults';

/** The uid and gid of the restricted default: any non-zero id passes PodSecurity `restricted`. */
const NON_ROOT_ID = 1000;
const SHM_VOLUME = 'dshm';
const CACHE_VOLUME = 'cache';
const CACHE_PATH = '/cache';
const STARTUP_PERIOD_SECONDS = 10;

/** Defaults with every field resolved. */
export interface ResolvedPodDefaults {
  readonly sharedMemory: false | { sizeLimit?: string };
  readonly cacheVolume: boolean;
  readonly startupProbeSeconds: number | false;
  readonly restricted: boolean;
  readonly pullIfNotPresent: boolean;
  readonly serviceAccountToken: boolean;
  readonly downloaderImage: string;
  readonly disruptionBudget: boolean;
  readonly networkPolicy: boolean;
}

export function resolvePodDefaults(d: PodDefaults = {}): ResolvedPodDefaults {
  const shm = d.sharedMemory ?? true;
  const probe = d.startupProbe ?? Duration.minutes(30);
  return {
    sharedMemory: shm === false ? false : shm === true ? {} : { sizeLimit: `${shm.toMebibytes()}Mi` },
    cacheVolume: d.cacheVolume ?? true,
    startupProbeSeconds: probe === false ? false : probe.toSeconds(),
    restricted: d.restricted ?? true,
    pullIfNotPresent: d.pullIfNotPresent ?? true,
    serviceAccountToken: d.serviceAccountToken ?? false,
    downloaderImage: d.downloaderImage ?? HF_DOWNLOADER_IMAGE,
    disruptionBudget: d.disruptionBudget ?? true,
    networkPolicy: d.networkPolicy ?? false,
  };
}

/** What a pod joins and carries: labels, annotations, env and scheduling fields owned by inferkit. */
export interface PodIdentity {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly env: k8s.EnvVar[];
  /** Scheduler stamped on the pod; undefined leaves the template's. */
  readonly schedulerName?: string;
  readonly topologySpreadConstraints: readonly k8s.TopologySpreadConstraint[];
  /** GPU limits and node labels to add (from a role's accelerator). */
  readonly gpu?: { readonly resourceName: string; readonly count: number; readonly nodeSelector: Record<string, string> };
}

function withEnv(c: k8s.Container, env: k8s.EnvVar[], issues: Issues, field: string, d: ResolvedPodDefaults): k8s.Container {
  const own = c.env ?? [];
  for (const e of own) {
    issues.check(!env.some(x => x.name === e.name), `${field}.env`, e.name, `sets ${e.name}, which inferkit sets for the role instance`, `Remove ${e.name} from the template`);
  }
  const cacheEnv: k8s.EnvVar[] = d.cacheVolume
    ? [{ name: 'HF_HOME', value: `${CACHE_PATH}/huggingface` }, { name: 'XDG_CACHE_HOME', value: CACHE_PATH }].filter(x => !own.some(e => e.name === x.name))
    : [];
  return { ...c, env: [...env, ...cacheEnv, ...own] };
}

function mounts(c: k8s.Container, d: ResolvedPodDefaults): k8s.VolumeMount[] | undefined {
  const own = c.volumeMounts ?? [];
  const add: k8s.VolumeMount[] = [];
  if (d.sharedMemory && !own.some(m => m.mountPath === '/dev/shm')) add.push({ name: SHM_VOLUME, mountPath: '/dev/shm' });
  if (d.cacheVolume && !own.some(m => m.mountPath === CACHE_PATH)) add.push({ name: CACHE_VOLUME, mountPath: CACHE_PATH });
  const all = [...own, ...add];
  return all.length > 0 ? all : undefined;
}

function startupProbe(c: k8s.Container, seconds: number): k8s.Probe | undefined {
  if (c.startupProbe) return c.startupProbe;
  const from = c.readinessProbe ?? c.livenessProbe;
  const failureThreshold = Math.max(1, Math.ceil(seconds / STARTUP_PERIOD_SECONDS));
  if (from) {
    const { exec, grpc, httpGet, tcpSocket } = from;
    return { exec, grpc, httpGet, tcpSocket, periodSeconds: STARTUP_PERIOD_SECONDS, failureThreshold };
  }
  const port = c.ports?.[0]?.containerPort;
  if (port === undefined) return undefined;
  return { tcpSocket: { port: k8s.IntOrString.fromNumber(port) }, periodSeconds: STARTUP_PERIOD_SECONDS, failureThreshold };
}

function containerSecurity(c: k8s.Container): k8s.SecurityContext {
  const own = c.securityContext ?? {};
  return {
    allowPrivilegeEscalation: false,
    ...own,
    capabilities: own.capabilities ?? { drop: ['ALL'] },
  };
}

function podSecurity(own: k8s.PodSecurityContext = {}): k8s.PodSecurityContext {
  const root = own.runAsUser === 0;
  return {
    ...(root ? {} : { runAsNonRoot: true, runAsUser: NON_ROOT_ID, runAsGroup: NON_ROOT_ID, fsGroup: NON_ROOT_ID }),
    seccompProfile: { type: 'RuntimeDefault' },
    ...own,
  };
}

function mergeOwned(issues: Issues, field: string, own: Record<string, string> | undefined, ours: Record<string, string>): Record<string, string> {
  for (const [k, v] of Object.entries(own ?? {})) {
    issues.check(!(k in ours) || ours[k] === v, field, k, `sets ${k}=${v}, which inferkit sets to ${ours[k]}`, `Remove ${k} from the template`);
  }
  return { ...own, ...ours };
}

/** Templates checked so far, by the Issues they reported to: a template rendered for every group is checked once. */
const checked = new WeakMap<Issues, Set<string>>();

/** Whether `t` is rendered for the first time at `field` with these `issues`. */
function firstRender(t: k8s.PodTemplateSpec, issues: Issues, field: string): boolean {
  const seen = checked.get(issues) ?? new Set<string>();
  checked.set(issues, seen);
  const key = `${field}\n${canonicalJson(k8s.toJson_PodTemplateSpec(t))}`;
  if (seen.has(key)) return false;
  seen.add(key);
  return true;
}

/** Environment variable names that hold secrets: their literal values end up in clear in the manifests. */
const SECRET_ENV = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)$/i;
const SYS_ADMIN = new Set(['SYS_ADMIN', 'CAP_SYS_ADMIN']);

/**
 * Conflicts between what the template asks and the restricted default (errors: the pod could never start, or the API
 * server refuses it), and what the template asks that weakens isolation (warnings).
 */
function checkSecurity(issues: Issues, field: string, spec: k8s.PodSpec, d: ResolvedPodDefaults): void {
  const pod = spec.securityContext ?? {};
  // The restricted default sets runAsNonRoot: true on the pod unless the pod runs as root itself.
  const podNonRoot = pod.runAsNonRoot ?? (d.restricted && pod.runAsUser !== 0);
  const containers: Array<[string, k8s.Container]> = [
    ...(spec.initContainers ?? []).map((c, i): [string, k8s.Container] => [`${field}.spec.initContainers[${i}]`, c]),
    ...spec.containers.map((c, i): [string, k8s.Container] => [`${field}.spec.containers[${i}]`, c]),
  ];
  for (const [f, c] of containers) {
    const sc = c.securityContext ?? {};
    const escalationDefault = d.restricted && sc.allowPrivilegeEscalation === undefined;
    if (sc.privileged === true && escalationDefault) {
      issues.add(`${f}.securityContext.privileged`, true, 'conflicts with the allowPrivilegeEscalation: false of the restricted pod default, and the API server refuses both together',
        'Set allowPrivilegeEscalation: true beside it, or turn the restricted default off (podDefaults.restricted: false)');
    } else if (sc.privileged === true) {
      issues.warn(`${f}.securityContext.privileged`, true, 'runs the container with every privilege of the node, which PodSecurity baseline and restricted refuse',
        'Grant only the capabilities it needs instead');
    }
    const sysAdmin = (sc.capabilities?.add ?? []).find(cap => SYS_ADMIN.has(cap));
    if (sysAdmin && escalationDefault) {
      issues.add(`${f}.securityContext.capabilities.add`, sysAdmin, 'conflicts with the allowPrivilegeEscalation: false of the restricted pod default, and the API server refuses both together',
        'Set allowPrivilegeEscalation: true beside it, or turn the restricted default off (podDefaults.restricted: false)');
    }
    if (sc.runAsUser === 0 && (sc.runAsNonRoot ?? podNonRoot)) {
      const from = sc.runAsNonRoot ?? pod.runAsNonRoot !== undefined ? 'the runAsNonRoot: true written beside it' : 'the runAsNonRoot: true of the restricted pod default';
      issues.add(`${f}.securityContext.runAsUser`, 0, `runs as root while ${from} forbids it, so the kubelet never starts the container`,
        sc.runAsNonRoot ?? pod.runAsNonRoot !== undefined ? 'Run as a non-zero uid, or remove runAsNonRoot'
          : 'Run as a non-zero uid, set runAsNonRoot: false beside runAsUser: 0, or turn the restricted default off (podDefaults.restricted: false)');
    }
    (c.env ?? []).forEach((e, j) => {
      if (SECRET_ENV.test(e.name) && e.value) {
        issues.warn(`${f}.env[${j}]`, e.name, 'holds a literal secret, written in clear into every manifest and into the objects anyone who can read pods sees',
          'Put it in a Secret and refer to it with valueFrom.secretKeyRef');
      }
    });
  }
  for (const [prop, json, what] of [['hostNetwork', 'hostNetwork', 'network'], ['hostPid', 'hostPID', 'process'], ['hostIpc', 'hostIPC', 'IPC']] as const) {
    if (spec[prop]) {
      issues.warn(`${field}.spec.${json}`, true, `shares the node's ${what} namespace with the pod, which PodSecurity baseline and restricted refuse`, `Remove ${json}`);
    }
  }
  (spec.volumes ?? []).forEach((v, i) => {
    if (v.hostPath) {
      issues.warn(`${field}.spec.volumes[${i}].hostPath`, v.hostPath.path, 'mounts a directory of the node, which PodSecurity baseline and restricted refuse',
        'Use a PersistentVolumeClaim or an emptyDir instead');
    }
  });
}

/**
 * Renders a user's pod template into the pod inferkit emits: identity labels and env of the role
 * instance, the scheduler, topology spread, and the GPU-first defaults. Conflicts with what the user
 * wrote are recorded as issues, never resolved silently.
 */
export function renderPodTemplate(
  t: k8s.PodTemplateSpec, id: PodIdentity, d: ResolvedPodDefaults, issues: Issues, field: string,
): k8s.PodTemplateSpec {
  const spec: k8s.PodSpec = t.spec ?? { containers: [] };
  if (firstRender(t, issues, field)) {
    issues.check(t.spec !== undefined, `${field}.spec`, undefined, 'is missing, so the pod would have no container', 'Give the pod spec with its containers');
    if (!isCheckedTemplate(t)) checkPodTemplate(issues, field, k8s.toJson_PodTemplateSpec(t));
    checkSecurity(issues, field, spec, d);
  }
  issues.check(id.schedulerName === undefined || spec.schedulerName === undefined || spec.schedulerName === id.schedulerName, `${field}.spec.schedulerName`,
    spec.schedulerName, `differs from the ModelInfer's schedulerName '${id.schedulerName}'`, 'Set schedulerName on the ModelInfer, not in the template');

  const containers = spec.containers.map((c, i) => {
    let out = withEnv(c, id.env, issues, `${field}.spec.containers[${i}]`, d);
    out = { ...out, volumeMounts: mounts(out, d) };
    if (d.pullIfNotPresent && !out.imagePullPolicy) out = { ...out, imagePullPolicy: 'IfNotPresent' };
    if (d.startupProbeSeconds !== false) out = { ...out, startupProbe: startupProbe(out, d.startupProbeSeconds) };
    if (d.restricted) out = { ...out, securityContext: containerSecurity(out) };
    if (i === 0 && id.gpu) {
      const limits = out.resources?.limits ?? {};
      const current = limits[id.gpu.resourceName];
      issues.check(current === undefined || String(current.value) === String(id.gpu.count), `${field}.spec.containers[0].resources.limits`, { [id.gpu.resourceName]: current?.value },
        `asks for ${current?.value} ${id.gpu.resourceName} while the role's accelerator asks for ${id.gpu.count}`, 'Remove the limit from the template or make them agree');
      out = { ...out, resources: { ...out.resources, limits: { ...limits, [id.gpu.resourceName]: k8s.Quantity.fromNumber(id.gpu.count) } } };
    }
    return out;
  });
  const initContainers = spec.initContainers?.map((c, i) => {
    let out = withEnv(c, id.env, issues, `${field}.spec.initContainers[${i}]`, d);
    out = { ...out, volumeMounts: mounts(out, d) };
    if (d.pullIfNotPresent && !out.imagePullPolicy) out = { ...out, imagePullPolicy: 'IfNotPresent' };
    if (d.restricted) out = { ...out, securityContext: containerSecurity(out) };
    return out;
  });

  const volumes = [...(spec.volumes ?? [])];
  const mounted = (name: string) => [...containers, ...(initContainers ?? [])].some(c => c.volumeMounts?.some(m => m.name === name));
  if (d.sharedMemory && !volumes.some(v => v.name === SHM_VOLUME) && mounted(SHM_VOLUME)) {
    const mounting = [...containers, ...(initContainers ?? [])].filter(c => c.volumeMounts?.some(m => m.name === SHM_VOLUME));
    const sizeLimit = d.sharedMemory.sizeLimit ?? sharedMemorySize(mounting);
    volumes.push({ name: SHM_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString(sizeLimit) } });
  }
  if (d.cacheVolume && !volumes.some(v => v.name === CACHE_VOLUME) && mounted(CACHE_VOLUME)) {
    volumes.push({ name: CACHE_VOLUME, emptyDir: {} });
  }

  const nodeSelector = id.gpu && Object.keys(id.gpu.nodeSelector).length > 0
    ? mergeOwned(issues, `${field}.spec.nodeSelector`, spec.nodeSelector, id.gpu.nodeSelector)
    : spec.nodeSelector;

  return {
    metadata: {
      ...t.metadata,
      labels: mergeOwned(issues, `${field}.metadata.labels`, t.metadata?.labels, id.labels),
      annotations: Object.keys(id.annotations).length > 0 ? mergeOwned(issues, `${field}.metadata.annotations`, t.metadata?.annotations, id.annotations) : t.metadata?.annotations,
    },
    spec: {
      ...spec,
      schedulerName: id.schedulerName ?? spec.schedulerName,
      containers,
      initContainers,
      volumes: volumes.length > 0 ? volumes : undefined,
      nodeSelector,
      securityContext: d.restricted ? podSecurity(spec.securityContext) : spec.securityContext,
      automountServiceAccountToken: spec.automountServiceAccountToken ?? (d.serviceAccountToken ? undefined : false),
      topologySpreadConstraints: id.topologySpreadConstraints.length > 0
        ? [...(spec.topologySpreadConstraints ?? []), ...id.topologySpreadConstraints]
        : spec.topologySpreadConstraints,
    },
  };
}

/**
 * The size of a memory-backed `/dev/shm` for the containers that mount it: the largest memory limit among them, else
 * the largest memory request, else {@link DEFAULT_SHARED_MEMORY}. What it holds counts against the container's memory,
 * so it never needs to be larger.
 */
export function sharedMemorySize(mounting: readonly k8s.Container[]): string {
  const largest = (kind: 'limits' | 'requests') => mounting
    .map(c => c.resources?.[kind]?.memory?.value)
    .filter((v): v is string | number => v !== undefined && isQuantity(v))
    .reduce<string | number | undefined>((max, v) => max === undefined || parseQuantity(v) > parseQuantity(max) ? v : max, undefined);
  return String(largest('limits') ?? largest('requests') ?? DEFAULT_SHARED_MEMORY);
}

/**
 * What each container of a pod asks the scheduler for: per resource, the request, or the limit where
 * no request is set (Kubernetes defaults a missing request to the limit; GPUs are only ever limits).
 */
export function containerRequests(t: k8s.PodTemplateSpec | undefined): Array<Record<string, string | number>> {
  return (t?.spec?.containers ?? []).map(c => {
    const effective: Record<string, k8s.Quantity> = { ...c.resources?.limits, ...c.resources?.requests };
    return Object.fromEntries(Object.entries(effective).map(([name, q]) => [name, q.value]));
  });
}
