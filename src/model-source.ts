import { Issues } from './errors';
import { isDnsSubdomain } from './names';

/** Where a model's weights come from (FlexInfer `spec.source`). */
export enum SourceKind {
  /** A Hugging Face repository, `hf://org/model` (any case of the scheme). */
  HUGGING_FACE = 'hf',
  /** A name in the Ollama registry, `ollama://model:tag`. */
  OLLAMA = 'ollama',
  /** A path inside the container, `file:///path`. */
  FILE = 'file',
  /** A path in a PersistentVolumeClaim, `pvc://claim/path`, mounted at /models. */
  PVC = 'pvc',
}

const HF_REPO = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;
const OLLAMA_NAME = /^[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?$/;

/**
 * A model source: a value, parsed and checked once.
 *
 * @example ModelSource.huggingFace('meta-llama/Meta-Llama-3-8B-Instruct')
 */
export class ModelSource {
  /** A Hugging Face repository such as `meta-llama/Meta-Llama-3-8B-Instruct`. */
  public static huggingFace(repo: string): ModelSource {
    return ModelSource.parse(`hf://${repo}`);
  }

  /** An Ollama registry name such as `llama3:8b`. */
  public static ollama(name: string): ModelSource {
    return ModelSource.parse(`ollama://${name}`);
  }

  /** An absolute path inside the container. */
  public static file(path: string): ModelSource {
    return ModelSource.parse(`file://${path}`);
  }

  /** A path inside a PersistentVolumeClaim, which is mounted at /models. */
  public static pvc(claimName: string, path: string = ''): ModelSource {
    return ModelSource.parse(`pvc://${claimName}${path ? `/${path.replace(/^\/+/, '')}` : ''}`);
  }

  /** Parses a source URI; throws with the accepted forms when it is not one. */
  public static parse(uri: string): ModelSource {
    const issues = new Issues('model source');
    const s = parseModelSource(issues, 'source', uri);
    issues.throwIfAny();
    return s!;
  }

  /** @internal */
  public static of(kind: SourceKind, uri: string, location: string, subPath?: string): ModelSource {
    return new ModelSource(kind, uri, location, subPath);
  }

  private constructor(
    /** The kind of source. */
    public readonly kind: SourceKind,
    /** The URI, with the scheme in lower case. */
    public readonly uri: string,
    /** Repository (hf), registry name (ollama), absolute path (file) or claim name (pvc). */
    public readonly location: string,
    /** Path inside the claim (pvc only), without a leading slash. */
    public readonly subPath: string = '',
  ) {}
}

/**
 * Parses and checks a source URI, recording an issue naming the accepted forms when it is not valid.
 * Returns undefined on error.
 */
export function parseModelSource(issues: Issues, field: string, uri: string): ModelSource | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(uri ?? '');
  const forms = 'hf://org/model, ollama://model:tag, file:///path or pvc://claim/path';
  if (!m) {
    issues.add(field, uri, 'is not a model source URI', `Use one of ${forms}`);
    return undefined;
  }
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  switch (scheme) {
    case 'hf':
      if (!issues.check(HF_REPO.test(rest), field, uri, 'does not name a Hugging Face repository', 'Write hf://<org>/<model>, such as hf://meta-llama/Meta-Llama-3-8B-Instruct')) return undefined;
      return ModelSource.of(SourceKind.HUGGING_FACE, `hf://${rest}`, rest);
    case 'ollama':
      if (!issues.check(OLLAMA_NAME.test(rest), field, uri, 'is not an Ollama model name', 'Write ollama://<model>:<tag>, such as ollama://llama3:8b')) return undefined;
      return ModelSource.of(SourceKind.OLLAMA, `ollama://${rest}`, rest);
    case 'file':
      if (!issues.check(rest.startsWith('/') && !rest.split('/').includes('..'), field, uri, 'is not an absolute path', 'Write file:///<absolute path>, such as file:///models/llama')) return undefined;
      return ModelSource.of(SourceKind.FILE, `file://${rest}`, rest);
    case 'pvc': {
      const [claim, ...path] = rest.split('/');
      if (!issues.check(isDnsSubdomain(claim) && !path.includes('..'), field, uri, 'does not name a PersistentVolumeClaim', 'Write pvc://<claim-name>/<path>, such as pvc://models/llama3')) return undefined;
      return ModelSource.of(SourceKind.PVC, `pvc://${rest}`, claim, path.join('/'));
    }
    default:
      issues.add(field, uri, `has the unknown scheme '${m[1]}'`, `Use one of ${forms}`);
      return undefined;
  }
}
