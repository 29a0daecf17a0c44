// Live objects as a cluster shows them, made from rendered ones: the inputs of the status fold's tests, and the JSON
// Schema check of a folded status against the `status` section of its seed CRD.
import * as fs from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { parseAllDocuments } from 'yaml';
import { desiredPodsOf, K8sObject, podTemplateOf } from '../../../src';

export const T0 = Date.parse('2026-11-28T08:00:00Z');
export const at = (s: number) => new Date(T0 + s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A rendered object as the API server returns it: namespaced, created at T0. */
export function live(o: K8sObject, extra: K8sObject = {}): K8sObject {
  return {
    ...o,
    ...extra,
    metadata: { ...o.metadata, namespace: o.metadata.namespace ?? 'default', creationTimestamp: at(0), ...extra.metadata },
  };
}

/** What a pod is doing. */
export type PodState =
  | 'ready'
  | 'running' // scheduled, containers running, not Ready yet
  | { readonly unschedulable: string }
  | { readonly waiting: string; readonly message?: string; readonly lastTerminated?: string };

/** The pods a workload makes, each in the state given (by pod index). */
export function podsOf(workload: K8sObject, state: PodState | ((i: number) => PodState)): K8sObject[] {
  const template = podTemplateOf(workload)!;
  const containers: string[] = (template.spec?.containers ?? []).map((c: K8sObject) => c.name);
  return Array.from({ length: desiredPodsOf(workload) }, (_, i) => {
    const s = typeof state === 'function' ? state(i) : state;
    const name = workload.kind === 'StatefulSet' ? `${workload.metadata.name}-${i}` : `${workload.metadata.name}-7d9f8-${i}`;
    const scheduled = typeof s === 'string' || !('unschedulable' in s);
    const conditions: K8sObject[] = [
      scheduled
        ? { type: 'PodScheduled', status: 'True', lastTransitionTime: at(1) }
        : { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: (s as { unschedulable: string }).unschedulable, lastTransitionTime: at(1) },
      { type: 'Ready', status: s === 'ready' ? 'True' : 'False', ...(s === 'ready' || !scheduled ? {} : { reason: 'ContainersNotReady' }), lastTransitionTime: at(5) },
    ];
    const containerStatuses = !scheduled ? undefined : containers.map(c => {
      if (s === 'ready') return { name: c, ready: true, started: true, restartCount: 0, state: { running: { startedAt: at(3) } } };
      if (s === 'running') return { name: c, ready: false, started: false, restartCount: 0, state: { running: { startedAt: at(3) } } };
      const w = s as { waiting: string; message?: string; lastTerminated?: string };
      return {
        name: c,
        ready: false,
        restartCount: w.lastTerminated ? 4 : 0,
        state: { waiting: { reason: w.waiting, ...(w.message ? { message: w.message } : {}) } },
        ...(w.lastTerminated ? { lastState: { terminated: { reason: w.lastTerminated, exitCode: 137 } } } : {}),
      };
    });
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: workload.metadata.namespace ?? 'default', labels: { ...template.metadata?.labels }, creationTimestamp: at(1) },
      spec: { ...(scheduled ? { nodeName: 'gpu-node-1' } : {}), containers: containers.map(c => ({ name: c, image: 'x' })) },
      status: { phase: s === 'ready' || s === 'running' ? 'Running' : 'Pending', conditions, ...(containerStatuses ? { containerStatuses } : {}) },
    };
  });
}

/** A workload of the rendered objects by kind and name. */
export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find(x => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind}/${name} in ${objects.map(x => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return o;
}

const CRDS = path.join(__dirname, '../../../../shared/reference/crds');

/** The `status` schema of a seed CRD (its storage version, or its only one). */
export function statusSchema(file: string): K8sObject {
  for (const doc of parseAllDocuments(fs.readFileSync(path.join(CRDS, file), 'utf8'))) {
    const crd = doc.toJSON();
    const versions: K8sObject[] = crd?.spec?.versions ?? [];
    const v = versions.find(x => x.storage) ?? versions[0];
    if (v) return v.schema.openAPIV3Schema.properties.status;
  }
  throw new Error(`${file}: no CRD version with a schema`);
}

const ajv = new Ajv({
  strict: false,
  allErrors: true,
  formats: { 'int32': true, 'int64': true, 'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/ },
});

/** The errors of a status against its CRD's schema, and the fields the schema does not define (which the API server would prune). */
export function schemaErrors(file: string, status: unknown, allowedExtra: readonly string[] = []): string[] {
  const schema = statusSchema(file);
  const validate = ajv.compile(schema);
  const errors = validate(status) ? [] : (validate.errors ?? []).map(e => `${e.instancePath} ${e.message}`);
  const unknown = (value: unknown, s: K8sObject | undefined, at_: string): string[] => {
    if (!s || s['x-kubernetes-preserve-unknown-fields'] || value === null || typeof value !== 'object') return [];
    if (Array.isArray(value)) return value.flatMap((v, i) => unknown(v, s.items, `${at_}[${i}]`));
    if (!s.properties) return [];
    return Object.entries(value as K8sObject).flatMap(([k, v]) => (s.properties[k] === undefined
      ? (allowedExtra.includes(`${at_}.${k}`.slice(1)) ? [] : [`${at_}.${k}: not in the CRD`])
      : unknown(v, s.properties[k], `${at_}.${k}`)));
  };
  return [...errors, ...unknown(status, schema, '')];
}
