import { GangSpec, NetworkTopologyMode, NetworkTopologySpec } from '../src';

/**
 * A Volcano network topology constraint: keep pods within one HyperNode of at most a given tier.
 *
 * @see https://volcano.sh/en/docs/network_topology_aware_scheduling/
 */
export class NetworkTopology {
  /** Pods must fit within a HyperNode of tier `highestTierAllowed` or lower. */
  public static hard(highestTierAllowed: number = 1): NetworkTopology {
    return new NetworkTopology({ mode: NetworkTopologyMode.HARD, highestTierAllowed });
  }

  /** Pods should fit within a HyperNode of tier `highestTierAllowed` or lower; the scheduler may spread them. */
  public static soft(highestTierAllowed: number = 1): NetworkTopology {
    return new NetworkTopology({ mode: NetworkTopologyMode.SOFT, highestTierAllowed });
  }

  /** Pods must fit within a HyperNode of the named tier. */
  public static hardByTierName(highestTierName: string): NetworkTopology {
    return new NetworkTopology({ mode: NetworkTopologyMode.HARD, highestTierName });
  }

  /** @internal */
  public static fromSpec(spec: NetworkTopologySpec): NetworkTopology {
    return new NetworkTopology(spec);
  }

  private constructor(public readonly spec: NetworkTopologySpec) {}
}

/** Options of Volcano gang scheduling. */
export interface VolcanoGangOptions {
  /**
   * Role name to the number of its instances that must be schedulable at once for the group to start.
   *
   * @default - every instance of every role
   */
  readonly minRoleReplicas?: Record<string, number>;

  /**
   * Keep each whole InferGroup within a HyperNode tier (Volcano 1.12 or later).
   *
   * @default - no constraint
   */
  readonly networkTopology?: NetworkTopology;

  /**
   * Keep each role instance (an entry and its workers) within a HyperNode tier, as a Volcano sub-group.
   *
   * @default - no constraint
   */
  readonly roleNetworkTopology?: NetworkTopology;
}

/**
 * How the pods of an InferGroup are scheduled together.
 */
export class GangScheduling {
  /** One Volcano PodGroup per InferGroup: all of it is scheduled, or none. */
  public static volcano(options: VolcanoGangOptions = {}): GangScheduling {
    return new GangScheduling({
      minRoleReplicas: options.minRoleReplicas,
      networkTopology: options.networkTopology?.spec,
      roleNetworkTopology: options.roleNetworkTopology?.spec,
    });
  }

  /** No gang: each pod is scheduled on its own. */
  public static none(): GangScheduling {
    return new GangScheduling(false);
  }

  /** @internal */
  public static fromSpec(spec: GangSpec): GangScheduling {
    return new GangScheduling(spec);
  }

  private constructor(public readonly spec: GangSpec | false) {}
}
