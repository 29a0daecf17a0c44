/**
 * One problem found in a spec: where it is, which field, the bad value, and how to fix it.
 */
export interface SpecIssue {
  /** Construct path (or manifest `kind/name`) the problem belongs to. */
  readonly path: string;
  /** Field path inside the spec, for example `roles[1].name`. */
  readonly field: string;
  /** The value that was given. */
  readonly value: unknown;
  /** What is wrong, with the values involved. */
  readonly cause: string;
  /** What to change. */
  readonly fix: string;
}

/** Renders one issue as "Unable to synthesize <path>: <field> <value> <cause>. <fix>." */
export function formatIssue(issue: SpecIssue): string {
  const fix = issue.fix.endsWith('.') ? issue.fix : `${issue.fix}.`;
  const value = issue.value === undefined ? '' : ` ${show(issue.value)}`;
  return `Unable to synthesize ${issue.path}: ${issue.field}${value} ${issue.cause}. ${fix}`;
}

/**
 * Renders a warning as "Warning: <path> <field>: <difference>. <fix>." (what inferkit runs differs from what the
 * seed system's controller would do, and how to get the exact behaviour).
 */
export function formatWarning(warning: SpecIssue): string {
  const fix = warning.fix.endsWith('.') ? warning.fix : `${warning.fix}.`;
  const value = warning.value === undefined ? '' : ` ${show(warning.value)}`;
  return `Warning: ${warning.path} ${warning.field}${value}: ${warning.cause}. ${fix}`;
}

/**
 * Thrown when a spec has one or more issues. Every issue found is reported at once.
 */
export class SpecError extends Error {
  public readonly issues: readonly SpecIssue[];

  constructor(issues: readonly SpecIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'SpecError';
    this.issues = issues;
  }
}

/**
 * Collects issues while a spec is validated, so that the caller sees all of them, not only the first.
 */
export class Issues {
  private readonly found: SpecIssue[] = [];
  private readonly warned: SpecIssue[] = [];

  /**
   * @param path construct path or manifest name that every message starts with
   * @param fieldName maps a field of the construct's props to the name the user wrote (a manifest's field path)
   */
  constructor(public readonly path: string, private readonly fieldName: (field: string) => string = f => f) {}

  /** Records a problem with `field`. */
  public add(field: string, value: unknown, cause: string, fix: string): void {
    this.found.push({ path: this.path, field: this.fieldName(field), value, cause, fix });
  }

  /** Records a problem when `ok` is false; returns `ok`. */
  public check(ok: boolean, field: string, value: unknown, cause: string, fix: string): boolean {
    if (!ok) this.add(field, value, cause, fix);
    return ok;
  }

  /**
   * Records a warning: inferkit can run `field` but not exactly as the seed system's controller would. `cause` says
   * what differs, `fix` how to get the exact behaviour. Warnings never stop synthesis; `--strict` makes them errors.
   */
  public warn(field: string, value: unknown, cause: string, fix: string): void {
    this.warned.push({ path: this.path, field: this.fieldName(field), value, cause, fix });
  }

  /** Warnings recorded so far. */
  public get warnings(): readonly SpecIssue[] {
    return [...this.warned];
  }

  /** Issues recorded so far. */
  public get all(): readonly SpecIssue[] {
    return [...this.found];
  }

  /** Throws a `SpecError` carrying every issue recorded, if there is any. */
  public throwIfAny(): void {
    if (this.found.length > 0) throw new SpecError(this.found);
  }
}

const MAX_SHOWN = 80;

/** Shows a value the way the user wrote it, for messages; long values are cut. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}
