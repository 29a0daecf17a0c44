import { createHash } from 'crypto';

/** Orders strings by code unit, whatever the locale: the one order every sorted output of inferkit uses. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * JSON with object keys sorted at every level, so that two equal values give the same text
 * whatever order their keys were written in. `undefined` members are left out, as JSON does.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(v => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter(k => obj[k] !== undefined).sort();
  return `{${keys.map(k => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** Length of a revision hash: the length Kubernetes uses for `pod-template-hash`. */
export const REVISION_HASH_LENGTH = 10;

/** A short, stable hash of a value's canonical JSON. */
export function stableHash(value: unknown, length: number = REVISION_HASH_LENGTH): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, length);
}

/** Keys that count replicas; a revision must not change when only they change. */
const REPLICA_KEYS = new Set(['replicas']);

function withoutReplicaCounts(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withoutReplicaCounts);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!REPLICA_KEYS.has(k)) out[k] = withoutReplicaCounts(v);
  }
  return out;
}

/**
 * The revision of a group template: a hash of its canonical JSON with every `replicas` member removed,
 * so that scaling groups or role instances never looks like a new revision, while any change to a pod
 * template or to the shape of a role instance (its worker count) does.
 */
export function revisionHash(groupTemplate: unknown): string {
  return stableHash(withoutReplicaCounts(groupTemplate));
}

/**
 * A value a dynamic resource keeps as canonical JSON text (one string property: hundreds of objects as nested
 * properties cost the engine seconds to pass and compare), parsed; a state written before it was text holds the value
 * itself, which is returned as it is.
 */
export function fromStoredText<T>(stored: string | T | undefined, empty: T): T {
  return typeof stored === 'string' ? JSON.parse(stored) as T : stored ?? empty;
}

/**
 * The inputs of a dynamic resource whose canonical JSON differs between its state and its new inputs, for its `diff`.
 * Those in `texts` are kept as canonical JSON text ({@link fromStoredText}), so that a value stored before as itself
 * equals the same value as text.
 */
export function changedInputs(
  olds: Record<string, unknown>, news: Record<string, unknown>, keys: readonly string[], texts: readonly string[] = [],
): string[] {
  const canonical = (inputs: Record<string, unknown>, k: string) => (texts.includes(k) && typeof inputs[k] === 'string'
    ? inputs[k] as string : canonicalJson(inputs[k] ?? (texts.includes(k) ? [] : null)));
  return [...keys, ...texts].filter(k => canonical(olds, k) !== canonical(news, k));
}
