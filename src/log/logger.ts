// Structured logs: one JSON object per line, so `journalctl -o cat | jq` and test assertions can
// read them without parsing prose. Logging must never take the daemon down, so nothing in this
// file throws on odd field values or on a failing stream.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Readonly<Record<string, unknown>>;

/** Where lines go: process.stderr by default; tests pass a recorder. */
export interface LogSink {
  write(line: string): unknown;
}

export interface Logger {
  readonly level: LogLevel;
  isEnabled(level: LogLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` (usually `{ component }`) to every line; the child's win. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  level?: LogLevel;
  sink?: LogSink;
  /** Injected so tests get a fixed `ts`. */
  now?: () => Date;
  fields?: LogFields;
}

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

// The line's own keys come first and cannot be overwritten by a field of the same name; such a
// field is kept under `field.<name>` instead of being lost.
const RESERVED_KEYS: ReadonlySet<string> = new Set(['ts', 'level', 'msg']);

// An Error's own properties are not enumerable, so JSON.stringify would print `{}`.
function errorToJson(error: Error): Record<string, unknown> {
  const json: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) json['code'] = code;
  if (error.stack !== undefined) json['stack'] = error.stack;
  if (error.cause !== undefined) json['cause'] = error.cause instanceof Error ? errorToJson(error.cause) : error.cause;
  return json;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return errorToJson(value);
  return value;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[unprintable]';
  }
}

/** JSON text of one value; a value JSON cannot encode (circular, throwing toJSON) becomes a string. */
function encodeValue(value: unknown): string {
  try {
    const json = JSON.stringify(value, replacer);
    // undefined, functions and symbols have no JSON form; keep the key visible anyway.
    return json === undefined ? JSON.stringify(safeString(value)) : json;
  } catch {
    return JSON.stringify(safeString(value));
  }
}

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** Formats one log line (without the newline). Exported for tests and for other sinks. */
export function formatLogLine(ts: Date, level: LogLevel, msg: string, fields: LogFields): string {
  const parts = [`"ts":${encodeValue(safeIso(ts))}`, `"level":"${level}"`, `"msg":${encodeValue(msg)}`];
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (value === undefined) continue;
    const name = RESERVED_KEYS.has(key) ? `field.${key}` : key;
    parts.push(`${JSON.stringify(name)}:${encodeValue(value)}`);
  }
  return `{${parts.join(',')}}`;
}

function safeIso(ts: Date): string {
  try {
    return ts.toISOString();
  } catch {
    return safeString(ts);
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const sink = options.sink ?? process.stderr;
  const now = options.now ?? (() => new Date());
  return makeLogger(level, sink, now, options.fields ?? {});
}

function makeLogger(level: LogLevel, sink: LogSink, now: () => Date, base: LogFields): Logger {
  const minimum = LEVEL_RANK[level];
  const emit = (lineLevel: LogLevel, msg: string, fields: LogFields | undefined): void => {
    if (LEVEL_RANK[lineLevel] < minimum) return;
    const merged = fields === undefined ? base : { ...base, ...fields };
    try {
      sink.write(`${formatLogLine(now(), lineLevel, msg, merged)}\n`);
    } catch {
      // A closed or broken stderr must not crash the daemon; there is nowhere left to report it.
    }
  };
  return {
    level,
    isEnabled: (candidate) => LEVEL_RANK[candidate] >= minimum,
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
    child: (fields) => makeLogger(level, sink, now, { ...base, ...fields }),
  };
}
