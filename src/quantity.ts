/**
 * Kubernetes resource quantities (`500m`, `80Gi`, `8`), parsed exactly, for adding up pod requests.
 *
 * @see https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */
const NANO = 1_000_000_000n;

const SUFFIXES: Record<string, bigint> = {
  'n': 1n,
  'u': 1_000n,
  'm': 1_000_000n,
  '': NANO,
  'k': 1_000n * NANO,
  'M': 1_000_000n * NANO,
  'G': 1_000_000_000n * NANO,
  'T': 1_000_000_000_000n * NANO,
  'P': 1_000_000_000_000_000n * NANO,
  'E': 1_000_000_000_000_000_000n * NANO,
  'Ki': 1024n * NANO,
  'Mi': 1024n ** 2n * NANO,
  'Gi': 1024n ** 3n * NANO,
  'Ti': 1024n ** 4n * NANO,
  'Pi': 1024n ** 5n * NANO,
  'Ei': 1024n ** 6n * NANO,
};

const QUANTITY = /^([+-]?)(\d+)(?:\.(\d+))?(?:([eE])([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/;

/** True for text that is a Kubernetes quantity. */
export function isQuantity(value: string | number): boolean {
  return QUANTITY.test(String(value).trim());
}

/** Parses a quantity into nano-units (exact); throws on text that is not a Kubernetes quantity. */
export function parseQuantity(value: string | number): bigint {
  const text = String(value).trim();
  const m = QUANTITY.exec(text);
  if (!m) throw new Error(`'${text}' is not a Kubernetes quantity`);
  const [, sign, whole, frac = '', e, exp, suffix = ''] = m;
  let scale = SUFFIXES[suffix];
  let digits = BigInt(whole + frac);
  let divisor = 10n ** BigInt(frac.length);
  if (e) {
    const x = Number(exp);
    if (x >= 0) digits *= 10n ** BigInt(x); else divisor *= 10n ** BigInt(-x);
  }
  const nanos = (digits * scale) / divisor;
  return sign === '-' ? -nanos : nanos;
}

const BINARY: ReadonlyArray<[string, bigint]> = [['Ei', SUFFIXES.Ei], ['Pi', SUFFIXES.Pi], ['Ti', SUFFIXES.Ti], ['Gi', SUFFIXES.Gi], ['Mi', SUFFIXES.Mi], ['Ki', SUFFIXES.Ki]];

/** Formats nano-units as the shortest exact quantity: `8`, `640Gi`, `1500m`. */
export function formatQuantity(nanos: bigint): string {
  if (nanos === 0n) return '0';
  for (const [suffix, size] of BINARY) {
    if (nanos % size === 0n && nanos / size >= 1n && nanos % NANO === 0n && nanos >= SUFFIXES.Ki) return `${nanos / size}${suffix}`;
  }
  if (nanos % NANO === 0n) return `${nanos / NANO}`;
  if (nanos % SUFFIXES.m === 0n) return `${nanos / SUFFIXES.m}m`;
  if (nanos % SUFFIXES.u === 0n) return `${nanos / SUFFIXES.u}u`;
  return `${nanos}n`;
}

/** A resource list (`{ cpu: '4', 'nvidia.com/gpu': 8 }`) with exact arithmetic. */
export class ResourceTotals {
  private readonly totals = new Map<string, bigint>();

  /** Adds `times` copies of `resources`. */
  public add(resources: Readonly<Record<string, string | number>>, times: number = 1): this {
    for (const [name, q] of Object.entries(resources)) {
      this.totals.set(name, (this.totals.get(name) ?? 0n) + parseQuantity(q) * BigInt(times));
    }
    return this;
  }

  /** The totals as quantity strings, sorted by resource name; empty resources are left out. */
  public toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of [...this.totals.keys()].sort()) {
      const v = this.totals.get(name)!;
      if (v !== 0n) out[name] = formatQuantity(v);
    }
    return out;
  }
}
