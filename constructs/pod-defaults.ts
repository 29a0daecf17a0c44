import { Duration, Size } from 'cdk8s';

/**
 * GPU-first and security defaults applied to every pod inferkit renders for a model (servers, downloads, caches),
 * and to the objects beside a ModelInfer's pods (its disruption budget, an opt-in network policy). Each one can be
 * turned off (or on); a value written in the pod template always wins over a default.
 */
export interface PodDefaults {
  /**
   * Mount a memory-backed emptyDir at `/dev/shm` (NCCL and PyTorch need more than the 64 MiB a
   * container runtime gives), with a `sizeLimit`, since what it holds counts as the pod's memory. `true` sizes it
   * to the largest memory limit (else request) of the containers that mount it, or 16Gi when none
   * is given; a `Size` sets it.
   *
   * @default true
   * @see https://kubernetes.io/docs/concepts/storage/volumes/#emptydir
   */
  readonly sharedMemory?: boolean | Size;

  /**
   * Mount a writable emptyDir at `/cache` and point `HF_HOME` and `XDG_CACHE_HOME` at it, so engines can
   * download and compile as a non-root user.
   *
   * @default true
   */
  readonly cacheVolume?: boolean;

  /**
   * Give each serving container a startup probe that allows this long for weights to load, copied from
   * its readiness probe (or a TCP check of its first port). `false` adds none.
   *
   * @default Duration.minutes(30)
   * @see https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/
   */
  readonly startupProbe?: Duration | false;

  /**
   * Run as a non-root user (uid 1000) with no privilege escalation, every capability dropped and the
   * runtime's seccomp profile: the PodSecurity `restricted` profile. Turn off for images that must run as root.
   *
   * @default true
   * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
   */
  readonly restricted?: boolean;

  /**
   * Set `imagePullPolicy: IfNotPresent` on containers that do not set one: model-server images are large.
   *
   * @default true
   */
  readonly pullIfNotPresent?: boolean;

  /**
   * Mount the ServiceAccount token into the pod. Model servers, downloads and caches never call the Kubernetes API,
   * so by default the pod gets `automountServiceAccountToken: false` and a compromised engine holds no credential.
   * `true` leaves the field unset (the ServiceAccount's setting applies). A value written in the pod template wins.
   *
   * @default false
   * @see https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#opt-out-of-api-credential-automounting
   */
  readonly serviceAccountToken?: boolean;

  /**
   * The image of the containers that download from the Hugging Face Hub (a Model's prefetch, a ModelCache's
   * hydration): one with Python and `huggingface_hub`, run with `python -c`. Nothing is installed at start.
   *
   * @default 'kserve/storage-initializer:v0.15.2'
   */
  readonly downloaderImage?: string;

  /**
   * A ModelInfer gets a PodDisruptionBudget per rollout set (`<name>` over every InferGroup's pods; with role-level
   * rolling, `<name>-<group>-<role>` over that role's instances in the group) with `maxUnavailable` the rollout's
   * budget, so that a node drain never breaks more groups at once than a rollout may. Not-Ready pods may always be
   * evicted. A `maxUnavailable` of 0 (with `maxSurge`) holds every drain of a node that runs one of its pods.
   *
   * @default true
   * @see https://kubernetes.io/docs/tasks/run-application/configure-pdb/
   */
  readonly disruptionBudget?: boolean;

  /**
   * A ModelInfer (roles form) or a Model gets a NetworkPolicy `<name>` that admits into its pods only its serving
   * ports (a ModelInfer's entry templates' container ports, a Model's Service ports; from anywhere), its own pods (any
   * port: entry and workers reach each other) and the endpoint pickers of its namespace (any port, for metrics).
   * Egress stays open. Needs a network plugin that enforces NetworkPolicy.
   *
   * @default false
   * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
   */
  readonly networkPolicy?: boolean;
}

/** The size of `/dev/shm` when no container that mounts it gives its memory (see `PodDefaults.sharedMemory`). */
export const DEFAULT_SHARED_MEMORY = '16Gi';
