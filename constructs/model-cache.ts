import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { checkName, Issues, LoadedModelCache, NameRule } from '../src';
import { hfDownloadContainer } from './_hf-download';
import { objectMeta, ObjectMetadataProps } from './_metadata';
import { renderPodTemplate, resolvePodDefaults } from './_pod-template';
import { PodDefaults } from './pod-defaults';

/** A Secret key, such as the Hugging Face token of a gated repository. */
export interface CacheSecretRef {
  readonly name: string;
  /** @default 'HF_TOKEN' */
  readonly key?: string;
}

/** Props of a {@link ModelCache}, after Modelplane's ModelCache (`source: HuggingFace`). */
export interface ModelCacheProps {
  /**
   * Name of the PersistentVolumeClaim and the prefix of the hydration Job.
   *
   * @default - the construct id
   */
  readonly name?: string;

  /**
   * Namespace of the objects.
   *
   * @default - the chart's namespace
   */
  readonly namespace?: string;

  /** Hugging Face repository id, such as `Qwen/Qwen3-8B`. */
  readonly repo: string;

  /**
   * Branch, tag or commit.
   *
   * @default - the repository's default branch
   */
  readonly revision?: string;

  /**
   * The Secret holding a Hugging Face token, for gated or private repositories.
   *
   * @default - anonymous download
   */
  readonly authSecret?: CacheSecretRef;

  /** Capacity of the claim in GiB, 1 to 100000. */
  readonly sizeGiB: number;

  /**
   * A ReadWriteMany StorageClass (Modelplane InferenceCluster `existing.cache.storageClassName`).
   *
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;

  /**
   * GPU-first pod defaults of the hydration Job (restricted security context).
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
}

/** The props of a loaded Modelplane ModelCache, staged with `storageClassName`. */
export function modelCacheProps(cache: LoadedModelCache, storageClassName?: string): ModelCacheProps {
  return { name: cache.name, repo: cache.repo, revision: cache.revision, authSecret: cache.authSecret, sizeGiB: cache.sizeGiB, storageClassName };
}

const MAX_SIZE_GIB = 100_000;
const VOLUME = 'model-cache';

/** How {@link ModelCache.mountInto} mounts the cache into an engine. */
export interface CacheMountOptions {
  /**
   * Point the engine at the cache with `--model=/mnt/models`, as Modelplane does for a serving engine (a Standalone
   * member, or a Leader): appended to its args unless it has a `command` or already names a `--model`.
   *
   * @default false
   */
  readonly modelArg?: boolean;
}

/**
 * A model staged once per cluster and shared by every engine pod there, as Modelplane stages a ModelCache: a
 * ReadWriteMany PersistentVolumeClaim, filled by a hydration Job with the repository's files as they are (`hf download
 * --local-dir`), mounted read-write at `/mnt/models` in every engine container; a serving engine is started with
 * `--model=/mnt/models` (see {@link ModelCache.mountInto}).
 */
export class ModelCache extends Construct {
  /** Where engine pods and the hydration Job mount the claim (Modelplane's `CACHE_MOUNT_PATH`). */
  public static readonly MOUNT_PATH = '/mnt/models';

  /** Name of the PersistentVolumeClaim. */
  public readonly claimName: string;
  /** The Hugging Face repository staged. */
  public readonly repo: string;

  constructor(scope: Construct, id: string, props: ModelCacheProps) {
    super(scope, id);
    this.claimName = props.name ?? id;
    this.repo = props.repo;
    const namespace = props.namespace ?? Chart.of(this).namespace;
    const issues = new Issues(this.node.path);
    checkName(issues, 'name', this.claimName, NameRule.DNS1123_LABEL, 63 - '-hydrate'.length);
    issues.check(/^[\w.-]+\/[\w.-]+$/.test(props.repo ?? ''), 'repo', props.repo, 'is not a Hugging Face repository id', 'Give <owner>/<name>, such as Qwen/Qwen3-8B');
    issues.check(Number.isInteger(props.sizeGiB) && props.sizeGiB >= 1 && props.sizeGiB <= MAX_SIZE_GIB, 'sizeGiB', props.sizeGiB,
      `is outside 1 to ${MAX_SIZE_GIB}`, 'Give the staged size in whole GiB, with room for the largest revision');
    issues.check(props.authSecret === undefined || !!props.authSecret.name, 'authSecret.name', props.authSecret?.name, 'is empty', 'Name the Secret holding the token');
    issues.throwIfAny();

    const labels = { 'modelplane.ai/model-cache': this.claimName };
    new k8s.KubePersistentVolumeClaim(this, 'claim', {
      metadata: objectMeta(this.claimName, namespace, props.metadata, labels),
      spec: {
        accessModes: ['ReadWriteMany'],
        storageClassName: props.storageClassName,
        resources: { requests: { storage: k8s.Quantity.fromString(`${props.sizeGiB}Gi`) } },
      },
    });
    const download = hfDownloadContainer('hydrate', {
      repo: props.repo,
      revision: props.revision,
      modelDir: ModelCache.MOUNT_PATH,
      token: props.authSecret && { name: props.authSecret.name, key: props.authSecret.key ?? 'HF_TOKEN' },
      volumeMounts: [{ name: VOLUME, mountPath: ModelCache.MOUNT_PATH }],
      image: resolvePodDefaults(props.podDefaults).downloaderImage,
    });
    new k8s.KubeJob(this, 'hydrate', {
      metadata: objectMeta(`${this.claimName}-hydrate`, namespace, props.metadata, labels),
      spec: {
        backoffLimit: 4,
        template: renderPodTemplate(
          { metadata: { labels }, spec: { restartPolicy: 'OnFailure', containers: [download], volumes: [{ name: VOLUME, persistentVolumeClaim: { claimName: this.claimName } }] } },
          { labels: {}, annotations: {}, env: [], topologySpreadConstraints: [] },
          { ...resolvePodDefaults(props.podDefaults), startupProbeSeconds: false, sharedMemory: false }, issues, 'hydrate'),
      },
    });
    issues.throwIfAny();
  }

  /**
   * The template with the cache mounted at `/mnt/models` into its containers (read-write, as Modelplane mounts it), and
   * with `modelArg`, `--model=/mnt/models` appended to the args of an engine that has no `command` and no `--model`.
   */
  public mountInto(template: k8s.PodTemplateSpec, options: CacheMountOptions = {}): k8s.PodTemplateSpec {
    const spec = template.spec!;
    const pointed = (c: k8s.Container) => options.modelArg && !c.command && !(c.args ?? []).some(a => a === '--model' || a.startsWith('--model='));
    return {
      ...template,
      spec: {
        ...spec,
        containers: spec.containers.map(c => ({
          ...c,
          args: pointed(c) ? [...(c.args ?? []), `--model=${ModelCache.MOUNT_PATH}`] : c.args,
          volumeMounts: [...(c.volumeMounts ?? []), { name: VOLUME, mountPath: ModelCache.MOUNT_PATH }],
        })),
        volumes: [...(spec.volumes ?? []), { name: VOLUME, persistentVolumeClaim: { claimName: this.claimName } }],
      },
    };
  }
}
