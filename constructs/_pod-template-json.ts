import * as fs from 'fs';
import { dirname, join } from 'path';
import * as zlib from 'zlib';
import { k8s } from 'cdk8s-plus-34';
import {
  canonicalJson, checkAnnotations, checkLabelKey, checkLabels, checkLabelValue, checkName, isIanaServiceName, isQuantity, Issues, Manifest, NameRule,
  parseQuantity,
} from '../src';
import { INT32_MAX } from '../src/limits';

/** Keys whose value is a map of quantities, or a quantity, in a pod template. */
const QUANTITY_MAPS = new Set(['limits', 'requests', 'overhead']);
const QUANTITIES = new Set(['sizeLimit', 'divisor']);
/** `port` is an int-or-string only under these handlers (gRPC's `port` is a plain integer). */
const INT_OR_STRING_PARENTS = new Set(['httpGet', 'tcpSocket']);

function quantity(v: unknown): k8s.Quantity {
  return typeof v === 'number' ? k8s.Quantity.fromNumber(v) : k8s.Quantity.fromString(String(v));
}

function toTyped(value: unknown, key: string, parent: string, quantities: ReadonlySet<string> = QUANTITIES): unknown {
  if (Array.isArray(value)) return value.map(v => toTyped(v, key, parent, quantities));
  if (value === null || typeof value !== 'object') {
    if (quantities.has(key)) return quantity(value);
    if (key === 'port' && INT_OR_STRING_PARENTS.has(parent)) {
      return typeof value === 'number' ? k8s.IntOrString.fromNumber(value) : k8s.IntOrString.fromString(String(value));
    }
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (QUANTITY_MAPS.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([rk, rv]) => [rk, quantity(rv)]));
    } else {
      out[k] = toTyped(v, k, key, quantities);
    }
  }
  return out;
}

/** The first path at which two JSON values differ, or undefined when they are equal. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (canonicalJson(a) === canonicalJson(b)) return undefined;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a)) {
      for (let i = 0; i < a.length; i++) {
        const d = firstDifference(a[i], (b as unknown[])[i], `${path}[${i}]`);
        if (d) return d;
      }
      return path;
    }
    for (const k of Object.keys(a as object)) {
      const d = firstDifference((a as Manifest)[k], (b as Manifest)[k], `${path}.${k}`);
      if (d) return d;
    }
  }
  return path;
}

/**
 * Turns a pod template written as plain Kubernetes JSON into the typed cdk8s form, and proves that
 * nothing was lost: the typed form is rendered back and must equal the input. A field the
 * Kubernetes 1.34 PodTemplateSpec does not know (which the typed form would silently drop) is
 * returned as the path of the problem instead.
 */
export function podTemplateFromJson(json: unknown): { template?: k8s.PodTemplateSpec; unknownField?: string } {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return { unknownField: '' };
  const template = toTyped(json, '', '') as k8s.PodTemplateSpec;
  let back: unknown;
  try {
    back = k8s.toJson_PodTemplateSpec(template);
  } catch {
    // A value of the wrong type (a string where a list belongs) that the typed form cannot render: somewhere inside.
    return { unknownField: '' };
  }
  const diff = firstDifference(json, back, '');
  return diff === undefined ? { template } : { unknownField: diff };
}

/** Pod templates already checked by {@link readPodTemplate}, which renders need not check again. */
const checkedTemplates = new WeakSet<k8s.PodTemplateSpec>();

/**
 * Reads a manifest's pod template at `field`, recording an issue for a field Kubernetes does not know, and for every
 * value of the wrong type or outside what the API server accepts ({@link checkPodTemplate}).
 */
export function readPodTemplate(issues: Issues, field: string | Place, written: unknown): k8s.PodTemplateSpec | undefined {
  if (written === undefined) return undefined;
  const place: Place = typeof field === 'string' ? (at: string) => `${field}${at}` : field;
  const json = withoutNullFields(written);
  const wrong = checkPodTemplate(issues, place, json);
  const { template, unknownField } = podTemplateFromJson(json);
  // A value of the wrong type is reported once, by its type, rather than again as a field the typed form drops.
  const reported = (at: string) => wrong.some(w => w.startsWith(at) || at.startsWith(w));
  if (unknownField !== undefined && !reported(unknownField)) {
    issues.add(place(unknownField), undefined, 'is not a field of a Kubernetes 1.34 PodTemplateSpec (or has the wrong type)', 'Remove it or fix its spelling');
  }
  if (template) checkedTemplates.add(template);
  return template;
}

/** `value` without the fields whose value is null (YAML's `spec:` with nothing after it), which Kubernetes reads as unset. */
function withoutNullFields(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNullFields);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNullFields(v)]));
}

/** Whether `template` came from {@link readPodTemplate}, and so has been checked. */
export function isCheckedTemplate(template: k8s.PodTemplateSpec): boolean {
  return checkedTemplates.has(template);
}

/** A type reference of the jsii assembly of cdk8s-plus: how the typed imports describe each field of the Kubernetes API. */
type TypeRef =
  | { readonly primitive: 'string' | 'number' | 'boolean' | 'any' | 'json' | 'date' }
  | { readonly collection: { readonly kind: 'array' | 'map'; readonly elementtype: TypeRef } }
  | { readonly fqn: string }
  | { readonly union: { readonly types: readonly TypeRef[] } };

interface JsiiType {
  readonly kind: string;
  readonly properties?: ReadonlyArray<{ readonly name: string; readonly type: TypeRef; readonly optional?: boolean }>;
}

const K8S = 'cdk8s-plus-34.k8s.';
let k8sTypes: Readonly<Record<string, JsiiType>> | undefined;

/**
 * The types of the typed imports (`k8s.PodTemplateSpec` and what it holds), from the jsii assembly cdk8s-plus ships:
 * the Kubernetes 1.34 OpenAPI shapes, with which fields are required. Read once, when a template is first checked.
 */
function types(): Readonly<Record<string, JsiiType>> {
  if (!k8sTypes) {
    const dir = dirname(require.resolve('cdk8s-plus-34/package.json'));
    let assembly = JSON.parse(fs.readFileSync(join(dir, '.jsii'), 'utf8'));
    if (assembly.schema === 'jsii/file-redirect') assembly = JSON.parse(zlib.gunzipSync(fs.readFileSync(join(dir, assembly.filename))).toString('utf8'));
    k8sTypes = assembly.types as Record<string, JsiiType>;
  }
  return k8sTypes;
}

/** Numbers of a pod template that are int64 in the API; every other one is an int32. */
const INT64_FIELDS = new Set([
  'ObjectMeta.deletionGracePeriodSeconds', 'ObjectMeta.generation', 'Probe.terminationGracePeriodSeconds', 'SecurityContext.runAsUser',
  'SecurityContext.runAsGroup', 'PodSpec.activeDeadlineSeconds', 'PodSpec.terminationGracePeriodSeconds', 'PodSecurityContext.fsGroup',
  'PodSecurityContext.runAsUser', 'PodSecurityContext.runAsGroup', 'PodSecurityContext.supplementalGroups', 'Toleration.tolerationSeconds',
  'ServiceAccountTokenProjection.expirationSeconds',
]);

/** Values the API server accepts for an enumerated string field, by `<Type>.<field>`. */
const ENUMS: Readonly<Record<string, readonly string[]>> = {
  'Container.imagePullPolicy': ['Always', 'IfNotPresent', 'Never'],
  'Container.terminationMessagePolicy': ['File', 'FallbackToLogsOnError'],
  'Container.restartPolicy': ['Always'],
  'ContainerPort.protocol': ['TCP', 'UDP', 'SCTP'],
  'PodSpec.restartPolicy': ['Always', 'OnFailure', 'Never'],
  'PodSpec.dnsPolicy': ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'],
  'PodSpec.preemptionPolicy': ['PreemptLowerPriority', 'Never'],
  'Toleration.operator': ['Exists', 'Equal'],
  'Toleration.effect': ['NoSchedule', 'PreferNoSchedule', 'NoExecute'],
  'SeccompProfile.type': ['RuntimeDefault', 'Unconfined', 'Localhost'],
  'EmptyDirVolumeSource.medium': ['', 'Memory', 'HugePages'],
  'TopologySpreadConstraint.whenUnsatisfiable': ['DoNotSchedule', 'ScheduleAnyway'],
  'LabelSelectorRequirement.operator': ['In', 'NotIn', 'Exists', 'DoesNotExist'],
  'NodeSelectorRequirement.operator': ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'],
};

/** The field a path inside the template is, as the user wrote it. */
type Place = (at: string) => string;

/** A problem found at a path inside the template. */
type Report = (at: string, value: unknown, cause: string, fix: string) => void;

const PORT_MAX = 65_535;

function checkPort(report: Report, at: string, port: unknown, named: boolean): void {
  if (typeof port === 'string' && named) {
    if (!isIanaServiceName(port)) report(at, port, 'is not a port number or a port name (up to 15 of a-z, 0-9 and \'-\', with a letter)', 'Give a port number from 1 to 65535 or the name of a container port');
    return;
  }
  // A number that is no integer, or beyond int32, has been reported by type.
  if (typeof port === 'number' && Number.isInteger(port) && Math.abs(port) <= INT32_MAX && (port < 1 || port > PORT_MAX)) {
    report(at, port, `is not a port number from 1 to ${PORT_MAX}`, 'Give a port number from 1 to 65535');
  }
}

/** Name is unique among `names` seen so far; records it. */
function checkUnique(report: Report, at: string, name: unknown, seen: Set<unknown>, what: string): void {
  if (seen.has(name)) report(at, name, `is the name of another ${what}`, `Give every ${what} its own name`);
  seen.add(name);
}

/** Rules on values, beyond types, by type name: what the API server's validation refuses. */
const RULES: Readonly<Record<string, (o: Manifest, at: string, report: Report, issues: Issues, place: Place) => void>> = {
  ObjectMeta: (o, at, _report, issues, place) => {
    if (o.labels && typeof o.labels === 'object') checkLabels(issues, place(`${at}.labels`), o.labels as Record<string, unknown>);
    if (o.annotations && typeof o.annotations === 'object') checkAnnotations(issues, place(`${at}.annotations`), o.annotations as Record<string, unknown>);
  },
  PodSpec: (o, at, report, issues, place) => {
    const containers = Array.isArray(o.containers) ? o.containers as Manifest[] : [];
    if (Array.isArray(o.containers) && containers.length === 0) report(`${at}.containers`, [], 'is empty', 'Give at least one container');
    const names = new Set<unknown>();
    for (const list of ['initContainers', 'containers'] as const) {
      (Array.isArray(o[list]) ? o[list] as Manifest[] : []).forEach((c, i) => {
        if (c && typeof c === 'object') checkUnique(report, `${at}.${list}[${i}].name`, c.name, names, 'container of the pod');
      });
    }
    const volumes = new Set<unknown>();
    (Array.isArray(o.volumes) ? o.volumes as Manifest[] : []).forEach((v, i) => {
      if (v && typeof v === 'object') checkUnique(report, `${at}.volumes[${i}].name`, v.name, volumes, 'volume of the pod');
    });
    if (o.nodeSelector && typeof o.nodeSelector === 'object') checkLabels(issues, place(`${at}.nodeSelector`), o.nodeSelector as Record<string, unknown>);
  },
  Container: (o, at, report, issues, place) => {
    if (typeof o.name === 'string') checkName(issues, place(`${at}.name`), o.name, NameRule.DNS1123_LABEL);
    if (typeof o.image === 'string' && (o.image.trim() === '' || o.image.trim() !== o.image)) {
      report(`${at}.image`, o.image, o.image.trim() === '' ? 'is empty' : 'has leading or trailing spaces', 'Give the image, such as vllm/vllm-openai:v0.11.0');
    }
    const ports = new Set<unknown>();
    (Array.isArray(o.ports) ? o.ports as Manifest[] : []).forEach((p, i) => {
      if (p && typeof p === 'object' && p.name !== undefined) checkUnique(report, `${at}.ports[${i}].name`, p.name, ports, 'port of the container');
    });
  },
  LabelSelectorRequirement: (o, at, _report, issues, place) => selectorRequirement(o, at, issues, place),
  NodeSelectorRequirement: (o, at, _report, issues, place) => selectorRequirement(o, at, issues, place),
  LabelSelector: (o, at, _report, issues, place) => {
    if (o.matchLabels && typeof o.matchLabels === 'object') checkLabels(issues, place(`${at}.matchLabels`), o.matchLabels as Record<string, unknown>);
  },
  PodAffinityTerm: (o, at, _report, issues, place) => {
    if (typeof o.topologyKey === 'string') checkLabelKey(issues, place(`${at}.topologyKey`), o.topologyKey);
  },
  TopologySpreadConstraint: (o, at, _report, issues, place) => {
    if (typeof o.topologyKey === 'string') checkLabelKey(issues, place(`${at}.topologyKey`), o.topologyKey);
  },
  Toleration: (o, at, _report, issues, place) => {
    if (typeof o.key === 'string' && o.key !== '') checkLabelKey(issues, place(`${at}.key`), o.key);
  },
  Volume: (o, at, _report, issues, place) => {
    if (typeof o.name === 'string') checkName(issues, place(`${at}.name`), o.name, NameRule.DNS1123_LABEL);
  },
  ContainerPort: (o, at, report) => {
    checkPort(report, `${at}.containerPort`, o.containerPort, false);
    if (o.hostPort !== undefined) checkPort(report, `${at}.hostPort`, o.hostPort, false);
    if (typeof o.name === 'string' && !isIanaServiceName(o.name)) {
      report(`${at}.name`, o.name, 'is not a port name (up to 15 of a-z, 0-9 and \'-\', with a letter, no \'--\')', 'Name the port such as \'http\'');
    }
  },
  HttpGetAction: (o, at, report) => checkPort(report, `${at}.port`, o.port, true),
  TcpSocketAction: (o, at, report) => checkPort(report, `${at}.port`, o.port, true),
  GrpcAction: (o, at, report) => checkPort(report, `${at}.port`, o.port, false),
  EnvVar: (o, at, report) => {
    if (typeof o.name === 'string' && !/^[ -<>-~]+$/.test(o.name)) {
      report(`${at}.name`, o.name, 'is not an environment variable name (printable ASCII characters other than \'=\')', 'Name the variable such as HF_HOME');
    }
  },
  ResourceRequirements: (o, at, report) => {
    const limits = (o.limits ?? {}) as Record<string, unknown>;
    for (const [resource, request] of Object.entries((o.requests ?? {}) as Record<string, unknown>)) {
      const limit = limits[resource];
      if (limit === undefined || !isQuantityValue(request) || !isQuantityValue(limit)) continue;
      if (parseQuantity(request) > parseQuantity(limit)) {
        report(`${at}.requests['${resource}']`, request, `is more than its limit ${String(limit)}`, `Request at most the limit of ${resource}, or raise the limit`);
      }
    }
  },
};

/** A label or node selector requirement: its key a label key, its values label values (node fields aside). */
function selectorRequirement(o: Manifest, at: string, issues: Issues, place: Place): void {
  if (typeof o.key === 'string') checkLabelKey(issues, place(`${at}.key`), o.key);
  if (Array.isArray(o.values)) {
    o.values.forEach((v, i) => {
      if (typeof v === 'string') checkLabelValue(issues, place(`${at}.values[${i}]`), v);
    });
  }
}

function isQuantityValue(v: unknown): v is string | number {
  return (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) && isQuantity(v);
}

/** Walks `value` against the jsii type `type`, reporting values of the wrong type, missing required fields and broken rules. */
function checkValue(value: unknown, type: TypeRef, at: string, owner: string, report: Report, issues: Issues, place: Place): void {
  if (value === undefined || value === null) return;
  if ('primitive' in type) {
    const p = type.primitive;
    if (p === 'any' || p === 'json') return;
    if (p === 'number') {
      const max = INT64_FIELDS.has(owner) ? Number.MAX_SAFE_INTEGER : INT32_MAX;
      if (typeof value !== 'number' || !Number.isInteger(value)) report(at, value, 'is not a whole number', 'Write it as an integer');
      else if (Math.abs(value) > max) report(at, value, `is beyond ±${max}, the ${max === INT32_MAX ? 'int32' : 'int64'} range of the field`, 'Give a smaller number');
      return;
    }
    const expected = p === 'date' ? 'string' : p;
    if (typeof value !== expected) {
      report(at, value, `is not a ${expected === 'string' ? 'string' : 'boolean'}`, expected === 'string' ? 'Quote the value' : 'Write true or false');
      return;
    }
    const allowed = ENUMS[owner];
    if (allowed && !allowed.includes(value as string)) report(at, value, `is not one of ${allowed.filter(a => a).join(', ')}`, `Use one of ${allowed.filter(a => a).join(', ')}`);
    return;
  }
  if ('union' in type) return;
  if ('collection' in type) {
    const { kind, elementtype } = type.collection;
    if (kind === 'array') {
      if (!Array.isArray(value)) return report(at, value, 'is not a list', 'Write it as a list');
      value.forEach((v, i) => (v === null ? report(`${at}[${i}]`, v, 'is empty', 'Remove it, or give its value')
        : checkValue(v, elementtype, `${at}[${i}]`, owner, report, issues, place)));
    } else {
      if (typeof value !== 'object' || Array.isArray(value)) return report(at, value, 'is not a mapping', 'Write it as a mapping');
      for (const [k, v] of Object.entries(value)) checkValue(v, elementtype, `${at}['${k}']`, owner, report, issues, place);
    }
    return;
  }
  const name = type.fqn.startsWith(K8S) ? type.fqn.slice(K8S.length) : type.fqn;
  if (name === 'Quantity') {
    if (!isQuantityValue(value)) report(at, value, 'is not a Kubernetes quantity', 'Write a quantity such as 500m, 2, 16Gi or 1.5');
    return;
  }
  if (name === 'IntOrString') {
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) report(at, value, 'is neither an integer nor a string', 'Give a number or a name');
    return;
  }
  const t = types()[type.fqn];
  if (!t?.properties) return;
  if (typeof value !== 'object' || Array.isArray(value)) return report(at, value, 'is not a mapping', 'Write it as a mapping');
  const o = value as Manifest;
  for (const prop of t.properties) {
    if (o[prop.name] === undefined) {
      if (!prop.optional) report(`${at}.${prop.name}`, undefined, 'is missing', `Give ${prop.name}, which Kubernetes requires`);
      continue;
    }
    checkValue(o[prop.name], prop.type, `${at}.${prop.name}`, `${name}.${prop.name}`, report, issues, place);
  }
  RULES[name]?.(o, at, report, issues, place);
}

/**
 * Checks a pod template written as Kubernetes JSON by type and value, as the API server would: each field against the
 * type the Kubernetes 1.34 OpenAPI (the typed imports) gives it, required fields, integers within int32 (int64 where the
 * API says so), quantities by their grammar, enumerations, names (containers, volumes, ports), port numbers, labels
 * and annotations, and requests within limits. Fields Kubernetes does not know are {@link readPodTemplate}'s. Returns
 * the paths (inside the template, map keys as `.key`) of the values reported by type or value.
 */
export function checkPodTemplate(issues: Issues, field: string | Place, json: unknown): string[] {
  const place: Place = typeof field === 'string' ? (at: string) => `${field}${at}` : field;
  const reported: string[] = [];
  const report: Report = (at, value, cause, fix) => {
    reported.push(at.replace(/\['([^']*)'\]/g, '.$1'));
    issues.add(place(at), value, cause, fix);
  };
  if (json === null) report('', json, 'is empty', 'Write the pod template as a mapping');
  checkValue(json, { fqn: `${K8S}PodTemplateSpec` }, '', 'PodTemplateSpec', report, issues, place);
  return reported;
}

/** Quantity-valued keys of an autoscaling/v2 MetricSpec (its targets). */
const METRIC_QUANTITIES = new Set(['averageValue', 'value']);

/** Reads `autoscaling/v2` metrics written as JSON, recording an issue for a field Kubernetes does not know. */
export function readMetrics(issues: Issues, field: string, json: readonly unknown[]): k8s.MetricSpecV2[] {
  return json.map((m, i) => {
    const typed = toTyped(m, '', '', METRIC_QUANTITIES) as k8s.MetricSpecV2;
    let back: unknown;
    try {
      back = k8s.toJson_MetricSpecV2(typed);
    } catch {
      issues.add(`${field}[${i}]`, m, 'is not an autoscaling/v2 MetricSpec (a value has the wrong type)', 'Write the metric as Kubernetes documents it');
      return typed;
    }
    const diff = firstDifference(m, back, '');
    if (diff !== undefined) {
      issues.add(`${field}[${i}]${diff}`, undefined, 'is not a field of an autoscaling/v2 MetricSpec (or has the wrong type)', 'Remove it or fix its spelling');
    }
    return typed;
  });
}
