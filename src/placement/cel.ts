/**
 * DRA device selectors evaluated in TypeScript: CEL expressions over one device, with the Kubernetes CEL extensions
 * `quantity()` and `semver()`, so that placement can tell which pools a request matches before the cluster does.
 *
 * The CEL language itself is @marcbachmann/cel-js (MIT, no dependencies); this file adds the device variable and the
 * two Kubernetes libraries. The package is ESM-only: it is required lazily, so that loading inferkit does not load it
 * (Node.js 20.19 and later `require` ES modules; Jest transforms it, see `.projenrc.ts`).
 *
 * As the API server does, a selector is refused when its estimated cost exceeds Kubernetes' limit, and `matches()`
 * runs on an RE2 engine (re2js, linear in the input), not on JavaScript's backtracking one: a hostile selector can
 * neither hang synthesis nor `place()`.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/#device-selectors
 * @see https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-quantity-library
 * @see https://kubernetes.io/docs/reference/using-api/cel/#kubernetes-semver-library
 */
import type * as CelJs from '@marcbachmann/cel-js';
import type { RE2JS } from 're2js';
import { formatQuantity, isQuantity, parseQuantity } from '../quantity';
import type { DeviceAttributeValue, FleetDevice } from './inventory';

const NANO = 1_000_000_000n;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const MAX_EXPRESSION_LENGTH = 10_240;
/** Kubernetes' limit on the estimated cost of one DRA CEL selector (resource.k8s.io `CELSelectorExpressionMaxCost`). */
export const MAX_SELECTOR_COST = 1_000_000;

function sign(n: bigint): number {
  return n < 0n ? -1 : n > 0n ? 1 : 0;
}

/** A Kubernetes quantity in CEL (`quantity('80Gi')`), exact to the nano-unit. */
export class CelQuantity {
  /** Parses a Kubernetes quantity; throws when `text` is not one. */
  public static parse(text: string): CelQuantity {
    return new CelQuantity(parseQuantity(text));
  }

  constructor(public readonly nanos: bigint) {}

  /** -1, 0 or 1, as the Kubernetes `compareTo`. */
  public compareTo(other: CelQuantity): number {
    return sign(this.nanos - other.nanos);
  }

  public get isInteger(): boolean {
    return this.nanos % NANO === 0n && this.nanos / NANO <= INT64_MAX && this.nanos / NANO >= INT64_MIN;
  }

  public toString(): string {
    return formatQuantity(this.nanos);
  }
}

/** A semantic version in CEL (`semver('1.2.3')`, DRA `version` attributes), compared by semver 2.0 precedence. */
export class CelSemver {
  constructor(
    public readonly major: bigint,
    public readonly minor: bigint,
    public readonly patch: bigint,
    public readonly prerelease: readonly string[] = [],
    public readonly build: readonly string[] = [],
  ) {}

  /** -1, 0 or 1 by precedence; build metadata does not count. */
  public compareTo(other: CelSemver): number {
    const core = sign(this.major - other.major) || sign(this.minor - other.minor) || sign(this.patch - other.patch);
    if (core !== 0) return core;
    const [a, b] = [this.prerelease, other.prerelease];
    if (a.length === 0 || b.length === 0) return sign(BigInt(b.length - a.length));
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = comparePrerelease(a[i], b[i]);
      if (c !== 0) return c;
    }
    return sign(BigInt(a.length - b.length));
  }

  public toString(): string {
    const pre = this.prerelease.length ? `-${this.prerelease.join('.')}` : '';
    const build = this.build.length ? `+${this.build.join('.')}` : '';
    return `${this.major}.${this.minor}.${this.patch}${pre}${build}`;
  }
}

const NUMERIC = /^(0|[1-9]\d*)$/;
const IDENTIFIER = /^[0-9A-Za-z-]+$/;

function comparePrerelease(a: string, b: string): number {
  const [an, bn] = [/^\d+$/.test(a), /^\d+$/.test(b)];
  if (an && bn) return sign(BigInt(a) - BigInt(b));
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parses a semantic version strictly (`1.2.3-rc.1+build`), as Kubernetes' `semver(string)`; with `normalize`, as
 * `semver(string, true)`: a leading `v`, a missing minor or patch and leading zeros are accepted.
 */
export function parseSemver(text: string, normalize: boolean = false): CelSemver {
  let rest = text;
  if (normalize && rest.startsWith('v')) rest = rest.slice(1);
  const plus = rest.indexOf('+');
  const build = plus < 0 ? [] : rest.slice(plus + 1).split('.');
  if (plus >= 0) rest = rest.slice(0, plus);
  const dash = rest.indexOf('-');
  const prerelease = dash < 0 ? [] : rest.slice(dash + 1).split('.');
  const core = (dash < 0 ? rest : rest.slice(0, dash)).split('.');
  if (normalize) {
    while (core.length < 3 && core.every(p => /^\d+$/.test(p))) core.push('0');
    for (let i = 0; i < core.length; i++) core[i] = core[i].replace(/^0+(?=\d)/, '');
  }
  const ok = core.length === 3 && core.every(p => NUMERIC.test(p))
    && prerelease.every(p => IDENTIFIER.test(p) && (!/^\d+$/.test(p) || NUMERIC.test(p)))
    && build.every(p => IDENTIFIER.test(p));
  if (!ok) throw new Error(`'${text}' is not a semantic version`);
  return new CelSemver(BigInt(core[0]), BigInt(core[1]), BigInt(core[2]), prerelease, build);
}

/** The `device` variable of a selector, as the Kubernetes DRA CEL environment declares it. */
class CelDevice {
  constructor(
    public readonly driver: string,
    public readonly attributes: Map<string, Map<string, unknown>>,
    public readonly capacity: Map<string, Map<string, CelQuantity>>,
  ) {}
}

type CelModule = typeof CelJs;
let environment: CelJs.Environment | undefined;

function celEnvironment(): CelJs.Environment {
  if (environment) return environment;
  // Required here, not imported: the package is ESM-only, and only placement needs it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cel: CelModule = require('@marcbachmann/cel-js');
  const int = (n: bigint) => {
    if (n > INT64_MAX || n < INT64_MIN) throw new Error(`${n} overflows int64`);
    return n;
  };
  const env = new cel.Environment()
    .registerType('Quantity', { ctor: CelQuantity, fields: {} })
    .registerType('Semver', { ctor: CelSemver, fields: {} })
    .registerType('Device', {
      ctor: CelDevice,
      fields: { driver: 'string', attributes: 'map<string, map<string, dyn>>', capacity: 'map<string, map<string, Quantity>>' },
    })
    .registerVariable('device', 'Device')
    .registerFunction('quantity(string): Quantity', (s: string) => CelQuantity.parse(s))
    .registerFunction('isQuantity(string): bool', (s: string) => isQuantity(s))
    .registerFunction('Quantity.sign(): int', (q: CelQuantity) => BigInt(sign(q.nanos)))
    .registerFunction('Quantity.isInteger(): bool', (q: CelQuantity) => q.isInteger)
    .registerFunction('Quantity.asInteger(): int', (q: CelQuantity) => {
      if (q.nanos % NANO !== 0n) throw new Error(`${q} is not an integer`);
      return int(q.nanos / NANO);
    })
    .registerFunction('Quantity.asApproximateFloat(): double', (q: CelQuantity) => Number(q.nanos) / Number(NANO))
    .registerFunction('Quantity.add(Quantity): Quantity', (a: CelQuantity, b: CelQuantity) => new CelQuantity(a.nanos + b.nanos))
    .registerFunction('Quantity.add(int): Quantity', (a: CelQuantity, b: bigint) => new CelQuantity(a.nanos + b * NANO))
    .registerFunction('Quantity.sub(Quantity): Quantity', (a: CelQuantity, b: CelQuantity) => new CelQuantity(a.nanos - b.nanos))
    .registerFunction('Quantity.sub(int): Quantity', (a: CelQuantity, b: bigint) => new CelQuantity(a.nanos - b * NANO))
    .registerFunction('Quantity.compareTo(Quantity): int', (a: CelQuantity, b: CelQuantity) => BigInt(a.compareTo(b)))
    .registerFunction('Quantity.isLessThan(Quantity): bool', (a: CelQuantity, b: CelQuantity) => a.compareTo(b) < 0)
    .registerFunction('Quantity.isGreaterThan(Quantity): bool', (a: CelQuantity, b: CelQuantity) => a.compareTo(b) > 0)
    .registerOperator('Quantity == Quantity', (a: CelQuantity, b: CelQuantity) => a.compareTo(b) === 0)
    .registerFunction('semver(string): Semver', (s: string) => parseSemver(s))
    .registerFunction('semver(string, bool): Semver', (s: string, normalize: boolean) => parseSemver(s, normalize))
    .registerFunction('isSemver(string): bool', (s: string) => isSemver(s))
    .registerFunction('isSemver(string, bool): bool', (s: string, normalize: boolean) => isSemver(s, normalize))
    .registerFunction('Semver.major(): int', (v: CelSemver) => int(v.major))
    .registerFunction('Semver.minor(): int', (v: CelSemver) => int(v.minor))
    .registerFunction('Semver.patch(): int', (v: CelSemver) => int(v.patch))
    .registerFunction('Semver.compareTo(Semver): int', (a: CelSemver, b: CelSemver) => BigInt(a.compareTo(b)))
    .registerFunction('Semver.isLessThan(Semver): bool', (a: CelSemver, b: CelSemver) => a.compareTo(b) < 0)
    .registerFunction('Semver.isGreaterThan(Semver): bool', (a: CelSemver, b: CelSemver) => a.compareTo(b) > 0)
    .registerOperator('Semver == Semver', (a: CelSemver, b: CelSemver) => a.compareTo(b) === 0)
    .registerFunction(`string.${RE2_MATCHES}(string): bool`, (text: string, pattern: string) => re2(pattern).matcher(text).find());
  environment = env;
  return env;
}

/**
 * The function every `matches()` call is bound to once a selector compiles: the library's own runs JavaScript's
 * backtracking RegExp (`'aaa…!'.matches('^(a+)+$')` never returns), and cannot be replaced by an overload.
 */
const RE2_MATCHES = 'matchesRe2';
const regexes = new Map<string, RE2JS>();

/** An RE2 pattern, compiled once; throws with RE2's message for what RE2 (and so Kubernetes) does not accept. */
function re2(pattern: string): RE2JS {
  let compiledPattern = regexes.get(pattern);
  if (!compiledPattern) {
    // Required here, as the CEL library is: only placement needs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const engine: typeof import('re2js') = require('re2js');
    try {
      compiledPattern = engine.RE2JS.compile(pattern);
    } catch (err) {
      throw new Error(`'${pattern}' is not an RE2 regular expression: ${(err as Error).message}`);
    }
    if (regexes.size >= MAX_CACHED) regexes.clear();
    regexes.set(pattern, compiledPattern);
  }
  return compiledPattern;
}

/** True for text that is a semantic version (`normalize` accepts the forms Kubernetes' semver() normalizes). */
export function isSemver(text: string, normalize = false): boolean {
  try {
    parseSemver(text, normalize);
    return true;
  } catch {
    return false;
  }
}

/** One line of a CEL library error: its summary, and where in the expression. */
function describeError(err: unknown): string {
  const e = err as { summary?: string; message?: string; range?: { start: number } };
  const text = (e.summary ?? e.message ?? String(err)).split('\n')[0];
  return e.range ? `${text} at character ${e.range.start + 1}` : text;
}

/** How one device fared against a selector. */
export interface SelectorOutcome {
  readonly matched: boolean;
  /** A runtime error (a missing attribute, a value of another type); the device then does not match. */
  readonly error?: string;
}

/** A compiled DRA device selector. */
export class DeviceSelector {
  private readonly outcomes = new WeakMap<FleetDevice, SelectorOutcome>();

  /** Compiled by {@link compileDeviceSelector}. */
  constructor(
    public readonly expression: string,
    private readonly program: CelJs.ParseResult,
    private readonly domains: { readonly attributes: readonly string[]; readonly capacity: readonly string[] },
  ) {}

  /**
   * Evaluates the selector against one device of a pool. As in Kubernetes, a domain the device has no attribute in
   * reads as an empty map; a runtime error means no match, with the error.
   */
  public matches(device: FleetDevice): SelectorOutcome {
    let outcome = this.outcomes.get(device);
    if (!outcome) {
      outcome = this.evaluate(device);
      this.outcomes.set(device, outcome);
    }
    return outcome;
  }

  private evaluate(device: FleetDevice): SelectorOutcome {
    try {
      const result: unknown = this.program({ device: celDevice(device, this.domains) });
      if (typeof result === 'boolean') return { matched: result };
      return { matched: false, error: `returns ${typeof result}, not a bool` };
    } catch (err) {
      return { matched: false, error: describeError(err) };
    }
  }
}

const compiled = new Map<string, DeviceSelector | string>();
const MAX_CACHED = 10_000;

function compile(expression: string): DeviceSelector | string {
  if (typeof expression !== 'string' || expression.trim() === '') return 'the expression is empty';
  if (expression.length > MAX_EXPRESSION_LENGTH) return `the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`;
  let program: CelJs.ParseResult;
  try {
    program = celEnvironment().parse(expression);
  } catch (err) {
    return describeError(err);
  }
  // Bound before type checking, which fixes each call's implementation on its node; messages keep the name written.
  const patterns = bindMatches(program.ast);
  const check = program.check();
  if (!check.valid) return describeError(check.error).split(RE2_MATCHES).join('matches');
  if (check.type !== 'bool' && check.type !== 'dyn') return `it returns ${check.type}, not a bool`;
  const literal = badLiteral(program.ast) ?? badPattern(patterns);
  if (literal) return literal;
  const cost = estimateCost(program.ast, new Map()).cost;
  if (cost > MAX_SELECTOR_COST) {
    return `its estimated cost ${cost < 1e12 ? cost : 'of more than 10^12'} exceeds Kubernetes' limit of ${MAX_SELECTOR_COST} per selector `
      + '(comprehensions nested over large lists, or long strings): nest fewer all/exists/map/filter calls, or iterate over shorter lists';
  }
  return new DeviceSelector(expression, program, referencedDomains(program.ast));
}

/** Points every `matches()` call at the RE2 engine; returns the patterns written as literals. */
function bindMatches(ast: CelJs.ASTNode): string[] {
  const patterns: string[] = [];
  walk(ast, n => {
    if (n.op !== 'rcall' || n.args[0] !== 'matches') return;
    const pattern = (n.args[2] as CelJs.ASTNode[])[0];
    if (pattern?.op === 'value' && typeof pattern.args === 'string') patterns.push(pattern.args);
    (n.args as unknown[])[0] = RE2_MATCHES;
  });
  return patterns;
}

/** The first literal pattern RE2 does not accept, found when compiling rather than on every device. */
function badPattern(patterns: readonly string[]): string | undefined {
  for (const pattern of patterns) {
    try {
      re2(pattern);
    } catch (err) {
      return `matches(): ${(err as Error).message}`;
    }
  }
  return undefined;
}

/**
 * DRA caps a device's attributes and capacities at 32 and a string attribute at 64 characters: the largest list, map
 * or string the estimate assumes for anything read from `device`.
 */
const DEVICE_VALUE_SIZE = 64;
/** Macros that evaluate their last arguments once per element of the receiver. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
/** Operations whose cost does not depend on the size of their operands. */
const CONSTANT_COST = new Set(['value', 'id', '.', '.?', '[]', '[?]', '&&', '||', '!_', '-_', '?:', 'list', 'map']);

/**
 * An upper bound on a node's evaluation: its cost in steps, the length of the list, map or string it yields, and the
 * largest length of anything nested in it (its elements).
 */
interface CostEstimate {
  readonly cost: number;
  readonly size: number;
  readonly inner: number;
}

/**
 * Estimates, as an upper bound, the steps one evaluation takes: each node is a step, a comprehension repeats its body
 * once per element, and operations on strings and lists (comparison, concatenation, functions) cost their length.
 * `vars` bounds the comprehension variables in scope.
 */
function estimateCost(node: CelJs.ASTNode, vars: ReadonlyMap<string, CostEstimate>): CostEstimate {
  const sub = (n: CelJs.ASTNode, scope = vars) => estimateCost(n, scope);
  const sum = (es: readonly CostEstimate[]) => es.reduce((a, e) => a + e.cost, 0);
  const lengths = (es: readonly CostEstimate[]) => es.reduce((a, e) => a + e.size, 0);
  const largest = (es: readonly CostEstimate[]) => Math.max(0, ...es.map(e => Math.max(e.size, e.inner)));
  switch (node.op) {
    case 'value':
      return { cost: 1, size: typeof node.args === 'string' ? node.args.length : 0, inner: 0 };
    case 'id': {
      const device = node.args === 'device' ? { cost: 1, size: DEVICE_VALUE_SIZE, inner: DEVICE_VALUE_SIZE } : { cost: 1, size: 0, inner: 0 };
      return vars.get(node.args as string) ?? device;
    }
    case 'rcall': {
      const [name, receiver, args] = node.args as [string, CelJs.ASTNode, CelJs.ASTNode[]];
      const range = sub(receiver);
      if (COMPREHENSIONS.has(name) && args.length >= 2 && args[0].op === 'id') {
        // `all(x, p)`, `all(i, v, p)`, `map(x, f, t)`: the leading identifiers are bound to elements (or keys) of the range.
        const bound = args.length === 3 && args[1].op === 'id' && name !== 'map' ? 2 : 1;
        const scope = new Map(vars);
        for (const v of args.slice(0, bound)) scope.set(v.args as string, { cost: 1, size: range.inner, inner: range.inner });
        const body = args.slice(bound).map(a => sub(a, scope));
        const cost = range.cost + range.size * (bound + sum(body)) + 1;
        if (name === 'map') return { cost, size: range.size, inner: largest(body) };
        return name === 'filter' ? { cost, size: range.size, inner: range.inner } : { cost, size: 0, inner: 0 };
      }
      const params = args.map(a => sub(a));
      // RE2 runs in time linear in the text, per state of the pattern.
      const work = name === 'matches' ? range.size * Math.max(1, largest(params)) : range.size + lengths(params);
      const all = [range, ...params];
      const size = name === 'join' ? range.size * (range.inner + largest(params)) : largest(all);
      return { cost: 1 + sum(all) + work, size, inner: largest(all) };
    }
    default: {
      const children: CelJs.ASTNode[] = [];
      walkChildren(node, c => children.push(c));
      const es = children.map(c => sub(c));
      const work = CONSTANT_COST.has(node.op) ? 0 : lengths(es);
      const cost = 1 + sum(es) + work;
      if (node.op === 'list') return { cost, size: children.length, inner: largest(es) };
      if (node.op === 'map') return { cost, size: (node.args as unknown[]).length, inner: largest(es) };
      if (node.op === '+') return { cost, size: lengths(es), inner: Math.max(0, ...es.map(e => e.inner)) };
      return { cost, size: largest(es), inner: largest(es) };
    }
  }
}

/** Calls `visit` with each direct child node of `node` (a call's name and a field name are not nodes). */
function walkChildren(node: CelJs.ASTNode, visit: (n: CelJs.ASTNode) => void): void {
  const visitAll = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visitAll);
    else if (value && typeof value === 'object' && 'op' in value) visit(value as CelJs.ASTNode);
  };
  visitAll(node.args);
}

/** Calls each AST node once, depth first. */
function walk(node: unknown, visit: (n: CelJs.ASTNode) => void): void {
  if (Array.isArray(node)) {
    node.forEach(n => walk(n, visit));
  } else if (node && typeof node === 'object' && 'op' in node) {
    visit(node as CelJs.ASTNode);
    walk((node as CelJs.ASTNode).args, visit);
  }
}

/** A `quantity('...')` or `semver('...')` literal that can never parse, found when compiling rather than on every device. */
function badLiteral(ast: CelJs.ASTNode): string | undefined {
  let problem: string | undefined;
  walk(ast, n => {
    if (problem || n.op !== 'call') return;
    const [fn, args] = n.args;
    const arg = args[0];
    if ((fn !== 'quantity' && fn !== 'semver') || args.length !== 1 || arg.op !== 'value' || typeof arg.args !== 'string') return;
    const text = arg.args;
    if (fn === 'quantity' && !isQuantity(text)) problem = `quantity('${text}') is not a Kubernetes quantity`;
    if (fn === 'semver' && !isSemver(text)) problem = `semver('${text}') is not a semantic version`;
  });
  return problem;
}

function cached(expression: string): DeviceSelector | string {
  let result = compiled.get(expression);
  if (result === undefined) {
    result = compile(expression);
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(expression, result);
  }
  return result;
}

/** Compiles a DRA CEL selector; throws an Error naming the expression and the problem when it does not compile. */
export function compileDeviceSelector(expression: string): DeviceSelector {
  const result = cached(expression);
  if (typeof result === 'string') throw new Error(`CEL selector ${JSON.stringify(expression)} does not compile: ${result}`);
  return result;
}

/** Why a DRA CEL selector does not compile (syntax, types, or a result other than bool); undefined when it does. */
export function deviceSelectorError(expression: string): string | undefined {
  const result = cached(expression);
  return typeof result === 'string' ? result : undefined;
}

/** Evaluates a selector against a device: true when it matches, false when it does not or fails at run time. */
export function evaluateDeviceSelector(expression: string, device: FleetDevice): boolean {
  return compileDeviceSelector(expression).matches(device).matched;
}

/** Domains the expression indexes with literals, `device.attributes['<domain>']`, so they read as empty maps. */
function referencedDomains(ast: CelJs.ASTNode): { attributes: string[]; capacity: string[] } {
  const found = { attributes: new Set<string>(), capacity: new Set<string>() };
  walk(ast, n => {
    if ((n.op === '[]' || n.op === '[?]') && isDeviceField(n.args[0]) && n.args[1].op === 'value' && typeof n.args[1].args === 'string') {
      found[(n.args[0].args as [CelJs.ASTNode, string])[1] as 'attributes' | 'capacity'].add(n.args[1].args);
    }
  });
  return { attributes: [...found.attributes], capacity: [...found.capacity] };
}

function isDeviceField(node: CelJs.ASTNode): boolean {
  if (node.op !== '.') return false;
  const [target, field] = node.args;
  return target.op === 'id' && target.args === 'device' && (field === 'attributes' || field === 'capacity');
}

const baseDevices = new WeakMap<FleetDevice, CelDevice>();

/** The CEL `device` for a pool device: attributes and capacity grouped by domain, bare names in the driver's. */
function celDevice(device: FleetDevice, domains: { readonly attributes: readonly string[]; readonly capacity: readonly string[] }): CelDevice {
  let base = baseDevices.get(device);
  if (!base) {
    const attributes = byDomain(device.driver, device.attributes ?? {}, celAttribute);
    base = new CelDevice(device.driver, attributes, byDomain(device.driver, device.capacity ?? {}, CelQuantity.parse));
    baseDevices.set(device, base);
  }
  const missing = (map: Map<string, unknown>, wanted: readonly string[]) => wanted.some(d => !map.has(d));
  if (!missing(base.attributes, domains.attributes) && !missing(base.capacity, domains.capacity)) return base;
  const withEmpty = <V>(map: Map<string, Map<string, V>>, wanted: readonly string[]) => {
    const copy = new Map(map);
    for (const d of wanted) if (!copy.has(d)) copy.set(d, new Map());
    return copy;
  };
  return new CelDevice(base.driver, withEmpty(base.attributes, domains.attributes), withEmpty(base.capacity, domains.capacity));
}

function byDomain<T, V>(driver: string, values: Readonly<Record<string, T>>, convert: (value: T) => V): Map<string, Map<string, V>> {
  const out = new Map<string, Map<string, V>>();
  for (const [qualified, value] of Object.entries(values)) {
    const slash = qualified.lastIndexOf('/');
    const [domain, name] = slash < 0 ? [driver, qualified] : [qualified.slice(0, slash), qualified.slice(slash + 1)];
    if (!out.has(domain)) out.set(domain, new Map());
    out.get(domain)!.set(name, convert(value));
  }
  return out;
}

function celAttribute(value: DeviceAttributeValue): unknown {
  if (typeof value === 'number') return BigInt(value);
  if (typeof value === 'object') return parseSemver(value.version);
  return value;
}
