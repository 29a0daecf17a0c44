#!/usr/bin/env node
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, ApiObjectProps, App, Chart, Names, Yaml } from 'cdk8s';
import { Construct } from 'constructs';
import { rollout } from './rollout';
import { status } from './status';
import { modelCacheProps } from '../constructs/model-cache';
import { ClusterObjects, placedAssignments } from '../constructs/model-replica';
import {
  FLEXINFER_MODEL_KIND, INFERENCE_CLASS_KIND, INFERENCE_CLUSTER_KIND, INFERENCE_KIND, InferenceService, isSimpleModelInfer, Manifest, Model,
  MODEL_CACHE_KIND, MODEL_DEPLOYMENT_KIND, MODEL_INFER_KINDS, MODEL_REPLICA_KIND, ModelDeployment, ModelInfer, ModelReplica, SpecError,
  GatewayRef, MODEL_VERSION_KIND, ModelCache, Warnings, WorkloadBackend, KTHENA_MODEL_KIND, MODEL_BOOSTER_KIND, KthenaModel, MODEL_SERVER_KINDS,
  ModelServer, MODEL_ROUTE_KINDS, ModelRoute, AUTOSCALING_POLICY_KINDS, AUTOSCALING_POLICY_BINDING_KIND, AutoscalingPolicy,
} from '../index';
import {
  checkFits, checkVramInput, estimateVram, findGpu, findModel, fleetInventory, formatIssue, formatWarning, GpuSpec, GPUS, Issues, KV_BYTES, KvDtype,
  loadInferenceClass, loadInferenceCluster, LoadedInferenceClass, LoadedInferenceCluster, LoadedModelVersion, loadModelCache, loadModelDeployment,
  LedgerEntry, ledgerOf, loadModelReplica, loadModelVersionManifest, MODEL_ARCHITECTURES, ModelArchitecture, seedSystemOf, show, SpecIssue,
  stagingClusters, VramBreakdown, VramInput,
  WEIGHT_BYTES, WeightDtype, withoutServerFields,
} from '../src';
import { loadAutoscalingPolicy, loadAutoscalingPolicyBinding, LoadedScaleTarget } from '../src/kthena-registry-manifest';
import { readManifestFile } from '../src/limits';
import { manifestRef } from '../src/names';

const USAGE = `Usage: inferkit synth -f <file.yaml> [-f <file.yaml> ...] [-o <dir>] [--backend StatefulSet|LeaderWorkerSet] [--strict]
                     [--gateway NAMESPACE/NAME]
       inferkit rollout -f <file.yaml|dir> [-f ...] --kubeconfig <file> [--context <name>] [--dry-run] [--progress-deadline <s>]
       inferkit status -f <file.yaml|dir> [-f ...] | KIND/NAME [-n <ns>] --kubeconfig <file> [-o table|json|yaml] [--watch]
       inferkit size --model <name> [--dtype bf16] [--kv-dtype bf16] [--context 8192] [--sequences 1] [--tp 1] [--gpu <name>]

Reads seed-system manifests (Kthena ModelInfer, ModelServing, registry Model, ModelBooster, AutoscalingPolicy and its binding,
ModelServer and ModelRoute; KubeDL Inference and ModelVersion; FlexInfer Model; Modelplane ModelReplica, ModelDeployment,
ModelCache, InferenceCluster and InferenceClass) and writes the plain Kubernetes objects
inferkit compiles them into: to stdout, or one <kind>-<name>.k8s.yaml file per manifest in <dir>. A ModelDeployment is
placed on the InferenceClusters given (their node pools' hardware from the InferenceClasses), and what each cluster
runs is written to <dir>/<cluster>/, as is each ModelReplica (by its spec.clusterName). Other Kubernetes objects in the
files (ConfigMaps, Secrets, ...) pass through unchanged; what the API server populates (uid, resourceVersion, status,
managedFields, ownerReferences, kubectl's last-applied annotation...) is ignored, and a v1 List is read item by item.

Where inferkit runs a manifest, but not exactly as its controller would, it prints a warning on stderr
("Warning: <Kind>/<name> <field>: <difference>. <fix>.") and still exits 0; --strict makes every warning an error
(exit 1, nothing written).

size prints the GPU memory one replica of a known model needs and, with --gpu, whether it fits (exit 1 when not).`;

/** Parsed command line of `inferkit synth`. */
export interface SynthArgs {
  readonly files: string[];
  readonly outdir?: string;
  readonly backend?: WorkloadBackend;
  /**
   * Every warning is an error: nothing is written unless the manifests run exactly as their controllers would.
   *
   * @default false
   */
  readonly strict?: boolean;
  /**
   * The Gateway that KubeDL Inferences' traffic-splitting HTTPRoutes, Kthena Models' routes and Kthena ModelRoutes
   * without `parentRefs` attach to (`--gateway NAMESPACE/NAME`).
   *
   * @default - none: an Inference's split holds only inside a service mesh, a Kthena Model is not routed (both with a
   * warning), and a ModelRoute without parentRefs is refused
   */
  readonly gateway?: GatewayRef;
}

/** Parses `synth` arguments; throws with the usage on anything it does not know. */
export function parseSynthArgs(argv: readonly string[]): SynthArgs {
  const files: string[] = [];
  let outdir: string | undefined;
  let backend: WorkloadBackend | undefined;
  let strict = false;
  let gateway: GatewayRef | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n\n${USAGE}`);
      return v;
    };
    if (a === '-f' || a === '--file') {files.push(value());} else if (a === '-o' || a === '--output') {outdir = value();} else if (a === '--backend') {
      const v = value();
      if (!Object.values(WorkloadBackend).includes(v as WorkloadBackend)) throw new Error(`--backend '${v}' is not a backend: use StatefulSet or LeaderWorkerSet`);
      backend = v as WorkloadBackend;
    } else if (a === '--strict') {strict = true;} else if (a === '--gateway') {
      const [namespace, name, ...rest] = value().split('/');
      if (!namespace || !name || rest.length > 0) throw new Error(`--gateway '${argv[i]}' is not NAMESPACE/NAME: give the Gateway's namespace and name, such as edge/public`);
      gateway = { namespace, name };
    } else {throw new Error(`unknown argument '${a}'\n\n${USAGE}`);}
  }
  if (files.length === 0) throw new Error(`no input: give at least one -f <file.yaml>\n\n${USAGE}`);
  return { files, outdir, backend, strict, gateway };
}

/**
 * Reads every YAML document of the files, in order, skipping empty ones; a list (`kind: List`, as `kubectl get -o yaml`
 * exports several objects) is read item by item, as `kubectl apply` does.
 */
export function readManifests(files: readonly string[]): Array<{ file: string; doc: Manifest }> {
  const out: Array<{ file: string; doc: Manifest }> = [];
  for (const file of files) {
    for (const doc of readManifestFile(file, out.length) as Manifest[]) {
      const isList = typeof doc.kind === 'string' && doc.kind.endsWith('List') && Array.isArray(doc.items);
      for (const item of isList ? doc.items as Manifest[] : [doc]) out.push({ file, doc: item });
    }
  }
  return out;
}

/** Hands an object's replicas to an autoscaling policy (`by`): the Deployment that runs it, or why none can be scaled. */
type ScaleRelease = (by: string) => { deployment: string } | { cause: string; fix: string };

/** What loaders share during one run: the options, and the manifests loaded so far that others refer to. */
interface LoadContext extends Pick<SynthArgs, 'backend' | 'gateway'> {
  /** KubeDL ModelVersions: Inference predictors load their images. */
  readonly modelVersions: LoadedModelVersion[];
  /** The devices the ModelDeployments placed so far hold: the next one is placed around them. */
  readonly ledger: LedgerEntry[];
  /** What an earlier run wrote, by cluster: its placements are kept where they still fit. */
  readonly previous: readonly ClusterObjects[];
  /** Models (FlexInfer's and Kthena's), by `<namespace>/<name>`: simple ModelInfers refer to them. */
  readonly models: Map<string, Model | KthenaModel>;
  /** Kthena ModelServers, given or made by Kthena Models: ModelRoutes target them. */
  readonly modelServers: ModelServer[];
  /** Kthena AutoscalingPolicies (checked), by `<namespace>/<name>`: bindings apply them. */
  readonly policies: Map<string, Manifest>;
  /**
   * What an autoscaling policy may target, by `<Kind>/<namespace>/<name>`: the Deployment that runs it, or why none can
   * be scaled.
   */
  readonly scaleTargets: Map<string, ScaleRelease>;
  /** The fleet ModelDeployments are placed on, as written and as loaded. */
  readonly fleet: {
    readonly clusters: Manifest[];
    readonly classes: Manifest[];
    readonly caches: Manifest[];
    readonly loadedClusters: LoadedInferenceCluster[];
    readonly loadedClasses: LoadedInferenceClass[];
    /** `<Kind>/<name>` of the fleet manifests that failed to load. */
    readonly failed: Set<string>;
  };
  /** A fleet manifest failed to load (its errors are reported): ModelDeployments are then checked, not placed. */
  fleetFailed: boolean;
}

/** Where one manifest's objects go: charts, each written to `<id>.k8s.yaml` in the output directory or a cluster's folder. */
interface LoadTarget {
  /** The app, for constructs that make their own charts (a ModelDeployment makes one per cluster). */
  readonly app: App;
  /** `<kind>-<name>`: the id of the manifest's constructs, and the name of its output files. */
  readonly id: string;
  /** A chart of the manifest's own, written to `<id>.k8s.yaml`, or `<folder>/<id>.k8s.yaml`. */
  chart(folder?: string): Chart;
  /** Writes a chart made by a construct to `<folder>/<id>.k8s.yaml`. */
  write(chart: Chart, folder: string): void;
}

/** A seed kind and how it loads into a construct. Each construct's loader is listed here. */
interface Loader {
  readonly kinds: ReadonlyArray<{ readonly apiVersion: string; readonly kind: string }>;
  /** Loaded before every other kind, which may refer to it in any order (Models, and the fleet of ModelDeployments). */
  readonly referenced?: boolean;
  /** Loaded after the kinds of lower rank, whose objects it refers to (autoscaling policies and their bindings). @default 1 */
  readonly rank?: number;
  load(target: LoadTarget, doc: Manifest, ctx: LoadContext): void;
}

const modelKey = (namespace: unknown, name: unknown) => `${typeof namespace === 'string' ? namespace : ''}/${String(name)}`;

/** Collects a fleet manifest once it loads; it renders nothing of its own. */
function collect<T>(load: (doc: Manifest) => T, written: (ctx: LoadContext) => Manifest[], loaded?: (ctx: LoadContext) => T[]) {
  return (_: LoadTarget, doc: Manifest, ctx: LoadContext) => {
    let value: T;
    try {
      value = load(doc);
    } catch (e) {
      ctx.fleetFailed = true;
      ctx.fleet.failed.add(manifestRef(doc));
      throw e;
    }
    written(ctx).push(doc);
    loaded?.(ctx).push(value);
  };
}

/** The key of a scalable object; an object without namespace is in `default`, as the messages say. */
const scaleKey = (kind: string, namespace: unknown, name: unknown) => `${kind}/${modelKey(typeof namespace === 'string' && namespace ? namespace : 'default', name)}`;

/** Registers the Deployments of a Kthena Model as the ModelInfer and ModelServing its controller would make, `<model>-<backend>`. */
function kthenaScaleTargets(ctx: LoadContext, model: KthenaModel): void {
  for (const [backend, deployment] of Object.entries(model.deployments)) {
    const release = (by: string) => model._scaledExternally(backend, by);
    for (const kind of ['ModelInfer', 'ModelServing', 'Deployment']) ctx.scaleTargets.set(scaleKey(kind, model.namespace, deployment), release);
  }
}

/** The HPA of an autoscaling policy over the Deployment its target resolves to; throws when the target has none. */
function renderPolicy(
  target: LoadTarget, ctx: LoadContext, doc: Manifest, policy: Manifest, name: string, t: LoadedScaleTarget, namespace: string | undefined,
): void {
  const found = ctx.scaleTargets.get(scaleKey(t.kind, t.namespace ?? namespace, t.name));
  const where = `Unable to synthesize ${manifestRef(doc)}`;
  if (!found) {
    throw new Error(`${where}: its target ${t.kind} '${t.name}' is none of the ModelInfers, ModelServings or Kthena Model backends in the given files. `
      + `Add the ${t.kind} (in namespace ${t.namespace ?? namespace ?? 'default'}) to the input, or name one that is.`);
  }
  const released = found(manifestRef(doc));
  if (!('deployment' in released)) throw new Error(`${where}: its target ${t.kind} '${t.name}' ${released.cause}. ${released.fix}.`);
  AutoscalingPolicy.fromManifest(target.chart(), 'policy', policy, { name, deployment: released.deployment, minReplicas: t.minReplicas, maxReplicas: t.maxReplicas });
}

/** Kubernetes' and KEDA's autoscalers: their `spec.scaleTargetRef` may name a seed kind that inferkit compiles away. */
const SCALER_KINDS = [
  { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler' },
  { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' },
];

/**
 * An HPA or a KEDA ScaledObject. One that scales a Deployment or any other plain kind passes through. One that scales a
 * ModelInfer, ModelServing or Kthena Model backend of the input scales the Deployment inferkit renders for it (the
 * workload its controller would scale), or is refused when there is none; one that scales another seed kind is
 * refused: nothing of that kind exists in the cluster.
 */
function loadScaler(target: LoadTarget, doc: Manifest, ctx: LoadContext): void {
  const ref = ((doc.spec as Manifest | undefined)?.scaleTargetRef ?? {}) as Manifest;
  // KEDA's scaleTargetRef defaults to apps/v1 Deployment; an HPA's names both.
  const apiVersion = typeof ref.apiVersion === 'string' ? ref.apiVersion : 'apps/v1';
  const system = seedSystemOf(apiVersion);
  if (!system) return PASS_THROUGH.load(target, doc, ctx);
  const namespace = ((doc.metadata ?? {}) as Manifest).namespace;
  const what = `spec.scaleTargetRef ${String(ref.kind)} '${String(ref.name)}' (${apiVersion})`;
  const found = ctx.scaleTargets.get(scaleKey(String(ref.kind), namespace, ref.name));
  if (!found) {
    throw new Error(`Unable to synthesize ${manifestRef(doc)}: ${what} is none of the ModelInfers, ModelServings or Kthena Model backends in the given `
      + `files, and inferkit compiles ${system} kinds into plain Kubernetes objects: nothing of that kind would exist to scale. `
      + `Add the ${String(ref.kind)} (in namespace ${typeof namespace === 'string' ? namespace : 'default'}) to the input, or scale a workload that exists.`);
  }
  const released = found(manifestRef(doc));
  if (!('deployment' in released)) throw new Error(`Unable to synthesize ${manifestRef(doc)}: ${what} ${released.cause}. ${released.fix}.`);
  const spec = { ...doc.spec as Manifest, scaleTargetRef: { ...ref, apiVersion: 'apps/v1', kind: 'Deployment', name: released.deployment } };
  new ApiObject(target.chart(), 'object', { ...doc, spec } as unknown as ApiObjectProps);
}

const LOADERS: readonly Loader[] = [
  {
    kinds: [KTHENA_MODEL_KIND, MODEL_BOOSTER_KIND],
    referenced: true,
    load: (target, doc, ctx) => {
      const model = KthenaModel.fromManifest(target.chart(), 'model', doc, { gateways: ctx.gateway ? [ctx.gateway] : undefined });
      ctx.models.set(modelKey(model.namespace, model.name), model);
      ctx.modelServers.push(...model.servers);
      kthenaScaleTargets(ctx, model);
    },
  },
  { kinds: MODEL_SERVER_KINDS, referenced: true, load: (target, doc, ctx) => { ctx.modelServers.push(ModelServer.fromManifest(target.chart(), 'server', doc)); } },
  {
    kinds: MODEL_ROUTE_KINDS,
    load: (target, doc, ctx) => ModelRoute.fromManifest(target.chart(), 'route', doc, { servers: ctx.modelServers, gateways: ctx.gateway ? [ctx.gateway] : undefined }),
  },
  {
    kinds: AUTOSCALING_POLICY_KINDS,
    rank: 2,
    load: (target, doc, ctx) => {
      const policy = loadAutoscalingPolicy(doc);
      ctx.policies.set(modelKey(policy.namespace, policy.name), doc);
      if (policy.target) renderPolicy(target, ctx, doc, doc, policy.name, policy.target, policy.namespace);
    },
  },
  // After the workloads they may scale, in any order.
  { kinds: SCALER_KINDS, rank: 2, load: loadScaler },
  {
    kinds: [AUTOSCALING_POLICY_BINDING_KIND],
    rank: 3,
    load: (target, doc, ctx) => {
      const binding = loadAutoscalingPolicyBinding(doc);
      const policy = ctx.policies.get(modelKey(binding.namespace, binding.policy));
      if (!policy) {
        throw new Error(`Unable to synthesize ${manifestRef(doc)}: spec.policyRef '${binding.policy}' names no AutoscalingPolicy in the given files. `
          + `Add the ${AUTOSCALING_POLICY_KINDS[0].apiVersion} AutoscalingPolicy (in namespace ${binding.namespace ?? 'default'}) to the input.`);
      }
      renderPolicy(target, ctx, doc, policy, binding.name, binding.target, binding.namespace);
    },
  },
  {
    kinds: [FLEXINFER_MODEL_KIND],
    referenced: true,
    load: (target, doc, ctx) => {
      const model = Model.fromManifest(target.chart(), 'model', doc);
      ctx.models.set(modelKey(model.namespace, model.name), model);
    },
  },
  {
    kinds: [INFERENCE_CLUSTER_KIND],
    referenced: true,
    load: collect(loadInferenceCluster, ctx => ctx.fleet.clusters, ctx => ctx.fleet.loadedClusters),
  },
  {
    kinds: [INFERENCE_CLASS_KIND],
    referenced: true,
    load: collect(loadInferenceClass, ctx => ctx.fleet.classes, ctx => ctx.fleet.loadedClasses),
  },
  { kinds: [MODEL_CACHE_KIND], referenced: true, load: collect(loadModelCache, ctx => ctx.fleet.caches) },
  {
    kinds: MODEL_INFER_KINDS,
    load: (target, doc, ctx) => {
      const meta = (doc.metadata ?? {}) as Manifest;
      if (!isSimpleModelInfer(doc)) {
        const groups = ModelInfer.fromManifest(target.chart(), 'model', doc, { backend: ctx.backend });
        ctx.scaleTargets.set(scaleKey(String(doc.kind), meta.namespace, meta.name), by => groups._scaledExternally(by));
        return;
      }
      const ref = ((doc.spec as Manifest).modelRef ?? {}) as Manifest;
      const model = ctx.models.get(modelKey(ref.namespace ?? meta.namespace, ref.name));
      if (!model) {
        const namespace = [ref.namespace, meta.namespace].find(n => typeof n === 'string') ?? 'default';
        throw new Error(typeof ref.name !== 'string' ? `Unable to synthesize ${manifestRef(doc)}: spec.modelRef.name is missing. Name the Model the ModelInfer runs.`
          : `Unable to synthesize ${manifestRef(doc)}: spec.modelRef '${ref.name}' names no Model in the given files. `
          + `Add its ${FLEXINFER_MODEL_KIND.apiVersion} Model (in namespace ${String(namespace)}) to the input.`);
      }
      const infer = ModelInfer.fromSimpleManifest(target.chart(), 'model', doc, model);
      ctx.scaleTargets.set(scaleKey('ModelInfer', meta.namespace, meta.name), by => infer._scaledExternally(by));
    },
  },
  { kinds: [MODEL_VERSION_KIND], referenced: true, load: (_, doc, ctx) => { ctx.modelVersions.push(loadModelVersionManifest(doc)); } },
  {
    kinds: [INFERENCE_KIND],
    load: (target, doc, ctx) => InferenceService.fromManifest(target.chart(), 'inference', doc, {
      modelVersions: ctx.modelVersions, gateways: ctx.gateway ? [ctx.gateway] : undefined,
    }),
  },
  {
    kinds: [MODEL_REPLICA_KIND],
    load: (target, doc, ctx) => {
      const replica = loadModelReplica(doc);
      const cluster = ctx.fleet.loadedClusters.find(c => c.name === replica.clusterName);
      ModelReplica.fromManifest(target.chart(replica.clusterName), 'replica', doc, { caches: ctx.fleet.caches, cacheStorageClassName: cluster?.cacheStorageClassName });
    },
  },
  {
    kinds: [MODEL_DEPLOYMENT_KIND],
    load: (target, doc, ctx) => {
      if (ctx.fleetFailed) {
        // The fleet's own errors are reported; the deployment's are still worth reporting with them.
        loadModelDeployment(doc);
        return;
      }
      const existing = placedAssignments(loadModelDeployment(doc), ctx.previous);
      const deployment = ModelDeployment.fromManifests(target.app, target.id, doc, { ...ctx.fleet, existing, ledger: ctx.ledger });
      for (const cluster of deployment.clusters) {
        target.write(deployment.clusterChart(cluster), cluster);
        ctx.ledger.push(...ledgerOf(cluster, deployment.clusterChart(cluster).toJson()));
      }
    },
  },
];

/** A kind inferkit does not compile: the object is written unchanged, in its namespace, unless it belongs to a seed system. */
const PASS_THROUGH: Loader = {
  kinds: [],
  load: (target, doc) => {
    const meta = (doc.metadata ?? {}) as Manifest;
    const where = `Unable to synthesize ${manifestRef(doc)}`;
    if (typeof doc.apiVersion !== 'string' || typeof doc.kind !== 'string' || doc.apiVersion === '' || doc.kind === '') {
      throw new Error(`${where}: the document has no apiVersion or kind, so it is not a Kubernetes object. Give both, or remove the document.`);
    }
    const system = seedSystemOf(doc.apiVersion);
    if (system) {
      const own = LOADERS.flatMap(l => l.kinds).filter(k => seedSystemOf(k.apiVersion) === system).map(k => `${k.apiVersion} ${k.kind}`);
      throw new Error(`${where}: apiVersion '${doc.apiVersion}' kind '${doc.kind}' is a ${system} kind that inferkit does not compile, `
        + `and without ${system}'s controller nothing would act on it. Remove it, or write what it asks as one of the ${system} kinds inferkit reads: ${own.join(', ')}.`);
    }
    if (typeof meta.name !== 'string' || meta.name === '') throw new Error(`${where}: metadata.name is missing. Name the object.`);
    new ApiObject(target.chart(), 'object', doc as unknown as ApiObjectProps);
  },
};

/** A warning of a synth run, with the file of the manifest it belongs to. */
export interface SynthWarning {
  readonly file: string;
  readonly warning: SpecIssue;
}

/** One file a synth run writes: its path under the output directory, and the chart it holds. */
export interface SynthOutput {
  readonly file: string;
  readonly chart: Chart;
}

/** What a synth run made: the app, the file each chart goes to, and the warnings, in input order. */
export interface SynthResult {
  readonly app: App;
  readonly outputs: readonly SynthOutput[];
  readonly warnings: readonly SynthWarning[];
}

/**
 * Compiles manifests into an App with one chart per manifest; a ModelDeployment makes one chart per cluster it is
 * placed on. Models and the fleet (InferenceClusters, InferenceClasses, ModelCaches) are loaded first, so that other
 * manifests can refer to them in any order. What the API server populates is ignored; other Kubernetes objects
 * pass through. Every manifest is tried, and all errors are reported together, with the warnings (with `strict`, as
 * errors).
 */
export function synthManifests(docs: ReadonlyArray<{ file: string; doc: Manifest }>, args: Pick<SynthArgs, 'backend' | 'strict' | 'gateway'> & { readonly previous?: readonly ClusterObjects[] } = {},
): SynthResult {
  const app = new App({ outputFileExtension: '.k8s.yaml' });
  const outputs: SynthOutput[] = [];
  const errors: string[] = [];
  const warnings: SynthWarning[] = [];
  const warned = new Set<string>();
  // The warnings recorded while a manifest loads are that manifest's.
  const collectWarnings = (file: string) => {
    for (const warning of Warnings.of(app).issues) {
      const text = formatWarning(warning);
      if (!warned.has(text)) warnings.push({ file, warning });
      warned.add(text);
    }
  };
  const seen = new Map<string, string>();
  /** The file of each `<kind>-<name>/<namespace>` loaded so far. */
  const defined = new Map<string, string>();
  const ctx: LoadContext = {
    backend: args.backend,
    gateway: args.gateway,
    modelVersions: [],
    ledger: [],
    previous: args.previous ?? [],
    models: new Map(),
    modelServers: [],
    policies: new Map(),
    scaleTargets: new Map(),
    fleet: { clusters: [], classes: [], caches: [], loadedClusters: [], loadedClasses: [], failed: new Set() },
    fleetFailed: false,
  };
  const rankOf = (l: Loader) => (l.referenced ? 0 : l.rank ?? 1);
  const loaderOf = (doc: Manifest) => LOADERS.find(l => l.kinds.some(k => k.apiVersion === doc.apiVersion && k.kind === doc.kind)) ?? PASS_THROUGH;
  const ordered = docs.map(({ file, doc }) => ({ file, doc: withoutServerFields(doc) }))
    .sort((a, b) => rankOf(loaderOf(a.doc)) - rankOf(loaderOf(b.doc)));
  let fleetChecked = false;
  for (const { file, doc } of ordered) {
    const loader = loaderOf(doc);
    if (!loader.referenced && !fleetChecked) {
      fleetChecked = true;
      errors.push(...checkFleet(ctx, seen));
    }
    const meta = (doc.metadata ?? {}) as Manifest;
    const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
    const plain = `${String(doc.kind).toLowerCase()}-${String(meta.name)}`;
    // One kind and name in two namespaces are two resources: the second one's construct and file names carry its namespace.
    const id = seen.has(plain) && !defined.has(`${plain}/${namespace ?? ''}`) ? `${plain}-${namespace ?? 'default'}` : plain;
    try {
      const twice = defined.get(`${plain}/${namespace ?? ''}`);
      if (twice !== undefined) {
        throw new Error(`Unable to synthesize ${manifestRef(doc)}: it is defined twice${namespace ? ` in namespace ${namespace}` : ''}, here and in ${twice}. `
          + 'Give each resource a unique name.');
      }
      defined.set(`${plain}/${namespace ?? ''}`, file);
      seen.set(id, file);
      // Named as App.synth names a top-level chart: the manifest's construct, whose id is `<kind>-<name>`.
      const add = (chart: Chart, folder?: string) =>
        outputs.push({ file: path.join(folder ?? '', `${Names.toDnsLabel(chart.node.scopes[1])}${app.outputFileExtension}`), chart });
      loader.load({
        app,
        id,
        chart: folder => {
          const chart = new Chart(app, id, { namespace });
          add(chart, folder);
          return chart;
        },
        write: add,
      }, doc, ctx);
    } catch (e) {
      errors.push(`${file}: ${(e as Error).message}`);
    }
    collectWarnings(file);
  }
  if (!fleetChecked) errors.push(...checkFleet(ctx, seen));
  if (!ctx.fleetFailed) outputs.push(...stageModelCaches(app, ctx, outputs));
  if (args.strict) errors.push(...warnings.map(strictError));
  if (errors.length > 0) throw new SpecErrorList(errors, args.strict ? [] : warnings.map(w => formatWarning(w.warning)));
  return { app, outputs, warnings };
}

/**
 * Stages every ModelCache on each cluster its selector matches, as Modelplane does whether or not a deployment uses it
 * yet: in `<cluster>/modelcache-<name>.k8s.yaml`, unless a manifest of the run stages its claim there already.
 */
function stageModelCaches(app: App, ctx: LoadContext, outputs: readonly SynthOutput[]): SynthOutput[] {
  const staged: SynthOutput[] = [];
  for (const doc of ctx.fleet.caches) {
    const cache = loadModelCache(doc);
    const namespace = cache.namespace ?? 'default';
    const claims = (o: SynthOutput, cluster: string) => path.dirname(o.file) === cluster && o.chart.toJson().some(x => x.kind === 'PersistentVolumeClaim'
      && x.metadata?.name === cache.name && (x.metadata?.namespace ?? 'default') === namespace);
    let scope: Construct | undefined;
    for (const cluster of stagingClusters(cache, ctx.fleet.loadedClusters)) {
      if (outputs.some(o => claims(o, cluster.name))) continue;
      scope ??= new Construct(app, `modelcache-${cache.name}`);
      const chart = new Chart(scope, cluster.name, { namespace });
      new ModelCache(chart, 'cache', { ...modelCacheProps(cache, cluster.cacheStorageClassName), namespace });
      staged.push({ file: path.join(cluster.name, `${Names.toDnsLabel(scope)}${app.outputFileExtension}`), chart });
    }
  }
  return staged;
}

/** The objects an earlier run wrote to `outdir`, by cluster folder: where its ModelDeployments' replicas were placed. */
export function readOutputs(outdir: string): ClusterObjects[] {
  if (!fs.existsSync(outdir)) return [];
  return fs.readdirSync(outdir, { withFileTypes: true }).filter(d => d.isDirectory()).map(d => d.name).sort().map(cluster => ({
    cluster,
    objects: fs.readdirSync(path.join(outdir, cluster)).filter(f => f.endsWith('.k8s.yaml')).sort()
      .flatMap(f => readManifestFile(path.join(outdir, cluster, f)) as Manifest[]),
  }));
}

/** A warning as `--strict` reports it: an error of its manifest's file. */
function strictError({ file, warning }: SynthWarning): string {
  const rest = formatWarning(warning).slice(`Warning: ${warning.path} `.length);
  return `${file}: Unable to synthesize ${warning.path} with --strict: ${rest}`;
}

/**
 * Checks that every InferenceCluster pool names an InferenceClass given (one that failed to load has its own errors);
 * returns the errors, each with its file.
 */
function checkFleet(ctx: LoadContext, files: ReadonlyMap<string, string>): string[] {
  try {
    fleetInventory(ctx.fleet.loadedClusters, ctx.fleet.loadedClasses);
    return [];
  } catch (e) {
    if (!(e instanceof SpecError)) throw e;
    ctx.fleetFailed = true;
    return e.issues.filter(issue => !ctx.fleet.failed.has(`InferenceClass/${String(issue.value)}`)).map(issue => {
      const [kind, name] = issue.path.split('/');
      return `${files.get(`${kind.toLowerCase()}-${name}`)}: ${formatIssue(issue)}`;
    });
  }
}

/** Writes each output's chart to its file under `outdir`, in order; returns the number of files. */
export function writeOutputs(result: SynthResult, outdir: string): number {
  for (const { file, chart } of result.outputs) {
    const target = path.join(outdir, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    Yaml.save(target, chart.toJson());
  }
  return result.outputs.length;
}

/** Every error of a synth run, one per line, and its warnings (printed before the errors). */
export class SpecErrorList extends Error {
  constructor(public readonly errors: readonly string[], public readonly warnings: readonly string[] = []) {
    super(errors.join('\n'));
    this.name = 'SpecErrorList';
  }
}

/** Parsed command line of `inferkit size`. */
export interface SizeArgs {
  /** The known model to size. */
  readonly model: ModelArchitecture;
  /** Formats, context, sequences and tensor parallelism, as given. */
  readonly input: VramInput;
  /** The GPU to check the fit against, if given. */
  readonly gpu?: GpuSpec;
}

/** `size` flags and the sizing field each sets. */
const SIZE_FLAGS: Readonly<Record<string, string>> = {
  '--model': 'model', '--dtype': 'dtype', '--kv-dtype': 'kvDtype', '--context': 'contextTokens', '--sequences': 'sequences', '--tp': 'tensorParallel', '--gpu': 'gpu',
};

/** Parses `size` arguments; throws naming the known models, GPUs or formats on anything it does not know. */
export function parseSizeArgs(argv: readonly string[]): SizeArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (SIZE_FLAGS[argv[i]] === undefined) throw new Error(`unknown argument '${argv[i]}'\n\n${USAGE}`);
    if (argv[i + 1] === undefined) throw new Error(`${argv[i]} needs a value\n\n${USAGE}`);
    values.set(argv[i], argv[i + 1]);
  }
  const known = (what: string, names: readonly string[]) => `known ${what} are ${names.join(', ')}`;
  const name = values.get('--model');
  if (name === undefined) throw new Error(`no model: give --model <name>; ${known('models', MODEL_ARCHITECTURES.map(m => m.name))}`);
  const model = findModel(name);
  if (!model) throw new Error(`unknown model '${name}': ${known('models', MODEL_ARCHITECTURES.map(m => m.name))}`);
  const gpuName = values.get('--gpu');
  const gpu = gpuName === undefined ? undefined : findGpu(gpuName);
  if (gpuName !== undefined && !gpu) throw new Error(`unknown GPU '${gpuName}': ${known('GPUs', GPUS.map(g => g.name))}`);
  const format = <T extends string>(flag: string, table: Readonly<Record<T, number>>): T | undefined => {
    const v = values.get(flag);
    if (v !== undefined && !Object.keys(table).includes(v)) throw new Error(`${flag} '${v}' is not a format: ${known('formats', Object.keys(table))}`);
    return v as T | undefined;
  };
  const whole = (flag: string): number | undefined => {
    const v = values.get(flag);
    if (v !== undefined && !/^[1-9][0-9]*$/.test(v)) throw new Error(`${flag} '${v}' is not a positive whole number`);
    return v === undefined ? undefined : Number(v);
  };
  const input: VramInput = {
    model,
    dtype: format<WeightDtype>('--dtype', WEIGHT_BYTES),
    kvDtype: format<KvDtype>('--kv-dtype', KV_BYTES),
    contextTokens: whole('--context'),
    sequences: whole('--sequences'),
    tensorParallel: whole('--tp'),
  };
  const flagOf = (field: string) => Object.keys(SIZE_FLAGS).find(f => SIZE_FLAGS[f] === field) ?? field;
  const issues = new Issues(model.name, flagOf);
  checkVramInput(issues, '', input);
  if (issues.all.length > 0) throw new Error(issues.all.map(i => `${i.field} ${show(i.value)} ${i.cause}. ${i.fix}.`).join('\n'));
  return { model, input, gpu };
}

const GiB = 1024 ** 3;
const grouped = (text: string) => {
  const [whole, fraction] = text.split('.');
  return whole.replace(/\B(?=(\d{3})+$)/g, ',') + (fraction === undefined ? '' : `.${fraction}`);
};

/** The breakdown as a table: bytes, MiB and GiB of each part. */
export function formatBreakdown(model: ModelArchitecture, b: VramBreakdown): string {
  const r = b.input;
  const rows: Array<[string, number]> = [
    ['weights', b.weights.bytes],
    [`KV cache per token (${b.kvPerToken.bytes / 1024} KiB)`, b.kvPerToken.bytes],
    [`KV cache (${r.sequences} x ${r.contextTokens} tokens)`, b.kvCache.bytes],
    ['overhead per GPU', b.overheadPerGpu.bytes],
    ['per GPU', b.perGpu.bytes],
    [`total (${r.tensorParallel} GPU${r.tensorParallel > 1 ? 's' : ''})`, b.total.bytes],
  ];
  const cells = [['', 'bytes', 'MiB', 'GiB'], ...rows.map(([label, bytes]) => [label, grouped(String(bytes)),
    grouped((bytes / 1024 ** 2).toFixed(2)), (bytes / GiB).toFixed(2)])];
  const widths = [0, 1, 2, 3].map(c => Math.max(...cells.map(row => row[c].length)));
  const lines = cells.map(row => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
  return [
    `${model.name} (${model.huggingFaceId}), ${(model.parameters / 1e9).toFixed(2)}B parameters`,
    `${r.dtype} weights, ${r.kvDtype} KV cache, tensor parallelism ${r.tensorParallel}, overhead ${r.overhead.fixedMiB} MiB + ${r.overhead.fraction * 100}% per GPU`,
    '',
    ...lines,
    '',
  ].join('\n');
}

/** Runs `inferkit size`: the table on `out`; with a GPU, whether it fits, and exit 1 with the shortfall when not. */
function size(argv: readonly string[], out: Write, err: Write): number {
  const { model, input, gpu } = parseSizeArgs(argv);
  const breakdown = estimateVram(input);
  out(formatBreakdown(model, breakdown));
  if (!gpu) return 0;
  const issues = new Issues(model.name);
  checkFits(issues, 'gpu', breakdown, gpu, breakdown.input.tensorParallel);
  if (issues.all.length > 0) {
    err(`does not fit: ${issues.all[0].cause}. ${issues.all[0].fix}.\n`);
    return 1;
  }
  const free = gpu.memoryMiB * 1024 ** 2 - breakdown.perGpu.bytes;
  out(`fits: ${(breakdown.perGpu.bytes / GiB).toFixed(2)} GiB per GPU on ${breakdown.input.tensorParallel} x ${gpu.name} of ` +
    `${(gpu.memoryMiB / 1024).toFixed(2)} GiB each (${(free / GiB).toFixed(2)} GiB free on each)\n`);
  return 0;
}

type Write = (s: string) => void;

/**
 * Runs `inferkit synth`: the objects to stdout or `-o DIR`, the warnings on stderr (exit 0); with `--strict`, or on
 * any error, nothing is written and the exit code is 1.
 */
function synth(argv: readonly string[], out: Write, err: Write): number {
  const args = parseSynthArgs(argv);
  let result: SynthResult;
  try {
    result = synthManifests(readManifests(args.files), { ...args, previous: args.outdir ? readOutputs(args.outdir) : [] });
  } catch (e) {
    if (!(e instanceof SpecErrorList)) throw e;
    for (const w of e.warnings) err(`${w}\n`);
    err(`${e.message}\n`);
    return 1;
  }
  for (const { warning } of result.warnings) err(`${formatWarning(warning)}\n`);
  if (args.outdir) {
    fs.mkdirSync(path.resolve(args.outdir), { recursive: true });
    err(`wrote ${writeOutputs(result, args.outdir)} file(s) to ${args.outdir}\n`);
  } else {
    // One stream is applied to one cluster: the shares of several clusters must not be mixed in it.
    const clusters = [...new Set(result.outputs.map(o => path.dirname(o.file)).filter(d => d !== '.'))].sort();
    if (clusters.length > 1) {
      throw new Error(`the manifests are placed on ${clusters.length} clusters (${clusters.join(', ')}), which one stream cannot tell apart. `
        + 'Give -o DIR to write a folder per cluster.');
    }
    out(result.app.synthYaml());
  }
  return 0;
}

/** The commands, by name: each runs with its arguments and returns the exit code. */
const COMMANDS: ReadonlyMap<string, (argv: readonly string[], out: Write, err: Write) => number> = new Map([['synth', synth], ['size', size]]);

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], out: Write = s => process.stdout.write(s), err: Write = s => process.stderr.write(s)): number {
  const [command, ...rest] = argv;
  const run = command === undefined ? undefined : COMMANDS.get(command);
  if (!run) {
    err(`${command === undefined ? 'no command' : `unknown command '${command}'`}\n\n${USAGE}\n`);
    return 2;
  }
  try {
    return run(rest, out, err);
  } catch (e) {
    err(`${e instanceof SpecError ? '' : 'error: '}${(e as Error).message}\n`);
    return 1;
  }
}

/** A synth run of `files` for `rollout` and `status`, its warnings on stderr. */
function synthRun(files: string[], backend: string | undefined): SynthResult {
  const chosen = Object.values(WorkloadBackend).find(v => v === backend);
  if (backend !== undefined && !chosen) throw new Error(`--backend '${backend}' is not a backend: use StatefulSet or LeaderWorkerSet`);
  const result = synthManifests(readManifests(files), { backend: chosen });
  for (const w of result.warnings) process.stderr.write(`${formatWarning(w.warning)}\n`);
  return result;
}

/** The objects a synth run of `files` makes, for `rollout`: one cluster's (a fleet is rolled by its Pulumi component). */
function synthObjects(files: string[], backend: string | undefined): Array<Record<string, any>> {
  const result = synthRun(files, backend);
  const clusters = [...new Set(result.outputs.map(o => path.dirname(o.file)).filter(d => d !== '.'))];
  if (clusters.length > 0) {
    throw new Error(`the input places replicas on clusters (${clusters.sort().join(', ')}): inferkit rollout rolls one cluster. `
      + 'Roll a fleet with the Pulumi ModelDeployment component, or give one cluster\'s synth output folder.');
  }
  return result.outputs.flatMap(o => o.chart.toJson());
}

/** Runs the CLI, the commands that talk to a cluster included; resolves to the exit code. */
export async function mainAsync(
  argv: readonly string[], out: Write = s => process.stdout.write(s), err: Write = s => process.stderr.write(s),
): Promise<number> {
  if (argv[0] !== 'rollout' && argv[0] !== 'status') return main(argv, out, err);
  try {
    if (argv[0] === 'status') return await status(argv.slice(1), (files, backend) => synthRun(files, backend).outputs.flatMap(o => o.chart.toJson()), out, err);
    return await rollout(argv.slice(1), synthObjects, out, err);
  } catch (e) {
    err(`${e instanceof SpecError ? '' : 'error: '}${(e as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void mainAsync(process.argv.slice(2)).then(code => { process.exitCode = code; });
}
