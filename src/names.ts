import { Issues } from './errors';

/** Longest DNS-1123 / DNS-1035 label, and so longest name of most Kubernetes objects. */
export const MAX_NAME_LENGTH = 63;

/**
 * Longest StatefulSet name: the controller labels each pod with `controller-revision-hash: <name>-<hash>`,
 * and that label value must fit in 63 characters.
 */
export const MAX_STATEFULSET_NAME_LENGTH = 52;

const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** Rules a generated name must follow. */
export enum NameRule {
  /** Lower-case alphanumerics and '-', starting and ending alphanumeric (pods, StatefulSets, PodGroups). */
  DNS1123_LABEL = 'DNS-1123 label',
  /** Like DNS-1123 but starting with a letter (Services). */
  DNS1035_LABEL = 'DNS-1035 label',
}

/** Returns why `name` breaks `rule` or exceeds `maxLength`, or undefined when it is valid. */
export function nameProblem(name: string, rule: NameRule, maxLength: number = MAX_NAME_LENGTH): string | undefined {
  if (name.length > maxLength) return `is ${name.length} characters long, more than ${maxLength}`;
  const re = rule === NameRule.DNS1035_LABEL ? DNS1035 : DNS1123;
  if (!re.test(name)) {
    return rule === NameRule.DNS1035_LABEL
      ? 'is not a DNS-1035 label (lower-case letters, digits and \'-\', starting with a letter, ending alphanumeric)'
      : 'is not a DNS-1123 label (lower-case letters, digits and \'-\', starting and ending alphanumeric)';
  }
  return undefined;
}

/** A name the construct will generate, with what it is for and the rule it must follow. */
export interface GeneratedName {
  /** What the name is for, for example `headless Service`. */
  readonly kind: string;
  readonly name: string;
  readonly rule: NameRule;
  readonly maxLength?: number;
}

/**
 * Checks every generated name, reporting each bad one against the user's field that produced it.
 */
export function checkGeneratedNames(issues: Issues, field: string, value: unknown, names: readonly GeneratedName[]): void {
  for (const n of names) {
    const problem = nameProblem(n.name, n.rule, n.maxLength);
    if (problem) {
      issues.add(field, value, `gives the ${n.kind} name '${n.name}', which ${problem}`,
        `Choose a shorter or DNS-valid ${field} (the ${n.kind} name must be at most ${n.maxLength ?? MAX_NAME_LENGTH} characters)`);
    }
  }
}

/** Checks a user-given name. */
export function checkName(issues: Issues, field: string, name: string, rule: NameRule, maxLength?: number): boolean {
  const problem = nameProblem(name, rule, maxLength);
  return issues.check(problem === undefined, field, name, `${problem}`, 'Use a name such as \'llama-70b\'');
}
