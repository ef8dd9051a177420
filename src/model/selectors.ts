// Label selectors (`app=web,env in (a,b),!legacy`, or a LabelSelector object with matchLabels
// and matchExpressions) and field selectors (`spec.nodeName=gw1,status.phase!=Running`). Both
// syntaxes of label selector become one list of requirements, so the URL's `labelSelector`,
// a Deployment's `spec.selector` and a Service's `spec.selector` all match the same way.
import { BrambleError } from '../errors.ts';
import { isObject } from './json.ts';
import { checkLabelValue, checkQualifiedName } from './names.ts';

/** A selector that cannot be parsed; the API answers it as 400 Bad Request. */
export class SelectorError extends BrambleError {
  constructor(message: string) {
    super('E_SELECTOR', message);
  }
}

export type LabelOperator = 'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** One value for Equals/NotEquals, one or more for In/NotIn, none for Exists/DoesNotExist. */
  values: string[];
}

/** The LabelSelector object of workload specs (metav1.LabelSelector). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export type LabelMatcher = (labels: Record<string, string> | undefined) => boolean;

function matchesRequirement(req: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'Equals':
    case 'In':
      return has && req.values.includes(value!);
    // As in Kubernetes, `!=` and `notin` also match objects that lack the label.
    case 'NotEquals':
    case 'NotIn':
      return !has || !req.values.includes(value!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** A matcher for all of the requirements (an empty list matches everything). */
export function matcherFor(requirements: readonly LabelRequirement[]): LabelMatcher {
  return (labels) => requirements.every((req) => matchesRequirement(req, labels ?? {}));
}

// ---- the string syntax -------------------------------------------------------------------------

type Token =
  | { kind: 'id'; text: string; at: number }
  | { kind: 'op'; text: '=' | '==' | '!=' | '!' | '(' | ')' | ','; at: number }
  | { kind: 'end'; at: number };

const SPECIAL = new Set(['=', '!', '(', ')', ',']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' || c === '!') {
      const two = text.slice(i, i + 2);
      if (two === '==' || two === '!=') {
        tokens.push({ kind: 'op', text: two, at: i });
        i += 2;
      } else {
        tokens.push({ kind: 'op', text: c, at: i });
        i++;
      }
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'op', text: c, at: i });
      i++;
    } else {
      const start = i;
      while (i < text.length && !SPECIAL.has(text[i]!) && !/\s/.test(text[i]!)) i++;
      tokens.push({ kind: 'id', text: text.slice(start, i), at: start });
    }
  }
  tokens.push({ kind: 'end', at: text.length });
  return tokens;
}

/** Parses kubectl's label selector syntax. '' selects everything. Throws SelectorError. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const fail = (detail: string): never => {
    throw new SelectorError(`invalid label selector ${JSON.stringify(text)}: ${detail}`);
  };
  const describe = (t: Token): string => (t.kind === 'end' ? 'end of selector' : `"${t.text}" at position ${t.at + 1}`);
  const expectKey = (): string => {
    const t = peek();
    if (t.kind !== 'id') return fail(`expected a label key, found ${describe(t)}`);
    pos++;
    const bad = checkQualifiedName(t.text);
    if (bad !== null) fail(`key "${t.text}": ${bad}`);
    return t.text;
  };
  const checkValue = (key: string, value: string): string => {
    const bad = checkLabelValue(value);
    if (bad !== null) fail(`value "${value}" of key "${key}": ${bad}`);
    return value;
  };

  const requirements: LabelRequirement[] = [];
  if (peek().kind === 'end') return requirements;
  for (;;) {
    const t = peek();
    if (t.kind === 'op' && t.text === '!') {
      pos++;
      requirements.push({ key: expectKey(), operator: 'DoesNotExist', values: [] });
    } else {
      const key = expectKey();
      const op = peek();
      if (op.kind === 'end' || (op.kind === 'op' && op.text === ',')) {
        requirements.push({ key, operator: 'Exists', values: [] });
      } else if (op.kind === 'op' && (op.text === '=' || op.text === '==' || op.text === '!=')) {
        pos++;
        // `key=` selects the empty value, as in Kubernetes.
        const v = peek();
        let value = '';
        if (v.kind === 'id') {
          value = v.text;
          pos++;
        }
        requirements.push({ key, operator: op.text === '!=' ? 'NotEquals' : 'Equals', values: [checkValue(key, value)] });
      } else if (op.kind === 'id' && (op.text === 'in' || op.text === 'notin')) {
        pos++;
        const open = peek();
        if (!(open.kind === 'op' && open.text === '(')) fail(`expected "(" after "${op.text}", found ${describe(open)}`);
        pos++;
        const close = peek();
        if (close.kind === 'op' && close.text === ')') fail(`for 'in' and 'notin' the set of values of "${key}" must not be empty`);
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.kind === 'id') {
            values.push(checkValue(key, v.text));
            pos++;
          } else if (v.kind === 'op' && (v.text === ',' || v.text === ')')) {
            values.push(''); // `in (a,)`: an empty value, as Kubernetes reads it
          } else {
            fail(`expected a value or ")", found ${describe(v)}`);
          }
          const sep = peek();
          if (sep.kind === 'op' && sep.text === ',') {
            pos++;
            continue;
          }
          if (sep.kind === 'op' && sep.text === ')') {
            pos++;
            break;
          }
          fail(`expected "," or ")" in the value list of "${key}", found ${describe(sep)}`);
        }
        requirements.push({ key, operator: op.text === 'in' ? 'In' : 'NotIn', values });
      } else {
        fail(`expected "=", "==", "!=", "in", "notin", "," or the end after key "${key}", found ${describe(op)}`);
      }
    }
    const next = peek();
    if (next.kind === 'end') return requirements;
    if (next.kind === 'op' && next.text === ',') {
      pos++;
      if (peek().kind === 'end') fail('a requirement is missing after the last ","');
      continue;
    }
    fail(`expected "," or the end, found ${describe(next)}`);
  }
}

/** A matcher for kubectl's label selector syntax (`app=web,tier!=db`). Throws SelectorError. */
export function labelSelectorMatcher(text: string): LabelMatcher {
  return matcherFor(parseLabelSelector(text));
}

// ---- LabelSelector objects ---------------------------------------------------------------------

const OBJECT_OPERATORS: Readonly<Record<string, LabelOperator>> = { In: 'In', NotIn: 'NotIn', Exists: 'Exists', DoesNotExist: 'DoesNotExist' };

/**
 * The requirements of a LabelSelector object, matchLabels first, each sorted by key as
 * Kubernetes prints them. Throws SelectorError for a selector that schema validation refuses.
 */
export function requirementsOf(selector: LabelSelector): LabelRequirement[] {
  const out: LabelRequirement[] = [];
  for (const k of Object.keys(selector.matchLabels ?? {}).sort()) {
    out.push({ key: k, operator: 'Equals', values: [selector.matchLabels![k]!] });
  }
  for (const expr of selector.matchExpressions ?? []) {
    const operator = OBJECT_OPERATORS[expr.operator];
    if (operator === undefined) throw new SelectorError(`invalid label selector operator "${expr.operator}": expected In, NotIn, Exists or DoesNotExist`);
    const values = [...(expr.values ?? [])];
    if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
      throw new SelectorError(`label selector requirement on "${expr.key}": values must be non-empty for ${expr.operator}`);
    }
    if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) {
      throw new SelectorError(`label selector requirement on "${expr.key}": values must be empty for ${expr.operator}`);
    }
    out.push({ key: expr.key, operator, values: values.sort() });
  }
  return out;
}

/**
 * A matcher for a LabelSelector object. As in Kubernetes, `{}` selects everything while a
 * missing selector (undefined or null) selects nothing.
 */
export function matcherForLabelSelector(selector: LabelSelector | null | undefined): LabelMatcher {
  if (selector === undefined || selector === null) return () => false;
  return matcherFor(requirementsOf(selector));
}

/** Requirements in kubectl's syntax: `app=web,env in (a,b),!legacy`. */
export function formatRequirements(requirements: readonly LabelRequirement[]): string {
  return requirements
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0] ?? ''}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0] ?? ''}`;
        case 'In':
          return `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
      }
    })
    .join(',');
}

/** A LabelSelector object for display (`app=nginx`); `<none>` when it selects nothing or everything, as kubectl prints. */
export function formatLabelSelector(selector: LabelSelector | null | undefined): string {
  if (selector === undefined || selector === null) return '<none>';
  let text: string;
  try {
    text = formatRequirements(requirementsOf(selector));
  } catch {
    return '<error>';
  }
  return text === '' ? '<none>' : text;
}

/** A plain label map (a Service's selector, an object's labels) for display: `app=web,tier=db`. */
export function formatLabels(labels: Record<string, string> | null | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${labels![k]}`).join(',');
}

// ---- field selectors ---------------------------------------------------------------------------

export interface FieldRequirement {
  /** A dotted path into the object: `metadata.name`, `spec.nodeName`, `status.phase`. */
  field: string;
  operator: 'Equals' | 'NotEquals';
  value: string;
}

/** Splits on unescaped `sep`; `\,`, `\=`, `\!` and `\\` escape as in Kubernetes' field selectors. */
function splitUnescaped(text: string, sep: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      current += c + text[i + 1]!;
      i++;
    } else if (c === sep) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

/** Index of the first unescaped occurrence of `op` in `text`, or -1. */
function findUnescaped(text: string, op: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text.startsWith(op, i)) return i;
  }
  return -1;
}

/** Parses `metadata.name=x,spec.nodeName!=,status.phase==Running`. '' selects everything. Throws SelectorError. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  if (text.trim() === '') return [];
  return splitUnescaped(text, ',').map((term) => {
    // `!=` and `==` before `=`, so that `a!=b` is not read as key `a!` equals `b`.
    for (const [op, operator] of [['!=', 'NotEquals'], ['==', 'Equals'], ['=', 'Equals']] as const) {
      const at = findUnescaped(term, op);
      if (at < 0) continue;
      const field = unescape(term.slice(0, at)).trim();
      if (field === '' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(field)) {
        throw new SelectorError(`invalid field selector ${JSON.stringify(text)}: ${JSON.stringify(field)} is not a field path like metadata.name`);
      }
      return { field, operator, value: unescape(term.slice(at + op.length)) };
    }
    throw new SelectorError(`invalid field selector ${JSON.stringify(text)}: ${JSON.stringify(term)} has no operator (expected =, == or !=)`);
  });
}

/** The value at a dotted path as a string: scalars as text, a missing field or an object as ''. */
export function fieldValue(object: unknown, path: string): string {
  let current: unknown = object;
  for (const part of path.split('.')) {
    if (!isObject(current)) return '';
    current = current[part];
  }
  if (typeof current === 'string') return current;
  if (typeof current === 'number' || typeof current === 'boolean') return String(current);
  return '';
}

/** A matcher for the field selector syntax, comparing values as strings. Throws SelectorError. */
export function fieldSelectorMatcher(text: string): (object: unknown) => boolean {
  const requirements = parseFieldSelector(text);
  return (object) =>
    requirements.every((r) => (fieldValue(object, r.field) === r.value) === (r.operator === 'Equals'));
}
