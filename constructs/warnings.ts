import { IConstruct } from 'constructs';
import { formatWarning, Issues, SpecIssue } from '../src';

/** Metadata type under which constructs record their warnings in the construct tree. */
const WARNING_METADATA = 'inferkit:warning';

/**
 * Warnings of inferkit constructs: where inferkit runs what was asked, but not exactly as the seed system's controller
 * would (a recovery policy the backend cannot honour, an approximated shared-GPU group...). They are recorded in the
 * construct tree, never printed by the constructs themselves: `inferkit synth` prints them on stderr (and `--strict`
 * makes them errors); a cdk8s app reads them with `Warnings.of(app).all`.
 */
export class Warnings {
  /** The warnings of `scope` and of every construct under it. */
  public static of(scope: IConstruct): Warnings {
    return new Warnings(scope);
  }

  private constructor(private readonly scope: IConstruct) {}

  /** Each warning as `Warning: <Kind/name or path> <field>: <difference>. <fix>.`, in tree order. */
  public get all(): string[] {
    return this.issues.map(formatWarning);
  }

  /** Each warning as an issue (path, field, value, difference, fix), in tree order: `--strict` reports them as errors. */
  public get issues(): SpecIssue[] {
    return this.scope.node.findAll().flatMap(c => c.node.metadata.filter(m => m.type === WARNING_METADATA).map(m => m.data as SpecIssue));
  }
}

/** Records warnings (those an `Issues` collected, or resolved ones) on `scope`, once each. */
export function recordWarnings(scope: IConstruct, warnings: Issues | readonly SpecIssue[]): void {
  const seen = new Set(scope.node.metadata.filter(m => m.type === WARNING_METADATA).map(m => formatWarning(m.data as SpecIssue)));
  for (const w of warnings instanceof Issues ? warnings.warnings : warnings) {
    if (!seen.has(formatWarning(w))) scope.node.addMetadata(WARNING_METADATA, w);
    seen.add(formatWarning(w));
  }
}
