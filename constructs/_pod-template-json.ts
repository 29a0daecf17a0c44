import { k8s } from 'cdk8s-plus-34';
import { canonicalJson, Issues, Manifest } from '../src';

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
  const back = k8s.toJson_PodTemplateSpec(template);
  const diff = firstDifference(json, back, '');
  return diff === undefined ? { template } : { unknownField: diff };
}

/** Reads a manifest's pod template at `field`, recording an issue for a field Kubernetes does not know. */
export function readPodTemplate(issues: Issues, field: string, json: unknown): k8s.PodTemplateSpec | undefined {
  if (json === undefined) return undefined;
  const { template, unknownField } = podTemplateFromJson(json);
  if (unknownField !== undefined) {
    issues.add(`${field}${unknownField}`, undefined, 'is not a field of a Kubernetes 1.34 PodTemplateSpec (or has the wrong type)', 'Remove it or fix its spelling');
  }
  return template;
}

/** Quantity-valued keys of an autoscaling/v2 MetricSpec (its targets). */
const METRIC_QUANTITIES = new Set(['averageValue', 'value']);

/** Reads `autoscaling/v2` metrics written as JSON, recording an issue for a field Kubernetes does not know. */
export function readMetrics(issues: Issues, field: string, json: readonly unknown[]): k8s.MetricSpecV2[] {
  return json.map((m, i) => {
    const typed = toTyped(m, '', '', METRIC_QUANTITIES) as k8s.MetricSpecV2;
    const diff = firstDifference(m, k8s.toJson_MetricSpecV2(typed), '');
    if (diff !== undefined) {
      issues.add(`${field}[${i}]${diff}`, undefined, 'is not a field of an autoscaling/v2 MetricSpec (or has the wrong type)', 'Remove it or fix its spelling');
    }
    return typed;
  });
}
