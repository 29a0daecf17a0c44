// `pulumi up` entry point. Configure the fleet as a secret: a map of cluster name to kubeconfig, e.g.
//   pulumi config set --secret --path 'kubeconfigs.east' "$(cat east.kubeconfig)"
import * as pulumi from '@pulumi/pulumi';
import { fleetProgram } from './fleet';

// The replica count and the image may be set too (`pulumi config set replicas 4`, `pulumi config set image ...`); in a
// program of your own they can as well be outputs of other resources.
const config = new pulumi.Config();
const kubeconfigs = config.requireSecretObject<Record<string, string>>('kubeconfigs');
const names = config.requireObject<string[]>('clusters');

export const replicas = fleetProgram(
  names.map(name => ({ name, kubeconfig: kubeconfigs.apply(k => k[name]) })), 'fleet', config.getNumber('replicas') ?? 3, config.get('image'),
).replicas;
