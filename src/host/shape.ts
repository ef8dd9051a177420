// A tiny checker for JSON documents of a fixed shape (board profiles). It collects every problem
// instead of stopping at the first, so a user fixes a bad file in one pass; each problem names
// the field path. Unknown keys are problems too: a misspelt key silently ignored would leave the
// default in force while the user believes the setting took effect.

export type Shape =
  | { readonly kind: 'string'; readonly lengthMax: number; readonly pattern?: RegExp; readonly patternHint?: string }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number }
  | { readonly kind: 'stringList'; readonly itemsMax: number; readonly itemLengthMax: number }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, Shape>> };

/** The TypeScript type of a value that passed `checkShape(value, S)`. */
export type ShapeValue<S extends Shape> = S extends { kind: 'string' }
  ? string
  : S extends { kind: 'enum'; values: readonly (infer V)[] }
    ? V
    : S extends { kind: 'integer' }
      ? number
      : S extends { kind: 'stringList' }
        ? string[]
        : S extends { kind: 'object'; fields: infer F extends Readonly<Record<string, Shape>> }
          ? { [K in keyof F]: ShapeValue<F[K]> }
          : never;

/** A short, safe description of a JSON value for "got ..." in messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** What a value of this shape should look like, for "expected ..." in messages. */
export function describeShape(shape: Shape): string {
  switch (shape.kind) {
    case 'string':
      return shape.patternHint ?? 'a string';
    case 'enum':
      return `one of ${shape.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'integer':
      if (shape.min === 1) return 'a positive integer';
      if (shape.min === 0) return 'a non-negative integer';
      return `an integer from ${shape.min}`;
    case 'stringList':
      return 'an array of strings';
    case 'object':
      return 'an object';
  }
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const joinPath = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

/** Appends one `path: problem` line per problem to `problems`. */
export function checkShape(value: unknown, shape: Shape, path: string, problems: string[]): void {
  const where = path === '' ? '(top level)' : path;
  switch (shape.kind) {
    case 'string':
      if (typeof value !== 'string') {
        problems.push(`${where}: expected ${describeShape(shape)}, got ${describeValue(value)}`);
      } else if (value.length === 0 || value.length > shape.lengthMax) {
        problems.push(`${where}: must be 1 to ${shape.lengthMax} characters long, got ${value.length}`);
      } else if (shape.pattern !== undefined && !shape.pattern.test(value)) {
        problems.push(`${where}: expected ${describeShape(shape)}, got ${describeValue(value)}`);
      }
      return;
    case 'enum':
      if (typeof value !== 'string' || !shape.values.includes(value)) {
        problems.push(`${where}: expected ${describeShape(shape)}, got ${describeValue(value)}`);
      }
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        problems.push(`${where}: expected ${describeShape(shape)}, got ${describeValue(value)}`);
      } else if (value < shape.min || value > shape.max) {
        problems.push(`${where}: must be from ${shape.min} to ${shape.max}, got ${value}`);
      }
      return;
    case 'stringList':
      checkStringList(value, shape, where, problems);
      return;
    case 'object':
      checkObject(value, shape.fields, path, problems);
      return;
  }
}

function checkStringList(
  value: unknown,
  shape: Extract<Shape, { kind: 'stringList' }>,
  where: string,
  problems: string[],
): void {
  if (!Array.isArray(value)) {
    problems.push(`${where}: expected ${describeShape(shape)}, got ${describeValue(value)}`);
    return;
  }
  if (value.length > shape.itemsMax) {
    problems.push(`${where}: at most ${shape.itemsMax} items, got ${value.length}`);
  }
  value.forEach((item, index) => {
    if (typeof item !== 'string' || item.length === 0 || item.length > shape.itemLengthMax) {
      problems.push(
        `${where}[${index}]: expected a string of 1 to ${shape.itemLengthMax} characters, got ${describeValue(item)}`,
      );
    }
  });
}

function checkObject(
  value: unknown,
  fields: Readonly<Record<string, Shape>>,
  path: string,
  problems: string[],
): void {
  if (!isPlainObject(value)) {
    problems.push(`${path === '' ? '(top level)' : path}: expected an object, got ${describeValue(value)}`);
    return;
  }
  const known = Object.keys(fields);
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(fields, key)) {
      problems.push(`${joinPath(path, key)}: unknown key (known keys here: ${known.join(', ')})`);
    }
  }
  for (const key of known) {
    const fieldShape = fields[key]!;
    if (!Object.hasOwn(value, key)) {
      problems.push(`${joinPath(path, key)}: missing (expected ${describeShape(fieldShape)})`);
      continue;
    }
    checkShape(value[key], fieldShape, joinPath(path, key), problems);
  }
}

/** Freezes a validated document so no part of the daemon can change its settings in place. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
