import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import {
  canonicalJson, checkName, compareStrings, Issues, KubernetesVersion, LedgerLabels, loadModelCache, loadModelReplica, Manifest, MemberAssignment,
  NameRule, NODE_POOL_LABEL, ReplicaAssignment, RoleEnv, validateDemand,
} from '../src';
import { addedContainerResources } from './_hf-download';
import { ManifestSource, manifestSource, objectMeta, ObjectMetadataProps, PREFILL_DECODE_ROUTE } from './_metadata';
import { renderPodTemplate, resolvePodDefaults, sharedMemorySize } from './_pod-template';
import { readPodTemplate } from './_pod-template-json';
import { GangScheduling } from './gang-scheduling';
import { InferencePool, SchedulingMode } from './inference-pool';
import { ModelCache, modelCacheProps } from './model-cache';
import { ModelInfer } from './model-infer';
import { PodDefaults } from './pod-defaults';
import { recordWarnings } from './warnings';

/** The part an engine member plays (Modelplane `EngineMember.role`). */
export enum MemberRole {
  /** One pod serves the engine. */
  STANDALONE = 'Standalone',
  /** The entry pod of a multi-node engine. */
  LEADER = 'Leader',
  /** The worker pods of a multi-node engine, one per node. */
  WORKER = 'Worker',
}

/** How a deployment's replicas are served (Modelplane `serving.mode`). */
export enum ServingMode {
  /** Every engine serves whole requests, behind a Service (and optionally an InferencePool). */
  UNIFIED = 'Unified',
  /** Prefill and decode engines disaggregated behind an InferencePool whose endpoint picker pairs them. */
  PREFILL_DECODE = 'PrefillDecode',
}

/** The phase an engine serves in PrefillDecode mode. */
export enum EnginePhase {
  PREFILL = 'Prefill',
  DECODE = 'Decode',
}

/** Devices a member's pod claims through DRA (Modelplane `deviceRequests`). */
export interface DeviceRequestProps {
  /** Request name, unique in the member. */
  readonly name: string;

  /** The cluster-scoped DeviceClass to claim through, such as `gpu.nvidia.com`. */
  readonly deviceClassName: string;

  /**
   * How many devices.
   *
   * @default 1
   */
  readonly count?: number;

  /**
   * CEL expressions a device must satisfy, such as `device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('40Gi')) >= 0`.
   *
   * @default - any device of the class
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/
   */
  readonly selectors?: string[];

  /**
   * The node pool's device the request is counted against in the fleet ledger (the inventory's device name).
   *
   * @default - the request name
   */
  readonly deviceName?: string;
}

/** One member of an engine: its role, hardware and pod template. */
export interface EngineMemberProps {
  /**
   * Role in the engine.
   *
   * @default MemberRole.STANDALONE
   */
  readonly role?: MemberRole;

  /** The node pool the member's pods run in (nodes labelled `inferkit.dev/pool=<pool>`). */
  readonly nodePoolName: string;

  /**
   * The nodes of the pool the member's pods may run on, by name: a required node affinity on `metadata.name`, so that
   * the scheduler puts the pods where the placement counted their devices instead of spreading them. A pod whose
   * nodes are all gone stays Pending until the replica is placed again.
   *
   * @default - any node of the pool
   * @see https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#node-affinity
   */
  readonly nodeNames?: string[];

  /**
   * Devices each pod claims.
   *
   * @default - none
   */
  readonly deviceRequests?: DeviceRequestProps[];

  /**
   * Worker nodes (Worker only), 1 to 63.
   *
   * @default - required for a Worker
   */
  readonly workerNodes?: number;

  /** Pod template with one container, `engine`. */
  readonly template: k8s.PodTemplateSpec;
}

/** One engine of a replica. */
export interface EngineProps {
  /** Engine name. */
  readonly name: string;

  /**
   * Identical copies of the engine.
   *
   * @default 1
   */
  readonly copies?: number;

  /**
   * Phase in PrefillDecode mode.
   *
   * @default - none (Unified)
   */
  readonly phase?: EnginePhase;

  /** One Standalone member, or one Leader and one Worker. */
  readonly members: EngineMemberProps[];
}

/** Props of a {@link ModelReplica}: one replica of a Modelplane ModelDeployment, placed already. */
export interface ModelReplicaProps {
  /**
   * Name of the replica; object names start with it.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Namespace of every object.
   *
   * @default - the chart's namespace
   */
  readonly namespace?: string;

  /** The cluster the replica is pinned to, recorded on every object. */
  readonly clusterName: string;

  /** The engines, 1 to 8. */
  readonly engines: EngineProps[];

  /**
   * The ModelDeployment the replica belongs to: its workloads carry the ledger labels ({@link LedgerLabels}) under
   * this name, so that other deployments' placements count the devices it holds.
   *
   * @default - the replica name
   */
  readonly deploymentName?: string;

  /**
   * Serving mode. Unified fronts the serving pods with a Service `<replica>`; PrefillDecode leaves routing to an
   * InferencePool over the deployment: serving pods are labelled with their phase (and llm-d's `llm-d.ai/role`), get
   * NIXL's side-channel env, and the decode engine serves behind llm-d's pd-sidecar, which takes port 8000.
   *
   * @default ServingMode.UNIFIED
   */
  readonly servingMode?: ServingMode;

  /**
   * A model cache in the replica's cluster, mounted at `/mnt/models` into every engine container (Modelplane's `CACHE_MOUNT_PATH`).
   *
   * @default - none
   */
  readonly modelCache?: ModelCache;

  /**
   * Kubernetes version of the cluster: selects the DRA API (`resource.k8s.io/v1`, `v1beta2` or `v1beta1`).
   *
   * @default KubernetesVersion.V1_34
   */
  readonly kubernetesVersion?: KubernetesVersion;

  /**
   * GPU-first pod defaults.
   *
   * @default - all on
   */
  readonly podDefaults?: PodDefaults;

  /**
   * Labels and annotations added to every object.
   *
   * @default - none
   */
  readonly metadata?: ObjectMetadataProps;

  /** @internal where the props came from (a manifest), for messages */
  readonly _source?: ManifestSource;
}

/** Options of {@link ModelReplica.fromManifest}: what the replica's manifest refers to. */
export interface ModelReplicaManifestOptions {
  /**
   * Kubernetes version of the replica's cluster.
   *
   * @default KubernetesVersion.V1_34
   */
  readonly kubernetesVersion?: KubernetesVersion;
  /**
   * ModelCache manifests, one of which `spec.modelCacheRef` names (in the replica's namespace).
   *
   * @default - none: a modelCacheRef is an error
   */
  readonly caches?: readonly Manifest[];
  /**
   * The ReadWriteMany StorageClass of the cache claim (the cluster's `existing.cache.storageClassName`).
   *
   * @default - the cluster's default StorageClass
   */
  readonly cacheStorageClassName?: string;
}

/** Labels of ModelReplica objects. Selector labels are public API. */
export const ModelReplicaLabels = {
  REPLICA: 'modelplane.ai/replica',
  ENGINE: 'modelplane.ai/engine',
  PHASE: 'modelplane.ai/phase',
  CLUSTER: 'modelplane.ai/cluster',
  /** `"true"` on pods that serve requests (Standalone and Leader); the replica's Service selects them. */
  SERVING: 'modelplane.ai/serving',
} as const;

/** The objects one cluster holds (or an earlier run wrote for it), such as the YAML of `inferkit synth -o DIR/<cluster>`. */
export interface ClusterObjects {
  /** The cluster's name (its InferenceCluster's). */
  readonly cluster: string;
  /** The objects, as JSON. */
  readonly objects: readonly Manifest[];
}

/**
 * Where an earlier run placed the replicas of deployment `<namespace>/<name>`: read back from the workloads it rendered
 * (their labels name the deployment, replica, engine and pool; a Deployment's pods are the Standalone member, a
 * StatefulSet's the Leader when they serve, else the Worker), in the member order of `engines`. Fed to the placement
 * as `existing`, so that a replica that still fits stays where it is. Members the engines no longer have are left out,
 * and so is a replica found on two clusters (stale files of an older run): the placement puts it anew.
 */
export function placedAssignments(
  deployment: {
    readonly name: string;
    readonly namespace?: string;
    readonly engines: ReadonlyArray<{ readonly name: string; readonly members: ReadonlyArray<{ readonly role?: string }> }>;
  },
  clusters: readonly ClusterObjects[],
): ReplicaAssignment[] {
  const namespace = deployment.namespace ?? 'default';
  const byReplica = new Map<number, { cluster: string; members: Map<string, MemberAssignment> }>();
  const ambiguous = new Set<number>();
  for (const { cluster, objects } of clusters) {
    for (const w of objects) {
      const meta = (w.metadata ?? {}) as { namespace?: string; labels?: Record<string, string> };
      const pod = (((w.spec ?? {}) as Manifest).template ?? {}) as { metadata?: { labels?: Record<string, string> } };
      const labels = pod.metadata?.labels ?? {};
      if ((w.kind !== 'Deployment' && w.kind !== 'StatefulSet') || meta.labels?.[LedgerLabels.DEPLOYMENT] !== deployment.name
        || (meta.namespace ?? 'default') !== namespace) continue;
      const index = /^(\d+)$/.exec((labels[ModelReplicaLabels.REPLICA] ?? '').slice(deployment.name.length + 1));
      const engine = deployment.engines.find(e => e.name === labels[ModelReplicaLabels.ENGINE]);
      const pool = labels[LedgerLabels.POOL];
      if (!index || !engine || !pool || !(labels[ModelReplicaLabels.REPLICA] ?? '').startsWith(`${deployment.name}-`)) continue;
      const role = w.kind === 'Deployment' ? MemberRole.STANDALONE : labels[ModelReplicaLabels.SERVING] === 'true' ? MemberRole.LEADER : MemberRole.WORKER;
      const member = engine.members.findIndex(m => (m.role ?? MemberRole.STANDALONE) === role);
      if (member < 0) continue;
      const replica = Number(index[1]);
      const entry = byReplica.get(replica) ?? { cluster, members: new Map() };
      if (entry.cluster !== cluster) ambiguous.add(replica);
      byReplica.set(replica, entry);
      entry.members.set(`${engine.name}/${member}`, { engine: engine.name, member, pool });
    }
  }
  return [...byReplica].filter(([replica]) => !ambiguous.has(replica)).sort(([a], [b]) => a - b).map(([replica, { cluster, members }]) => ({
    replica,
    cluster,
    members: deployment.engines.flatMap(e => e.members.map((_, i) => members.get(`${e.name}/${i}`))).filter((m): m is MemberAssignment => m !== undefined),
  }));
}

/** The value of {@link ModelReplicaLabels.PHASE} on an engine's pods: `prefill` or `decode`. */
function phaseLabel(phase: EnginePhase): string {
  return phase.toLowerCase();
}

/**
 * How an InferencePool's endpoint picker tells a deployment's prefill pods from its decode pods: by the phase label
 * ModelReplica puts on them.
 *
 * @internal
 */
export function phaseScheduling(): SchedulingMode {
  return SchedulingMode.prefillDecode({
    key: ModelReplicaLabels.PHASE, prefillValue: phaseLabel(EnginePhase.PREFILL), decodeValue: phaseLabel(EnginePhase.DECODE),
  });
}

/** Modelplane's `ENGINE_PORT`: where serving pods serve (vLLM's and SGLang's default), unless the template declares another. */
const DEFAULT_ENGINE_PORT = 8000;
const CLAIM = 'devices';
/** Modelplane's readiness probe of a serving engine, on its port. */
const READINESS = { path: '/health', initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5 } as const;

/**
 * The env Modelplane's llm-d backend gives Leader and Worker engines, before the user's (`MODELPLANE_LEADER_ADDRESS`,
 * `MODELPLANE_RANK`, from the LeaderWorkerSet's `LWS_LEADER_ADDRESS` and `LWS_WORKER_INDEX`). The leader/worker group
 * here is ModelInfer's StatefulSet backend, so the LWS variables are defined first, from its `ENTRY_ADDRESS`,
 * `GROUP_SIZE` and `WORKER_INDEX` (0 on the leader, 1 to N on the workers), for templates that use them too.
 */
const GANG_ENV: readonly k8s.EnvVar[] = [
  { name: 'LWS_LEADER_ADDRESS', value: `$(${RoleEnv.ENTRY_ADDRESS})` },
  { name: 'LWS_GROUP_SIZE', value: `$(${RoleEnv.GROUP_SIZE})` },
  { name: 'LWS_WORKER_INDEX', value: `$(${RoleEnv.WORKER_INDEX})` },
  { name: 'MODELPLANE_LEADER_ADDRESS', value: '$(LWS_LEADER_ADDRESS)' },
  { name: 'MODELPLANE_RANK', value: '$(LWS_WORKER_INDEX)' },
];

/** llm-d's prefill/decode routing sidecar, which Modelplane puts in front of the decode engine on the serving port. */
export const PD_SIDECAR_IMAGE = 'ghcr.io/llm-d/llm-d-router-disagg-sidecar:v0.9.0';
/** Where the decode engine listens behind the sidecar, unless its `--port` says otherwise. */
const DECODE_ENGINE_PORT = 8001;
/** NIXL's side channel (KV transfer between prefill and decode pods): the pod's IP, on this port. */
const NIXL_SIDE_CHANNEL_PORT = '5557';
/** The labels llm-d's endpoint picker and Modelplane's PrefillDecode routing put on serving pods. */
const LLMD_ROLE = 'llm-d.ai/role';
const LLMD_SERVING = 'llm-d.ai/inference-serving';


/**
 * One placed replica of a Modelplane ModelDeployment, usable without Pulumi: per engine, a Deployment of
 * `copies` pods (Standalone) or a leader/worker group per copy (the StatefulSet backend of ModelInfer), each pod
 * claiming its devices through a DRA ResourceClaimTemplate in the API version of the cluster's Kubernetes,
 * pinned to its node pool by label and tolerating the GPU taint; and a Service over the replica's engines.
 */
export class ModelReplica extends Construct {
  /**
   * Loads a Modelplane `modelplane.ai/v1alpha1` ModelReplica manifest (placement already resolved). Unknown
   * fields, anywhere including the engine templates, are errors.
   */
  public static fromManifest(scope: Construct, id: string, manifest: Manifest, options: ModelReplicaManifestOptions = {}): ModelReplica {
    const m = loadModelReplica(manifest);
    const issues = new Issues(`ModelReplica/${m.name}`);
    const engines = m.engines.map((e, i) => ({
      name: e.name,
      copies: e.copies,
      phase: e.phase as EnginePhase | undefined,
      members: e.members.map((member, j) => ({
        role: member.role as MemberRole | undefined,
        nodePoolName: member.nodePoolName,
        deviceRequests: member.deviceRequests,
        workerNodes: member.workerNodes,
        template: readPodTemplate(issues, `spec.engines[${i}].members[${j}].template`, member.template) ?? {},
      })),
    }));
    const namespace = m.namespace ?? 'default';
    const cacheDoc = m.modelCacheRef === undefined ? undefined
      : (options.caches ?? []).find(c => (c.metadata as Manifest | undefined)?.name === m.modelCacheRef && ((c.metadata as Manifest).namespace ?? 'default') === namespace);
    issues.check(m.modelCacheRef === undefined || cacheDoc !== undefined, 'spec.modelCacheRef.name', m.modelCacheRef,
      `names no ModelCache in namespace ${namespace} among the given files`, 'Add the modelplane.ai/v1alpha1 ModelCache to the input, or remove the reference');
    issues.throwIfAny();
    const cache = cacheDoc && loadModelCache(cacheDoc);
    const modelCache = cache && new ModelCache(scope, `${id}-cache`, { ...modelCacheProps(cache, options.cacheStorageClassName), namespace: m.namespace });
    const servingMode = (m.servingMode ?? ServingMode.UNIFIED) as ServingMode;
    const replica = new ModelReplica(scope, id, {
      name: m.name,
      namespace: m.namespace,
      clusterName: m.clusterName,
      engines,
      servingMode,
      modelCache,
      kubernetesVersion: options.kubernetesVersion,
      metadata: { labels: m.labels, annotations: m.annotations },
      _source: manifestSource('ModelReplica', m.name),
    });
    if (servingMode === ServingMode.PREFILL_DECODE) {
      // Modelplane fronts a PrefillDecode replica with an InferencePool whose endpoint picker pairs its phases.
      new InferencePool(scope, `${id}-pool`, {
        name: m.name,
        namespace: m.namespace,
        selector: { [ModelReplicaLabels.REPLICA]: m.name, [ModelReplicaLabels.SERVING]: 'true' },
        targetPort: DEFAULT_ENGINE_PORT,
        mode: phaseScheduling(),
        metadata: { labels: m.labels, annotations: m.annotations },
      });
      recordWarnings(replica, [{
        path: `ModelReplica/${m.name}`,
        field: 'spec.serving.mode',
        value: ServingMode.PREFILL_DECODE,
        cause: PREFILL_DECODE_ROUTE,
        fix: `Route to the InferencePool ${m.name} with an HTTPRoute on your Gateway`,
      }]);
    }
    return replica;
  }

  /** Name of the replica. */
  public readonly name: string;
  /** The deployment the ledger counts its devices under. */
  public readonly deploymentName: string;
  /** Namespace of the objects, if any. */
  public readonly namespace?: string;

  private readonly props: ModelReplicaProps;
  private readonly version: KubernetesVersion;

  constructor(scope: Construct, id: string, props: ModelReplicaProps) {
    super(scope, id);
    this.props = props;
    this.name = props.name ?? id;
    this.deploymentName = props.deploymentName ?? this.name;
    this.namespace = props.namespace ?? Chart.of(this).namespace;
    this.version = props.kubernetesVersion ?? KubernetesVersion.DEFAULT;
    const issues = new Issues(props._source?.path ?? this.node.path, props._source?.fieldName);
    checkName(issues, 'name', this.name, NameRule.DNS1035_LABEL);
    issues.check(typeof props.clusterName === 'string' && props.clusterName.length > 0, 'clusterName', props.clusterName, 'is empty', 'Name the cluster the replica runs in');
    this.validate(issues);
    issues.throwIfAny();

    for (const [e, engine] of props.engines.entries()) this.renderEngine(issues, e, engine);
    if ((props.servingMode ?? ServingMode.UNIFIED) === ServingMode.UNIFIED) {
      new k8s.KubeService(this, 'service', {
        metadata: this.metadata(this.name),
        spec: {
          selector: { [ModelReplicaLabels.REPLICA]: this.name, [ModelReplicaLabels.SERVING]: 'true' },
          ports: [{ name: 'http', port: DEFAULT_ENGINE_PORT, targetPort: k8s.IntOrString.fromNumber(DEFAULT_ENGINE_PORT) }],
        },
      });
    }
    issues.throwIfAny();
    recordWarnings(this, issues);
  }

  /** `http://<replica>.<namespace>.svc:8000`, the replica's Service (Unified serving). */
  public get endpoint(): string {
    return `http://${this.name}${this.namespace ? `.${this.namespace}.svc` : ''}:${DEFAULT_ENGINE_PORT}`;
  }

  /**
   * The engines are checked by the core's demand rules (the same the placement solver applies: engine and request
   * counts, member roles, device requests, CEL selectors that compile); the rest is the construct's own.
   */
  private validate(issues: Issues): void {
    const engines = this.props.engines ?? [];
    validateDemand(issues, {
      name: this.name,
      replicas: 1,
      servingMode: this.props.servingMode,
      engines: engines.map(e => ({
        name: e.name,
        copies: e.copies,
        phase: e.phase,
        members: e.members.map(m => ({
          role: m.role, pods: m.role === MemberRole.WORKER ? m.workerNodes : undefined, deviceRequests: m.deviceRequests,
        })),
      })),
    });
    engines.forEach((engine, e) => {
      const f = `engines[${e}]`;
      checkName(issues, `${f}.name`, engine.name, NameRule.DNS1123_LABEL, 63 - this.name.length - 1);
      engine.members.forEach((m, i) => {
        const mf = `${f}.members[${i}]`;
        if (m.role === MemberRole.WORKER) {
          issues.check(m.workerNodes !== undefined, `${mf}.workerNodes`, undefined, 'is missing', 'Give the number of worker nodes, 1 to 63');
        } else {
          issues.check(m.workerNodes === undefined, `${mf}.workerNodes`, m.workerNodes, `is set on a ${m.role ?? MemberRole.STANDALONE} member`, 'Set workerNodes on the Worker member only');
        }
        if (m.nodeNames !== undefined) {
          issues.check(m.nodeNames.length > 0, `${mf}.nodeNames`, m.nodeNames, 'is empty: no node could run the pods',
            'Name at least one node of the pool, or leave nodeNames unset to run on any of its nodes');
          m.nodeNames.forEach((n, k) => checkName(issues, `${mf}.nodeNames[${k}]`, n, NameRule.DNS1123_SUBDOMAIN));
        }
        (m.deviceRequests ?? []).forEach((r, j) => issues.check(!!r.deviceClassName, `${mf}.deviceRequests[${j}].deviceClassName`, r.deviceClassName,
          'is missing: a placed replica claims through a named DeviceClass', 'Name the DeviceClass, such as gpu.nvidia.com, or place the replica with a ModelDeployment and an inventory'));
        issues.check((m.template.spec?.containers ?? []).length === 1, `${mf}.template.spec.containers`, undefined,
          'must hold exactly one container (the engine)', 'Keep one container in the template');
      });
    });
  }

  private metadata(name: string, labels: Record<string, string> = {}): k8s.ObjectMeta {
    const own = {
      [ModelReplicaLabels.REPLICA]: this.name,
      [ModelReplicaLabels.CLUSTER]: this.props.clusterName,
      [LedgerLabels.DEPLOYMENT]: this.deploymentName,
      ...labels,
    };
    return objectMeta(name, this.namespace, this.props.metadata, own);
  }

  /** A ResourceClaimTemplate holding a member's requests, in the DRA API version of the cluster. */
  private claimTemplate(name: string, requests: DeviceRequestProps[], labels: Record<string, string>): void {
    const metadata = this.metadata(name, labels);
    const selectors = (r: DeviceRequestProps) => r.selectors?.map(expression => ({ cel: { expression } }));
    if (this.version.atLeast(KubernetesVersion.V1_34)) {
      new k8s.KubeResourceClaimTemplate(this, name, {
        metadata,
        spec: { spec: { devices: { requests: requests.map(r => ({ name: r.name, exactly: { deviceClassName: r.deviceClassName, allocationMode: 'ExactCount', count: r.count ?? 1, selectors: selectors(r) } })) } } },
      });
    } else if (this.version.atLeast(KubernetesVersion.V1_33)) {
      new k8s.KubeResourceClaimTemplateV1Beta2(this, name, {
        metadata,
        spec: { spec: { devices: { requests: requests.map(r => ({ name: r.name, exactly: { deviceClassName: r.deviceClassName, allocationMode: 'ExactCount', count: r.count ?? 1, selectors: selectors(r) } })) } } },
      });
    } else {
      new k8s.KubeResourceClaimTemplateV1Beta1(this, name, {
        metadata,
        spec: { spec: { devices: { requests: requests.map(r => ({ name: r.name, deviceClassName: r.deviceClassName, allocationMode: 'ExactCount', count: r.count ?? 1, selectors: selectors(r) })) } } },
      });
    }
  }

  /**
   * The member's pod, as Modelplane composes it: its devices claimed, pinned to its pool, tolerating the GPU taint; the
   * model cache mounted; a serving pod on port 8000, ready on /health; Leader and Worker engines with the gang env;
   * PrefillDecode serving pods with llm-d's role labels and NIXL's side channel, the decode pod behind the pd-sidecar.
   */
  private memberTemplate(
    issues: Issues, field: string, engine: EngineProps, m: EngineMemberProps, labels: Record<string, string>,
  ): k8s.PodTemplateSpec {
    const role = m.role ?? MemberRole.STANDALONE;
    const serving = role !== MemberRole.WORKER;
    const claimName = `${this.name}-${engine.name}-${role.toLowerCase()}`;
    const hasDevices = (m.deviceRequests ?? []).length > 0;
    if (hasDevices) this.claimTemplate(claimName, m.deviceRequests!, labels);
    let t = this.props.modelCache ? this.props.modelCache.mountInto(m.template, { modelArg: serving }) : m.template;
    if (role !== MemberRole.STANDALONE) t = withGangEnv(issues, field, t);
    const phase = serving && (this.props.servingMode ?? ServingMode.UNIFIED) === ServingMode.PREFILL_DECODE ? engine.phase : undefined;
    if (phase) t = withNixl(t, resolvePodDefaults(this.props.podDefaults).sharedMemory !== false);
    const [main] = t.spec!.containers;
    const decode = phase === EnginePhase.DECODE ? decodeEngine(issues, field, main) : undefined;
    const port = decode?.port ?? main.ports?.[0]?.containerPort ?? DEFAULT_ENGINE_PORT;
    const ports = decode ? [{ containerPort: decode.port }] : main.ports ?? (serving ? [{ containerPort: DEFAULT_ENGINE_PORT }] : undefined);
    // What the fleet ledger reads back: the owner and pool as labels, the devices each pod holds as an annotation.
    const devices: Record<string, number> = {};
    for (const r of m.deviceRequests ?? []) devices[r.deviceName ?? r.name] = (devices[r.deviceName ?? r.name] ?? 0) + (r.count ?? 1);
    const ledgerLabels = { [LedgerLabels.DEPLOYMENT]: this.deploymentName, [LedgerLabels.POOL]: m.nodePoolName };
    const phaseLabels: Record<string, string> = phase ? { [LLMD_ROLE]: phaseLabel(phase), [LLMD_SERVING]: 'true', app: this.name } : {};
    return {
      metadata: {
        ...t.metadata,
        labels: { ...t.metadata?.labels, ...labels, ...ledgerLabels, ...phaseLabels, ...(serving ? { [ModelReplicaLabels.SERVING]: 'true' } : {}) },
        annotations: hasDevices ? { ...t.metadata?.annotations, [LedgerLabels.DEVICES_PER_POD]: canonicalJson(devices) } : t.metadata?.annotations,
      },
      spec: {
        ...t.spec,
        containers: [{
          ...main,
          args: decode?.args ?? main.args,
          ports,
          readinessProbe: main.readinessProbe ?? (serving ? readinessOn(port) : undefined),
          resources: hasDevices ? { ...main.resources, claims: [...(main.resources?.claims ?? []), { name: CLAIM }] } : main.resources,
        }, ...(decode ? [pdSidecar(decode.port)] : [])],
        resourceClaims: hasDevices
          ? [...(t.spec?.resourceClaims ?? []), { name: CLAIM, resourceClaimTemplateName: claimName }]
          : t.spec?.resourceClaims,
        nodeSelector: { ...t.spec?.nodeSelector, [NODE_POOL_LABEL]: m.nodePoolName },
        affinity: m.nodeNames ? onNodes(t.spec?.affinity, m.nodeNames) : t.spec?.affinity,
        // Modelplane tolerates the GPU taint on every pod, a coordinator-only leader's too: it runs in its engine's pool.
        tolerations: [...(t.spec?.tolerations ?? []), { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
    };
  }

  private renderEngine(issues: Issues, e: number, engine: EngineProps): void {
    const name = `${this.name}-${engine.name}`;
    const labels = {
      [ModelReplicaLabels.REPLICA]: this.name,
      [ModelReplicaLabels.ENGINE]: engine.name,
      ...(engine.phase ? { [ModelReplicaLabels.PHASE]: phaseLabel(engine.phase) } : {}),
    };
    const byRole = (role: MemberRole) => engine.members.find(m => (m.role ?? MemberRole.STANDALONE) === role);
    const standalone = byRole(MemberRole.STANDALONE);
    if (standalone) {
      const identity = { labels: {}, annotations: {}, env: [], topologySpreadConstraints: [] };
      const template = renderPodTemplate(this.memberTemplate(issues, `engines[${e}].members[0].template`, engine, standalone, labels), identity,
        resolvePodDefaults(this.props.podDefaults), issues, `engines[${e}].members[0].template`);
      new k8s.KubeDeployment(this, `${engine.name}-deployment`, {
        metadata: this.metadata(name, labels),
        spec: { replicas: engine.copies ?? 1, selector: { matchLabels: labels }, template },
      });
      return;
    }
    // Leader and workers: the StatefulSet backend of ModelInfer, one role instance per copy, no Volcano.
    const leader = byRole(MemberRole.LEADER)!;
    const worker = byRole(MemberRole.WORKER)!;
    const memberField = (member: EngineMemberProps) => `engines[${e}].members[${engine.members.indexOf(member)}].template`;
    new ModelInfer(this, `${engine.name}-group`, {
      name,
      namespace: this.namespace,
      schedulerName: 'default-scheduler',
      gangScheduling: GangScheduling.none(),
      podDefaults: this.props.podDefaults,
      metadata: {
        labels: {
          ...this.props.metadata?.labels,
          [ModelReplicaLabels.CLUSTER]: this.props.clusterName,
          [LedgerLabels.DEPLOYMENT]: this.deploymentName,
          [ModelReplicaLabels.REPLICA]: this.name,
        },
        annotations: this.props.metadata?.annotations,
      },
      roles: [{
        name: 'engine',
        replicas: engine.copies ?? 1,
        entryTemplate: this.memberTemplate(issues, memberField(leader), engine, leader, labels),
        workerReplicas: worker.workerNodes,
        workerTemplate: this.memberTemplate(issues, memberField(worker), engine, worker, labels),
      }],
    });
  }
}

/**
 * The affinity with the pods pinned to `nodes` (sorted) by a required `metadata.name In` field selector, added to
 * every term the template already requires (terms are ORed, so each must carry it).
 */
function onNodes(affinity: k8s.Affinity | undefined, nodes: readonly string[]): k8s.Affinity {
  const pin: k8s.NodeSelectorRequirement = { key: 'metadata.name', operator: 'In', values: [...new Set(nodes)].sort(compareStrings) };
  const terms = affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [{}];
  return {
    ...affinity,
    nodeAffinity: {
      ...affinity?.nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: terms.map(t => ({ ...t, matchFields: [...(t.matchFields ?? []), pin] })),
      },
    },
  };
}

/** A readiness probe on `/health` at `port`, as Modelplane probes a serving engine. */
function readinessOn(port: number): k8s.Probe {
  const { path, ...timing } = READINESS;
  return { httpGet: { path, port: k8s.IntOrString.fromNumber(port) }, ...timing };
}

/** The template with the gang env before the engine's own; an engine that sets one of those names is an error. */
function withGangEnv(issues: Issues, field: string, t: k8s.PodTemplateSpec): k8s.PodTemplateSpec {
  const spec = t.spec!;
  return {
    ...t,
    spec: {
      ...spec,
      containers: spec.containers.map((c, i) => {
        for (const e of c.env ?? []) {
          issues.check(!GANG_ENV.some(g => g.name === e.name), `${field}.spec.containers[${i}].env`, e.name,
            `sets ${e.name}, which Modelplane sets on Leader and Worker engines`, `Remove ${e.name} from the template`);
        }
        return { ...c, env: [...GANG_ENV, ...(c.env ?? [])] };
      }),
    },
  };
}

/**
 * The template with NIXL's KV-transfer plumbing, as Modelplane adds it to PrefillDecode serving pods: the side channel
 * on the pod's IP (unless the engine sets it), and a memory-backed `/dev/shm` (`nixl-shm`) when nothing else mounts one.
 */
function withNixl(t: k8s.PodTemplateSpec, sharedMemoryDefault: boolean): k8s.PodTemplateSpec {
  const spec = t.spec!;
  const [engine, ...rest] = spec.containers;
  const own = engine.env ?? [];
  const env: k8s.EnvVar[] = [
    { name: 'VLLM_NIXL_SIDE_CHANNEL_HOST', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'VLLM_NIXL_SIDE_CHANNEL_PORT', value: NIXL_SIDE_CHANNEL_PORT },
  ].filter(e => !own.some(x => x.name === e.name));
  const shm = !sharedMemoryDefault && !(engine.volumeMounts ?? []).some(m => m.mountPath === '/dev/shm');
  return {
    ...t,
    spec: {
      ...spec,
      containers: [{ ...engine, env: [...own, ...env], volumeMounts: shm ? [...(engine.volumeMounts ?? []), { name: 'nixl-shm', mountPath: '/dev/shm' }] : engine.volumeMounts }, ...rest],
      volumes: shm ? [...(spec.volumes ?? []), { name: 'nixl-shm', emptyDir: { medium: 'Memory', sizeLimit: k8s.Quantity.fromString(sharedMemorySize([engine])) } }] : spec.volumes,
    },
  };
}

/** The value of `--port=N` or `--port N` in a command line. */
function portFlag(args: readonly string[]): number | undefined {
  for (let i = 0; i < args.length; i++) {
    const value = args[i].startsWith('--port=') ? args[i].slice('--port='.length) : args[i] === '--port' ? args[i + 1] : undefined;
    if (value !== undefined && /^[0-9]+$/.test(value)) return Number(value);
  }
  return undefined;
}

/**
 * Where the decode engine listens behind the pd-sidecar: its `--port`, else 8001. Modelplane adds no flag, so an engine
 * without `--port` would contend with the sidecar for 8000: inferkit appends `--port=8001` to a vLLM-style engine (no
 * `command`), and warns.
 */
function decodeEngine(issues: Issues, field: string, engine: k8s.Container): { port: number; args?: string[] } {
  const args = engine.args ?? [];
  const given = portFlag(args);
  issues.check(given !== DEFAULT_ENGINE_PORT, `${field}.spec.containers[0].args`, args, `make the decode engine listen on ${DEFAULT_ENGINE_PORT}, the pd-sidecar's port`,
    `Give the decode engine --port=${DECODE_ENGINE_PORT}`);
  if (given !== undefined) return { port: given, args: engine.args };
  const f = `${field}.spec.containers[0].args`;
  if (engine.command) {
    issues.warn(f, args, `have no --port: behind the pd-sidecar on ${DEFAULT_ENGINE_PORT}, the decode engine must listen on ${DECODE_ENGINE_PORT}, `
      + 'and inferkit cannot tell where a custom command listens', `Make the command listen on ${DECODE_ENGINE_PORT}, or give --port`);
    return { port: DECODE_ENGINE_PORT, args: engine.args };
  }
  issues.warn(f, args, `have no --port: behind the pd-sidecar on ${DEFAULT_ENGINE_PORT}, the decode engine must listen on ${DECODE_ENGINE_PORT}, `
    + `and Modelplane adds no flag (the engine would contend with the sidecar for ${DEFAULT_ENGINE_PORT}); inferkit appends --port=${DECODE_ENGINE_PORT}`,
  `Add --port=${DECODE_ENGINE_PORT} to the decode engine's args`);
  return { port: DECODE_ENGINE_PORT, args: [...args, `--port=${DECODE_ENGINE_PORT}`] };
}

/** llm-d's routing sidecar on the serving port, forwarding to the decode engine on `enginePort` over NIXL. */
function pdSidecar(enginePort: number): k8s.Container {
  return {
    name: 'pd-sidecar',
    image: PD_SIDECAR_IMAGE,
    args: ['--secure-proxy=false', '--kv-connector=nixlv2', `--vllm-port=${enginePort}`],
    ports: [{ containerPort: DEFAULT_ENGINE_PORT }],
    readinessProbe: { httpGet: { path: '/health', port: k8s.IntOrString.fromNumber(DEFAULT_ENGINE_PORT) }, initialDelaySeconds: 30, periodSeconds: 10 },
    resources: addedContainerResources(),
  };
}
