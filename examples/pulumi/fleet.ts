// A ModelDeployment on a fleet, in `pulumi up`: the Placement resource reads each cluster's Nodes and ResourceSlices,
// places three replicas of a 1-GPU model (any GPU with 20Gi or more), and keeps the decision in the stack's state;
// each cluster's share is applied through its own Kubernetes provider. Run it with `pulumi up` in this folder (see
// index.ts), or as an Automation API inline program as the integration tests do. The replica count and the image are
// Inputs: plain values, config, or the outputs of other resources (a StackReference, an image built in the program).
import * as pulumi from '@pulumi/pulumi';
import { ModelDeployment } from '../../providers';

/** A cluster of the fleet: its name, and a kubeconfig with access to it. */
export interface FleetMember {
  readonly name: string;
  readonly kubeconfig: pulumi.Input<string>;
  readonly labels?: Record<string, string>;
}

/** The program: replicas go to the clusters given; removing one from the list moves only its replicas. */
export function fleetProgram(
  clusters: FleetMember[], namespace = 'fleet', replicas: pulumi.Input<number> = 3, image?: pulumi.Input<string>,
): { replicas: ModelDeployment['replicas'] } {
  const md = new ModelDeployment('qwen', {
    namespace,
    replicas,
    // Over the template's image; while it is unknown (at preview) the replicas' objects are too, the placement not.
    images: image === undefined ? undefined : { engine: image },
    engines: [{
      name: 'qwen',
      members: [{
        deviceRequests: [{ name: 'gpu', selectors: ["device.capacity['gpu.nvidia.com'].memory.compareTo(quantity('20Gi')) >= 0"] }],
        template: { spec: { containers: [{ name: 'engine', image: 'vllm/vllm-openai:v0.11.0', args: ['--model=Qwen/Qwen3-0.6B'] }] } },
      }],
    }],
    // The component keeps every kubeconfig secret in the state, whether or not it is passed as one.
    clusters,
  });
  return { replicas: md.replicas };
}
