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
