import { Duration, Size } from 'cdk8s';

/**
 * GPU-first defaults applied to every model-server pod. Each one is on by default and can be turned
 * back off; a value written in the pod template always wins over a default.
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
}

/** The size of `/dev/shm` when no container that mounts it gives its memory (see `PodDefaults.sharedMemory`). */
export const DEFAULT_SHARED_MEMORY = '16Gi';
