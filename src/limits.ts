/**
 * Limits on what inferkit reads and renders, so that hostile or mistaken input is refused with a message instead of
 * exhausting memory, the stack or the clock: the size, document count and nesting of input files, and the counts
 * that multiply into objects (InferGroups, role instances, predictors, replicas). Every count is also an int32, as
 * in the Kubernetes API, so no number loses precision on its way to the YAML.
 */
import * as fs from 'fs';
import { parseAllDocuments } from 'yaml';
import { Issues } from './errors';

/** Largest int32: the type of every count, port and replica number in the Kubernetes API. */
export const INT32_MAX = 2_147_483_647;

/** Largest input file: 4 MiB, well above any set of CRs (etcd keeps objects of at most 1.5 MiB). */
export const MAX_INPUT_BYTES = 4 * 1024 * 1024;

/** Most YAML documents read in one run, across all input files. */
export const MAX_DOCUMENTS = 1_000;

/** Deepest nesting of mappings and lists in one document (a pod template needs about 12). */
export const MAX_NESTING = 64;

/**
 * Most objects one count may multiply into: InferGroups of a ModelInfer, instances of a role, predictors of an
 * Inference, replicas of a ModelDeployment.
 */
export const MAX_OBJECT_COUNT = 1_000;

/** Most workload sets (role instances, predictors) one resource may render, its counts multiplied. */
export const MAX_WORKLOADS = 2_000;

/**
 * Records an issue when the counts of one resource multiply into more than {@link MAX_WORKLOADS} `what`; `product`
 * shows the multiplication, for the message.
 */
export function checkWorkloads(issues: Issues, field: string, value: unknown, product: string, total: number, what: string): boolean {
  return issues.check(total <= MAX_WORKLOADS, field, value, `makes ${product} = ${total} ${what}, more than inferkit's limit of ${MAX_WORKLOADS} per resource`,
    'Split it into several resources, or lower the counts');
}

/**
 * Records an issue unless `value` is an integer from `min` to `max` (an int32 by default); returns whether it is.
 * `what` names what the number counts, for the message.
 */
export function checkInteger(issues: Issues, field: string, value: unknown, what: string, min: number = 0, max: number = INT32_MAX): value is number {
  const fix = `Use ${min} to ${max} ${what}`;
  if (!issues.check(typeof value === 'number' && Number.isInteger(value) && value >= min, field, value, `is not a whole number of ${what}`, fix)) return false;
  const limit = max === INT32_MAX ? 'the largest int32 Kubernetes accepts' : "inferkit's limit";
  return issues.check((value as number) <= max, field, value, `is more than ${max}, ${limit}`, fix);
}

/**
 * Records an issue unless `value` is a count of objects inferkit renders (`min` to {@link MAX_OBJECT_COUNT}); returns
 * whether it is.
 */
export function checkObjectCount(issues: Issues, field: string, value: unknown, what: string, min: number = 0): value is number {
  return checkInteger(issues, field, value, what, min, MAX_OBJECT_COUNT);
}

/** The first `limit + 1` bytes of a file at most: a device such as /dev/zero never ends, a huge file is not read whole. */
function readAtMost(file: string, limit: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (let n = 1; n > 0 && length <= limit;) {
      n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      length += n;
    }
    return buffer.subarray(0, length);
  } finally {
    fs.closeSync(fd);
  }
}

/** The depth of the deepest mapping or list in `value`, walked without recursion; stops counting past `limit`. */
function nesting(value: unknown, limit: number): { depth: number; path: string } {
  const stack: Array<{ v: unknown; depth: number; path: string }> = [{ v: value, depth: 0, path: '' }];
  let deepest = { depth: 0, path: '' };
  while (stack.length > 0) {
    const { v, depth, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > deepest.depth) deepest = { depth: depth + 1, path };
    if (deepest.depth > limit) break;
    for (const [k, child] of Object.entries(v as object)) {
      stack.push({ v: child, depth: depth + 1, path: Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k });
    }
  }
  return deepest;
}

/**
 * Reads the YAML documents of one input file (empty ones skipped), within the limits: at most
 * {@link MAX_INPUT_BYTES}, {@link MAX_DOCUMENTS} documents counting the `alreadyRead` of earlier files, and
 * {@link MAX_NESTING} levels. Throws "Unable to read <file>: ..." with the limit and the fix otherwise.
 */
export function readManifestFile(file: string, alreadyRead: number = 0): Array<Record<string, unknown>> {
  const fail = (cause: string) => new Error(`Unable to read ${file}: ${cause}`);
  let bytes: Buffer;
  try {
    bytes = readAtMost(file, MAX_INPUT_BYTES);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw fail(`${code === 'ENOENT' ? 'there is no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}. Give the path of a YAML file.`);
  }
  if (bytes.length > MAX_INPUT_BYTES) {
    throw fail(`it is larger than ${MAX_INPUT_BYTES} bytes (4 MiB), inferkit's limit for one input file. Split it into several files, each given with -f.`);
  }
  const docs = parseAllDocuments(bytes.toString('utf8'));
  const all = Array.isArray(docs) ? docs : [];
  if (alreadyRead + all.length > MAX_DOCUMENTS) {
    const before = alreadyRead > 0 ? `, which with the ${alreadyRead} of the files before exceed` : ', more than';
    throw fail(`it holds ${all.length} YAML documents${before} inferkit's limit of ${MAX_DOCUMENTS} per run. Synthesize the manifests in several runs.`);
  }
  const out: Array<Record<string, unknown>> = [];
  all.forEach((d, i) => {
    const error = d.errors[0];
    if (error?.message.includes('call stack')) {
      throw fail(`document ${i + 1} nests mappings or lists deeper than inferkit's limit of ${MAX_NESTING} levels (${error.message.replace(/^.*call stack size exceeded /s, '').split(':')[0]}). `
        + 'Flatten it.');
    }
    if (error) throw fail(`${error.message.split('\n')[0]}. Fix the YAML syntax.`);
    const doc: unknown = d.toJS();
    if (doc === null || doc === undefined) return;
    const deepest = nesting(doc, MAX_NESTING);
    if (deepest.depth > MAX_NESTING) {
      throw fail(`document ${i + 1} nests mappings or lists deeper than inferkit's limit of ${MAX_NESTING} levels (at ${deepest.path}). Flatten it.`);
    }
    if (typeof doc !== 'object' || Array.isArray(doc)) {
      throw fail(`document ${i + 1} is ${Array.isArray(doc) ? 'a list' : `the ${typeof doc} ${JSON.stringify(doc).slice(0, 40)}`}, not a Kubernetes object. `
        + 'Write each document as a mapping with apiVersion, kind, metadata and spec.');
    }
    out.push(doc as Record<string, unknown>);
  });
  return out;
}
