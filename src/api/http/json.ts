// Parses a JSON request body. JSON.parse does the work; only when it fails does a small scanner
// walk the bytes to find where, and words the problem as Go's encoding/json does (etcd's gateway
// is Go), e.g. "invalid character 'b' looking for beginning of object key string".
import { badRequest } from './errors.ts';

export type JsonObject = { [name: string]: unknown };

export interface JsonSyntaxError {
  /** Byte offset of the offending byte (the body's length when the input ended too early). */
  offset: number;
  /** Go's encoding/json wording. */
  message: string;
}

/** Parses `body` as one JSON object. An empty (or all-whitespace) body is `{}`, as grpc-gateway
 *  treats it; anything else that is not a JSON object is refused with a 400 HttpError naming
 *  `what` ("put request") and the byte where the JSON went wrong. */
export function parseJsonObject(body: Buffer, what: string): JsonObject {
  if (isJsonBlank(body)) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    const found = findJsonSyntaxError(body);
    if (found !== null) {
      throw badRequest(`malformed JSON in the ${what} body at byte ${found.offset}: ${found.message}`, found.message);
    }
    throw badRequest(`malformed JSON in the ${what} body: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`the ${what} body must be a JSON object, got ${describeJson(value)}`);
  }
  return value as JsonObject;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A short description of a JSON value for error messages: `number 1.5`, `string "abc"`, `an array`. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'number':
      return `number ${value}`;
    case 'boolean':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

// Go's quoteChar: the byte as a rune inside single quotes, escaped as strconv.Quote would.
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return `'"'`;
  if (c === 0x5c) return "'\\\\'";
  const named = NAMED_ESCAPES[c];
  if (named !== undefined) return `'${named}'`;
  const hex = c.toString(16).padStart(2, '0');
  if (c < 0x20 || c === 0x7f) return `'\\x${hex}'`;
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return `'\\u00${hex}'`;
  return `'${String.fromCharCode(c)}'`;
}

const NAMED_ESCAPES: Readonly<Record<number, string>> = {
  0x07: '\\a',
  0x08: '\\b',
  0x0c: '\\f',
  0x0a: '\\n',
  0x0d: '\\r',
  0x09: '\\t',
  0x0b: '\\v',
};

const OBJECT = 0;
const ARRAY = 1;

class Stop {
  constructor(readonly error: JsonSyntaxError) {}
}

/** The first syntax error in `bytes` as Go reports it, or null when the JSON is valid. Iterative,
 *  so a body of a million '[' cannot overflow the stack. */
export function findJsonSyntaxError(bytes: Uint8Array): JsonSyntaxError | null {
  const n = bytes.length;
  const stack: number[] = [];
  let i = 0;
  const fail = (offset: number, message: string): never => {
    throw new Stop({ offset, message });
  };
  const end = (): never => fail(n, 'unexpected end of JSON input');
  const skipSpace = (): void => {
    while (i < n && isSpace(bytes[i]!)) i++;
  };
  const expectKey = (): void => {
    skipSpace();
    if (i >= n) end();
    if (bytes[i] !== 0x22) fail(i, `invalid character ${quoteChar(bytes[i]!)} looking for beginning of object key string`);
    scanString();
    skipSpace();
    if (i >= n) end();
    if (bytes[i] !== 0x3a) fail(i, `invalid character ${quoteChar(bytes[i]!)} after object key`);
    i++;
  };
  const scanString = (): void => {
    i++; // the opening quote
    for (;;) {
      if (i >= n) end();
      const c = bytes[i]!;
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail(i, `invalid character ${quoteChar(c)} in string literal`);
      if (c === 0x5c) {
        i++;
        if (i >= n) end();
        const e = bytes[i]!;
        if (e === 0x75) {
          for (let k = 0; k < 4; k++) {
            i++;
            if (i >= n) end();
            if (!isHex(bytes[i]!)) fail(i, `invalid character ${quoteChar(bytes[i]!)} in \\u hexadecimal character escape`);
          }
        } else if (!SIMPLE_ESCAPES.has(e)) {
          fail(i, `invalid character ${quoteChar(e)} in string escape code`);
        }
      }
      i++;
    }
  };
  const scanDigits = (context: string): void => {
    if (i >= n) end();
    if (!isDigit(bytes[i]!)) fail(i, `invalid character ${quoteChar(bytes[i]!)} ${context}`);
    while (i < n && isDigit(bytes[i]!)) i++;
  };
  const scanNumber = (): void => {
    if (bytes[i] === 0x2d) i++;
    if (i >= n) end();
    if (bytes[i] === 0x30) i++;
    else scanDigits('in numeric literal');
    if (i < n && bytes[i] === 0x2e) {
      i++;
      scanDigits('after decimal point in numeric literal');
    }
    if (i < n && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
      i++;
      if (i < n && (bytes[i] === 0x2b || bytes[i] === 0x2d)) i++;
      scanDigits('in exponent of numeric literal');
    }
  };
  const scanLiteral = (word: string): void => {
    for (let k = 1; k < word.length; k++) {
      i++;
      if (i >= n) end();
      if (bytes[i] !== word.charCodeAt(k)) {
        fail(i, `invalid character ${quoteChar(bytes[i]!)} in literal ${word} (expecting '${word[k]}')`);
      }
    }
    i++;
  };

  try {
    skipSpace();
    for (;;) {
      // A value is expected at i.
      if (i >= n) end();
      const c = bytes[i]!;
      let containerOpened = false;
      if (c === 0x7b) {
        i++;
        skipSpace();
        if (i < n && bytes[i] === 0x7d) i++;
        else {
          stack.push(OBJECT);
          expectKey();
          containerOpened = true;
        }
      } else if (c === 0x5b) {
        i++;
        skipSpace();
        if (i < n && bytes[i] === 0x5d) i++;
        else {
          stack.push(ARRAY);
          containerOpened = true;
        }
      } else if (c === 0x22) scanString();
      else if (c === 0x2d || isDigit(c)) scanNumber();
      else if (c === 0x74) scanLiteral('true');
      else if (c === 0x66) scanLiteral('false');
      else if (c === 0x6e) scanLiteral('null');
      else fail(i, `invalid character ${quoteChar(c)} looking for beginning of value`);
      if (containerOpened) {
        skipSpace();
        continue;
      }
      // After a complete value: close containers or move to the next element.
      for (;;) {
        skipSpace();
        const top = stack[stack.length - 1];
        if (top === undefined) {
          if (i < n) fail(i, `invalid character ${quoteChar(bytes[i]!)} after top-level value`);
          return null;
        }
        if (i >= n) end();
        const d = bytes[i]!;
        if (top === OBJECT) {
          if (d === 0x2c) {
            i++;
            expectKey();
            break;
          }
          if (d !== 0x7d) fail(i, `invalid character ${quoteChar(d)} after object key:value pair`);
        } else {
          if (d === 0x2c) {
            i++;
            break;
          }
          if (d !== 0x5d) fail(i, `invalid character ${quoteChar(d)} after array element`);
        }
        stack.pop();
        i++;
      }
      skipSpace();
    }
  } catch (stop) {
    if (stop instanceof Stop) return stop.error;
    throw stop;
  }
}

const SIMPLE_ESCAPES: ReadonlySet<number> = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74]);

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/**
 * Finds where the first top-level JSON object ends in a body that arrives in chunks, without
 * parsing it: depth counting outside strings. Used where a client may keep the request body
 * open after its first message (etcd's gateway reads a watch body as a stream of messages).
 */
export class JsonObjectEnd {
  #depth = 0;
  #inString = false;
  #escaped = false;
  #started = false;
  #notAnObject = false;

  /** Feeds the next chunk; returns the offset in it just past the first object's closing brace,
   *  or -1 if the object has not ended yet (or the body does not start with '{'). */
  feed(chunk: Uint8Array): number {
    if (this.#notAnObject) return -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === 0x5c) this.#escaped = true;
        else if (c === 0x22) this.#inString = false;
      } else if (!this.#started) {
        if (isSpace(c)) continue;
        if (c !== 0x7b) {
          this.#notAnObject = true; // left to the parser to word the error
          return -1;
        }
        this.#started = true;
        this.#depth = 1;
      } else if (c === 0x22) this.#inString = true;
      else if (c === 0x7b || c === 0x5b) this.#depth++;
      else if ((c === 0x7d || c === 0x5d) && --this.#depth === 0) return i + 1;
    }
    return -1;
  }
}

/** True when `bytes` hold only JSON whitespace. */
export function isJsonBlank(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (!isSpace(bytes[i]!)) return false;
  return true;
}
