import { Issues } from './errors';

/** Longest DNS-1123 / DNS-1035 label, and so longest name of most Kubernetes objects. */
export const MAX_NAME_LENGTH = 63;

/**
 * Longest StatefulSet name: the controller labels each pod with `controller-revision-hash: <name>-<hash>`,
 * and that label value must fit in 63 characters.
 */
export const MAX_STATEFULSET_NAME_LENGTH = 52;

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Longest DNS-1123 subdomain: the name of most cluster objects (Gateways, claims, clusters). */
export const MAX_SUBDOMAIN_LENGTH = 253;

/** Rules a generated name must follow. */
export enum NameRule {
  /** Lower-case alphanumerics and '-', starting and ending alphanumeric (pods, StatefulSets, PodGroups). */
  DNS1123_LABEL = 'DNS-1123 label',
  /** Like DNS-1123 but starting with a letter (Services). */
  DNS1035_LABEL = 'DNS-1035 label',
  /** DNS-1123 labels joined by '.', at most 253 characters (most other objects). */
  DNS1123_SUBDOMAIN = 'DNS-1123 subdomain',
}

/** Whether `name` is a DNS-1123 subdomain of at most 253 characters. */
export function isDnsSubdomain(name: string): boolean {
  return typeof name === 'string' && name.length <= MAX_SUBDOMAIN_LENGTH && SUBDOMAIN.test(name);
}

/** Returns why `name` breaks `rule` or exceeds `maxLength`, or undefined when it is valid. */
export function nameProblem(name: string, rule: NameRule, maxLength?: number): string | undefined {
  const max = maxLength ?? (rule === NameRule.DNS1123_SUBDOMAIN ? MAX_SUBDOMAIN_LENGTH : MAX_NAME_LENGTH);
  if (name.length > max) return `is ${name.length} characters long, more than ${max}`;
  const re = rule === NameRule.DNS1035_LABEL ? DNS1035 : rule === NameRule.DNS1123_SUBDOMAIN ? SUBDOMAIN : DNS1123;
  if (!re.test(name)) {
    return rule === NameRule.DNS1035_LABEL ? 'is not a DNS-1035 label (lower-case letters, digits and \'-\', starting with a letter, ending alphanumeric)'
      : rule === NameRule.DNS1123_SUBDOMAIN ? 'is not a DNS-1123 subdomain (lower-case letters, digits, \'-\' and \'.\', each part starting and ending alphanumeric)'
        : 'is not a DNS-1123 label (lower-case letters, digits and \'-\', starting and ending alphanumeric)';
  }
  return undefined;
}

const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** A label key: an optional DNS-subdomain prefix and '/', then a name of at most 63 characters. */
export function checkLabelKey(issues: Issues, field: string, key: string): boolean {
  const slash = typeof key === 'string' ? key.lastIndexOf('/') : -1;
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = typeof key === 'string' ? key.slice(slash + 1) : '';
  const ok = name.length <= MAX_NAME_LENGTH && LABEL_NAME.test(name) && (prefix === undefined || isDnsSubdomain(prefix));
  return issues.check(ok, field, key,
    'is not a label key (an optional DNS subdomain and \'/\', then up to 63 letters, digits, \'-\', \'_\' or \'.\', starting and ending alphanumeric)',
    'Use a key such as \'app\' or \'llm-d.ai/role\'');
}

/** A label value: empty, or up to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric. */
export function checkLabelValue(issues: Issues, field: string, value: string): boolean {
  const ok = typeof value === 'string' && value.length <= MAX_NAME_LENGTH && (value === '' || LABEL_NAME.test(value));
  const long = typeof value === 'string' && value.length > MAX_NAME_LENGTH ? `is ${value.length} characters long, so it ` : '';
  return issues.check(ok, field, value, `${long}is not a label value (up to 63 letters, digits, '-', '_' or '.', starting and ending alphanumeric)`,
    'Use a value such as \'decode\'');
}

/** A name the construct will generate, with what it is for and the rule it must follow. */
export interface GeneratedName {
  /** What the name is for, for example `headless Service`. */
  readonly kind: string;
  readonly name: string;
  readonly rule: NameRule;
  readonly maxLength?: number;
}

/**
 * Checks every generated name, reporting each bad one against the user's field that produced it.
 */
export function checkGeneratedNames(issues: Issues, field: string, value: unknown, names: readonly GeneratedName[]): void {
  for (const n of names) {
    const problem = nameProblem(n.name, n.rule, n.maxLength);
    if (problem) {
      issues.add(field, value, `gives the ${n.kind} name '${n.name}', which ${problem}`,
        `Choose a shorter or DNS-valid ${field} (the ${n.kind} name must be at most ${n.maxLength ?? MAX_NAME_LENGTH} characters)`);
    }
  }
}

/** Checks a user-given name. */
export function checkName(issues: Issues, field: string, name: string, rule: NameRule, maxLength?: number): boolean {
  const problem = nameProblem(name, rule, maxLength);
  return issues.check(problem === undefined, field, name, `${problem}`, 'Use a name such as \'llama-70b\'');
}

/** Most bytes the annotations of one object may hold, keys and values together (Kubernetes' TotalAnnotationSizeLimitB). */
export const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** Checks every key and value of a label map, each against Kubernetes' label rules; returns whether all pass. */
export function checkLabels(issues: Issues, field: string, labels: Readonly<Record<string, unknown>> | undefined): boolean {
  let ok = true;
  for (const [key, value] of Object.entries(labels ?? {})) {
    ok = checkLabelKey(issues, `${field}['${key}']`, key) && ok;
    ok = checkLabelValue(issues, `${field}['${key}']`, value as string) && ok;
  }
  return ok;
}

/** Checks annotation keys (label-key rules) and that keys and values together fit Kubernetes' 256 KiB; values are strings by type. */
export function checkAnnotations(issues: Issues, field: string, annotations: Readonly<Record<string, unknown>> | undefined): boolean {
  let ok = true;
  let bytes = 0;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    ok = checkLabelKey(issues, `${field}['${key}']`, key) && ok;
    bytes += Buffer.byteLength(key) + Buffer.byteLength(String(value));
  }
  return issues.check(bytes <= MAX_ANNOTATIONS_BYTES, field, undefined, `hold ${bytes} bytes, more than the ${MAX_ANNOTATIONS_BYTES} Kubernetes accepts on one object`,
    'Move large values into a ConfigMap') && ok;
}

/** Checks a namespace: a DNS-1123 label of at most 63 characters. */
export function checkNamespace(issues: Issues, field: string, namespace: string): boolean {
  const problem = typeof namespace === 'string' ? nameProblem(namespace, NameRule.DNS1123_LABEL) : 'is not a string';
  return issues.check(problem === undefined, field, namespace, `${problem}`, 'Use a namespace such as \'ml-team\'');
}

const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Whether `name` is an IANA service name, as Kubernetes names ports: up to 15 of a-z, 0-9 and '-', with a letter, no '--'. */
export function isIanaServiceName(name: string): boolean {
  return typeof name === 'string' && name.length <= 15 && IANA_SVC_NAME.test(name) && /[a-z]/.test(name) && !name.includes('--');
}

/**
 * `<Kind>/<name>` of a manifest, for messages; `(no kind)` and `(unnamed)` stand for a kind or a name that is missing
 * or not text, so that no message shows `undefined` or `[object Object]`.
 */
export function manifestRef(doc: unknown): string {
  const o = (doc !== null && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
  const meta = (o.metadata !== null && typeof o.metadata === 'object' ? o.metadata : {}) as Record<string, unknown>;
  const text = (v: unknown, none: string) => (typeof v === 'string' && v !== '' ? v : none);
  return `${text(o.kind, '(no kind)')}/${text(meta.name, '(unnamed)')}`;
}
