/**
 * The Kubernetes minor version the output targets; it selects API shapes (for example the DRA API version).
 */
export class KubernetesVersion {
  /** Kubernetes 1.32 (DRA at `resource.k8s.io/v1beta1`). */
  public static readonly V1_32 = new KubernetesVersion(32);
  /** Kubernetes 1.33 (DRA at `resource.k8s.io/v1beta2`). */
  public static readonly V1_33 = new KubernetesVersion(33);
  /** Kubernetes 1.34 (DRA GA at `resource.k8s.io/v1`). The default. */
  public static readonly V1_34 = new KubernetesVersion(34);
  /** The version used when none is given. */
  public static readonly DEFAULT = KubernetesVersion.V1_34;

  /** Every supported version, oldest first. */
  public static readonly SUPPORTED: readonly KubernetesVersion[] = [KubernetesVersion.V1_32, KubernetesVersion.V1_33, KubernetesVersion.V1_34];

  /** Parses `1.33`, `v1.33` or `v1.33.2`; throws for a version inferkit does not support. */
  public static of(version: string): KubernetesVersion {
    const m = /^v?1\.(\d+)(\.\d+)?$/.exec(version.trim());
    const found = m ? KubernetesVersion.SUPPORTED.find(v => v.minor === Number(m[1])) : undefined;
    if (!found) {
      throw new Error(`Unable to use Kubernetes version '${version}': supported versions are ${KubernetesVersion.SUPPORTED.join(', ')}. Choose one of them.`);
    }
    return found;
  }

  /** The version whose claim templates a cluster serving `apiVersion` (such as `resource.k8s.io/v1beta2`) reads; undefined for another API. */
  public static forResourceApi(apiVersion: string): KubernetesVersion | undefined {
    return KubernetesVersion.SUPPORTED.find(v => v.resourceApiVersion === apiVersion);
  }

  private constructor(public readonly minor: number) {}

  /** API version of the DRA `resource.k8s.io` group for this Kubernetes version. */
  public get resourceApiVersion(): string {
    if (this.minor >= 34) return 'resource.k8s.io/v1';
    if (this.minor === 33) return 'resource.k8s.io/v1beta2';
    return 'resource.k8s.io/v1beta1';
  }

  /** True when this version is at least `other`. */
  public atLeast(other: KubernetesVersion): boolean {
    return this.minor >= other.minor;
  }

  public toString(): string {
    return `1.${this.minor}`;
  }
}
