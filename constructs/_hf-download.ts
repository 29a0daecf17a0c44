import { k8s } from 'cdk8s-plus-34';

/**
 * The image every prefetch and hydration step downloads with unless `podDefaults.downloaderImage` says otherwise:
 * KServe's storage initializer, a maintained image that ships Python and `huggingface_hub` (its `kserve-storage`
 * package downloads `hf://` URIs with it) and runs as uid 1000. Nothing is installed when the pod starts.
 *
 * @see https://github.com/kserve/kserve/tree/master/python/storage
 */
export const HF_DOWNLOADER_IMAGE = 'kserve/storage-initializer:v0.15.2';

/**
 * What each container inferkit adds beside the user's (downloads, sidecars) asks the scheduler for: enough for a
 * download or a proxy, so the pod is never BestEffort. No limits, as for the engines.
 */
export const ADDED_CONTAINER_REQUESTS: Readonly<Record<string, string>> = { cpu: '250m', memory: '512Mi' };

/** {@link ADDED_CONTAINER_REQUESTS} as the container's `resources`. */
export function addedContainerResources(): k8s.ResourceRequirements {
  return { requests: Object.fromEntries(Object.entries(ADDED_CONTAINER_REQUESTS).map(([k, v]) => [k, k8s.Quantity.fromString(v)])) };
}

// Without MODEL_DIR the snapshot goes into the Hugging Face cache under $HF_HOME, where engines find it by repo id.
const SCRIPT = [
  'import json, os',
  'from huggingface_hub import snapshot_download',
  "snapshot_download(repo_id=os.environ['HF_REPO'], revision=os.environ.get('HF_REVISION') or None, local_dir=os.environ.get('MODEL_DIR') or None,",
  "  allow_patterns=json.loads(os.environ['HF_ALLOW']), ignore_patterns=json.loads(os.environ['HF_IGNORE']))",
].join('\n');

/** What to download from the Hugging Face Hub, and where. */
export interface HfDownload {
  readonly repo: string;
  /** @default - the repository's default branch */
  readonly revision?: string;
  /** @default - every file */
  readonly allow?: string[] | null;
  /** @default - none */
  readonly ignore?: string[] | null;
  /** Files go to this folder as they are in the repository. @default - the Hugging Face cache under `hfHome` */
  readonly modelDir?: string;
  /** `HF_HOME`, the cache root. @default - the pod's (the cache volume of the pod defaults) */
  readonly hfHome?: string;
  /** The Secret key holding a token for gated or private repositories. @default - anonymous */
  readonly token?: { readonly name: string; readonly key: string };
  readonly volumeMounts: k8s.VolumeMount[];
  /** An image with Python and `huggingface_hub`. @default HF_DOWNLOADER_IMAGE */
  readonly image?: string;
}

/**
 * A container that downloads a repository snapshot with the `huggingface_hub` of its image (nothing installed at
 * start), asking for {@link ADDED_CONTAINER_REQUESTS}.
 */
export function hfDownloadContainer(name: string, d: HfDownload): k8s.Container {
  return {
    name,
    image: d.image ?? HF_DOWNLOADER_IMAGE,
    command: ['python', '-c', SCRIPT],
    env: [
      { name: 'HOME', value: '/tmp' },
      ...(d.hfHome ? [{ name: 'HF_HOME', value: d.hfHome }] : []),
      { name: 'HF_REPO', value: d.repo },
      { name: 'HF_REVISION', value: d.revision ?? '' },
      { name: 'HF_ALLOW', value: JSON.stringify(d.allow ?? null) },
      { name: 'HF_IGNORE', value: JSON.stringify(d.ignore ?? null) },
      ...(d.modelDir ? [{ name: 'MODEL_DIR', value: d.modelDir }] : []),
      ...(d.token ? [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: d.token.name, key: d.token.key } } }] : []),
    ],
    volumeMounts: d.volumeMounts,
    resources: addedContainerResources(),
  };
}
