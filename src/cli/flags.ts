// The flag parser every `bramble <subcommand>` shares, so all of them accept the same forms and
// fail the same way: `--flag value`, `--flag=value`, `-f value`, `--` ends flags; an unknown flag
// or a missing or malformed value is a UsageError naming the flag and the subcommand.

import { UsageError } from '../errors.ts';

export type FlagType = 'string' | 'int' | 'bool' | 'duration' | 'list';

export interface FlagSpec {
  readonly type: FlagType;
  readonly description: string;
  /** One-letter alias, without the dash: `n` for `-n`. */
  readonly short?: string;
  /** Placeholder in help: `--name NAME`. */
  readonly valueName?: string;
  /** Used when the flag is absent. A duration default is in milliseconds. */
  readonly default?: string | number | boolean | readonly string[];
  /** For help when the default is computed elsewhere: "the hostname", "from the board profile". */
  readonly defaultText?: string;
}

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export interface CommandSpec<S extends FlagSpecs = FlagSpecs> {
  /** As typed after `bramble`: "server", "cluster status". */
  readonly name: string;
  readonly summary: string;
  readonly flags: S;
  /** Positional arguments allowed; none when absent. */
  readonly positionals?: { readonly name: string; readonly min: number; readonly max: number };
  /** The usage line after `bramble <name>` when the default `[flags] POSITIONALS` says too little. */
  readonly usage?: string;
  /** Example command lines shown in help. */
  readonly examples?: readonly string[];
}

/** Durations are milliseconds; lists are arrays of non-empty, trimmed items. */
export type FlagValueOf<T extends FlagType> = T extends 'string'
  ? string
  : T extends 'int' | 'duration'
    ? number
    : T extends 'bool'
      ? boolean
      : string[];

/** A flag with a default (and every bool) always has a value; the others may be undefined. */
export type FlagValues<S extends FlagSpecs> = {
  -readonly [K in keyof S]: S[K] extends { default: unknown }
    ? FlagValueOf<S[K]['type']>
    : S[K]['type'] extends 'bool'
      ? boolean
      : FlagValueOf<S[K]['type']> | undefined;
};

export interface ParsedArgs<S extends FlagSpecs> {
  flags: FlagValues<S>;
  positionals: string[];
  /** `--help` or `-h` was given: print formatHelp(spec) and do nothing else. */
  help: boolean;
}

// Bound what a command line can make us build (a script gone wrong can pass a lot).
const ARGUMENTS_MAX = 4096;
const LIST_ITEMS_MAX = 1024;

const DURATION_UNITS_MILLIS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** "500ms", "1s", "2m", "1h", "1m30s", "1.5s" → milliseconds (rounded). Null when malformed. */
export function parseDuration(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null;
  let millis = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    millis += Number(match[1]) * DURATION_UNITS_MILLIS[match[2]!]!;
  }
  const rounded = Math.round(millis);
  return Number.isSafeInteger(rounded) ? rounded : null;
}

/** 1500 → "1.5s", 120000 → "2m": the form help and messages print. */
export function formatDuration(millis: number): string {
  if (millis % 3_600_000 === 0 && millis > 0) return `${millis / 3_600_000}h`;
  if (millis % 60_000 === 0 && millis > 0) return `${millis / 60_000}m`;
  if (millis % 1000 === 0 && millis > 0) return `${millis / 1000}s`;
  if (millis >= 1000) return `${millis / 1000}s`;
  return `${millis}ms`;
}

function usage(command: string, message: string): UsageError {
  return new UsageError(`bramble ${command}: ${message} (see 'bramble ${command} --help')`);
}

function convert(command: string, flag: string, spec: FlagSpec, raw: string): string | number | boolean | string[] {
  switch (spec.type) {
    case 'string':
      return raw;
    case 'int': {
      const value = /^-?\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(value)) throw usage(command, `flag ${flag}: expected an integer, got ${JSON.stringify(raw)}`);
      return value;
    }
    case 'bool':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw usage(command, `flag ${flag}: expected true or false, got ${JSON.stringify(raw)}`);
    case 'duration': {
      const millis = parseDuration(raw);
      if (millis === null) {
        throw usage(command, `flag ${flag}: expected a duration such as 500ms, 1s, 2m or 1h, got ${JSON.stringify(raw)}`);
      }
      return millis;
    }
    case 'list': {
      const items = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
      if (items.length > LIST_ITEMS_MAX) throw usage(command, `flag ${flag}: more than ${LIST_ITEMS_MAX} items`);
      return items;
    }
  }
}

// A value may itself start with "-" only when it is "-" (stdin) or a negative number; anything
// else that looks like a flag means the user forgot the value.
function looksLikeValue(token: string | undefined): token is string {
  if (token === undefined) return false;
  if (token === '-' || !token.startsWith('-')) return true;
  return /^-\d+(\.\d+)?$/.test(token);
}

interface Lookup {
  byLong: Map<string, [string, FlagSpec]>;
  byShort: Map<string, [string, FlagSpec]>;
}

function lookupTable(specs: FlagSpecs): Lookup {
  const byLong = new Map<string, [string, FlagSpec]>();
  const byShort = new Map<string, [string, FlagSpec]>();
  for (const [name, spec] of Object.entries(specs)) {
    // Declaration mistakes are programmer errors: crash loudly, in every test that parses.
    if (name === 'help' || spec.short === 'h') throw new Error(`flag spec: --help/-h is built in, do not declare "${name}"`);
    if (spec.short !== undefined && (spec.short.length !== 1 || byShort.has(spec.short))) {
      throw new Error(`flag spec: bad or duplicate short alias "-${spec.short}" for --${name}`);
    }
    byLong.set(name, [name, spec]);
    if (spec.short !== undefined) byShort.set(spec.short, [name, spec]);
  }
  return { byLong, byShort };
}

function initialValues(specs: FlagSpecs): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.default !== undefined) values[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    else values[name] = spec.type === 'bool' ? false : undefined;
  }
  return values;
}

/** Parses `argv` (the arguments after the subcommand) against `spec`. Throws UsageError. */
export function parseArgs<const S extends FlagSpecs>(spec: CommandSpec<S>, argv: readonly string[]): ParsedArgs<S> {
  const command = spec.name;
  if (argv.length > ARGUMENTS_MAX) throw usage(command, `more than ${ARGUMENTS_MAX} arguments`);
  const table = lookupTable(spec.flags);
  const values = initialValues(spec.flags);
  const seenLists = new Set<string>();
  const positionals: string[] = [];
  const terminator = argv.indexOf('--');
  const flagPart = terminator === -1 ? argv : argv.slice(0, terminator);
  // Help wins over every other problem on the line: someone asking for help should get it.
  if (flagPart.includes('--help') || flagPart.includes('-h')) {
    return { flags: values as FlagValues<S>, positionals: [], help: true };
  }
  for (let index = 0; index < flagPart.length; index++) {
    const token = flagPart[index]!;
    if (token === '-' || !token.startsWith('-')) {
      positionals.push(token);
      continue;
    }
    const isLong = token.startsWith('--');
    const equals = token.indexOf('=');
    const key = equals === -1 ? token.slice(isLong ? 2 : 1) : token.slice(isLong ? 2 : 1, equals);
    const shown = isLong ? `--${key}` : `-${key}`;
    let entry = isLong ? table.byLong.get(key) : table.byShort.get(key);
    // kubectl's habit `-owide`, `-nkube-system`: a one-letter flag with its value attached.
    let attached: string | undefined;
    if (entry === undefined && !isLong && equals === -1 && key.length > 1) {
      const head = table.byShort.get(key[0]!);
      if (head !== undefined && head[1].type !== 'bool') {
        entry = head;
        attached = key.slice(1);
      }
    }
    if (entry === undefined) throw usage(command, `unknown flag ${shown}`);
    const [name, flagSpec] = entry;
    let raw: string;
    if (attached !== undefined) {
      raw = attached;
    } else if (equals !== -1) {
      raw = token.slice(equals + 1);
    } else if (flagSpec.type === 'bool') {
      raw = 'true';
    } else {
      const next = flagPart[index + 1];
      if (!looksLikeValue(next)) {
        throw usage(command, `flag ${shown} needs a value${flagSpec.valueName === undefined ? '' : ` (${flagSpec.valueName})`}`);
      }
      raw = next;
      index++;
    }
    const value = convert(command, attached === undefined ? shown : `-${key[0]}`, flagSpec, raw);
    // A list flag given twice adds up (`--labels a=1 --labels b=2`); a default is replaced.
    if (flagSpec.type === 'list' && seenLists.has(name)) {
      values[name] = [...(values[name] as string[]), ...(value as string[])];
    } else {
      values[name] = value;
    }
    seenLists.add(name);
  }
  if (terminator !== -1) positionals.push(...argv.slice(terminator + 1));
  checkPositionals(spec, positionals);
  return { flags: values as FlagValues<S>, positionals, help: false };
}

function checkPositionals(spec: CommandSpec, positionals: readonly string[]): void {
  const allowed = spec.positionals;
  if (allowed === undefined) {
    if (positionals.length > 0) throw usage(spec.name, `unexpected argument ${JSON.stringify(positionals[0])}`);
    return;
  }
  if (positionals.length < allowed.min) throw usage(spec.name, `missing ${allowed.name}`);
  if (positionals.length > allowed.max) {
    throw usage(spec.name, `too many arguments: expected at most ${allowed.max} ${allowed.name}, got ${positionals.length}`);
  }
}

function defaultForHelp(spec: FlagSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText;
  if (spec.default === undefined) return '';
  if (spec.type === 'duration' && typeof spec.default === 'number') return formatDuration(spec.default);
  if (Array.isArray(spec.default)) return spec.default.join(',');
  return String(spec.default);
}

/** The text `bramble <command> --help` prints. */
export function formatHelp(spec: CommandSpec): string {
  const positional = spec.positionals === undefined ? '' : ` ${spec.positionals.name}`;
  const lines = [`Usage: bramble ${spec.name} ${spec.usage ?? `[flags]${positional}`}`, '', spec.summary, ''];
  if (spec.examples !== undefined && spec.examples.length > 0) {
    lines.push('Examples:', ...spec.examples.map((example) => `  ${example}`), '');
  }
  lines.push('Flags:');
  const rows = Object.entries(spec.flags).map(([name, flag]) => {
    const alias = flag.short === undefined ? '    ' : `-${flag.short}, `;
    const value = flag.type === 'bool' ? '' : ` ${flag.valueName ?? flag.type.toUpperCase()}`;
    const fallback = defaultForHelp(flag);
    return [`  ${alias}--${name}${value}`, `${flag.description}${fallback === '' ? '' : ` (default: ${fallback})`}`] as const;
  });
  rows.push(['  -h, --help', 'show this help']);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  for (const [left, right] of rows) lines.push(`${left.padEnd(width)}${right}`);
  return `${lines.join('\n')}\n`;
}
