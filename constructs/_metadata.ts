import { k8s } from 'cdk8s-plus-34';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../src';

/** Labels and annotations for every object a construct renders. */
export interface ObjectMetadataProps {
  /** @default - none */
  readonly labels?: Record<string, string>;
  /** @default - none */
  readonly annotations?: Record<string, string>;
}

/** Metadata of a rendered object: the user's labels and annotations, the object's own labels, and managed-by. */
export function objectMeta(
  name: string, namespace: string | undefined, user: ObjectMetadataProps | undefined, labels: Record<string, string> = {},
): k8s.ObjectMeta {
  const annotations = user?.annotations;
  return {
    name,
    namespace,
    labels: { ...user?.labels, ...labels, [MANAGED_BY_LABEL]: MANAGED_BY },
    annotations: annotations && Object.keys(annotations).length > 0 ? { ...annotations } : undefined,
  };
}

/** Where a construct's props came from when they were loaded from a manifest: for messages in the manifest's terms. */
export interface ManifestSource {
  /** `<Kind>/<name>`, the start of every message. */
  readonly path: string;
  /** Maps a prop name to the manifest field it came from. */
  readonly fieldName: (field: string) => string;
}

/** The source of props read from a manifest whose spec fields are named like the props. */
export function manifestSource(kind: string, name: string): ManifestSource {
  return { path: `${kind}/${name}`, fieldName: f => (f === 'name' ? 'metadata.name' : `spec.${f}`) };
}

/**
 * What a PrefillDecode Modelplane manifest gets from Modelplane's controller and not from inferkit: the route to each
 * replica (the text of the warning that says so).
 */
export const PREFILL_DECODE_ROUTE = 'is routed by Modelplane through an HTTPRoute per replica on its Gateway modelplane-system/inference-gateway '
  + '(path /<namespace>/<replica>/); inferkit renders the InferencePool and its endpoint picker, but no HTTPRoute';
