import { k8s } from 'cdk8s-plus-34';

/** The image and version of the Hugging Face downloader every prefetch and hydration step uses. */
const HF_DOWNLOADER = { image: 'python:3.12-slim', huggingFaceHub: '0.34.4' };
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
}

/** A container that downloads a repository snapshot with a pinned `huggingface_hub`, installed at start. */
export function hfDownloadContainer(name: string, d: HfDownload): k8s.Container {
  return {
    name,
    image: HF_DOWNLOADER.image,
    command: ['sh', '-c', `pip install --quiet --no-cache-dir --target /tmp/pylib huggingface_hub==${HF_DOWNLOADER.huggingFaceHub} && PYTHONPATH=/tmp/pylib python -c "$SCRIPT"`],
    env: [
      { name: 'SCRIPT', value: SCRIPT },
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
  };
}
