// A small declarative schema for Kubernetes JSON: the shape of each kind is written once as
// data (src/model/kinds/) and this checker turns it into causes with full field paths. It checks
// JSON types, required fields, enums and single-field value rules, and refuses every member the
// schema does not name: a misspelt field silently dropped would leave the user believing it took
// effect (DESIGN: "Unsupported fields are refused with a clear error, not silently dropped").
// Rules that relate several fields (unique names, selector matches labels) live in src/model/rules/.
import { Cause, child, index, key } from './causes.ts';
import { isObject } from './json.ts';
import { checkQuantity, parseQuantity } from './quantity.ts';
import type { FieldCause } from './types.ts';

interface Common {
  /** Missing, `null`, `""` or `[]` is refused with "Required value". */
  readonly required?: boolean;
  /** Accepted and stored, but bramble does not act on it: the reason, for the README. */
  readonly inert?: string;
}

/** A single-value rule: an error message, or null when the value is fine. */
export type ValueCheck<T> = (value: T) => string | null;

export interface StringSchema extends Common {
  readonly type: 'string';
  readonly enum?: readonly string[];
  /** Values Kubernetes has but bramble refuses, with the reason (Service type LoadBalancer). */
  readonly notImplemented?: Readonly<Record<string, string>>;
  /** Run on non-empty values only: Kubernetes treats `""` as unset. */
  readonly check?: ValueCheck<string>;
}

export interface IntegerSchema extends Common {
  readonly type: 'integer';
  readonly min?: number;
  readonly max?: number;
  /** int64 fields (runAsUser, terminationGracePeriodSeconds); int32 otherwise, as in Kubernetes. */
  readonly int64?: boolean;
}

export interface BooleanSchema extends Common {
  readonly type: 'boolean';
}

/** Kubernetes' IntOrString (targetPort, maxSurge): an integer or a string. */
export interface IntOrStringSchema extends Common {
  readonly type: 'intOrString';
  readonly check?: ValueCheck<number | string>;
}

/** A resource quantity: "250m", "128Mi" or a JSON number. */
export interface QuantitySchema extends Common {
  readonly type: 'quantity';
  readonly nonNegative?: boolean;
}

export interface ObjectSchema extends Common {
  readonly type: 'object';
  readonly fields: Readonly<Record<string, Schema>>;
  /** Members not in `fields` are allowed (status written by bramble's own controllers). */
  readonly open?: boolean;
}

export interface MapSchema extends Common {
  readonly type: 'map';
  readonly values: Schema;
  /** Refuses a key with `<path>: Invalid value: "<key>": ...`, as Kubernetes reports label keys. */
  readonly keyCheck?: ValueCheck<string>;
}

export interface ArraySchema extends Common {
  readonly type: 'array';
  readonly items: Schema;
}

/** Free-form JSON (managedFields, a status bramble does not check field by field). */
export interface AnySchema extends Common {
  readonly type: 'any';
  readonly objectOnly?: boolean;
}

/** A field Kubernetes has and bramble refuses (spec.affinity), unless given a harmless value. */
export interface NotImplementedSchema extends Common {
  readonly type: 'notImplemented';
  readonly detail?: string;
  /** Values that mean "feature off" besides false, '', {} and [] (priority: 0). */
  readonly harmless?: readonly unknown[];
  /** No value is harmless: a volume source's mere presence picks that source. */
  readonly strict?: boolean;
}

export type Schema =
  | StringSchema
  | IntegerSchema
  | BooleanSchema
  | IntOrStringSchema
  | QuantitySchema
  | ObjectSchema
  | MapSchema
  | ArraySchema
  | AnySchema
  | NotImplementedSchema;

// ---- builders ----------------------------------------------------------------------------------

type Options<S> = Omit<S, 'type'>;

export const str = (opts: Options<StringSchema> = {}): StringSchema => ({ type: 'string', ...opts });
export const enumOf = (values: readonly string[], opts: Options<StringSchema> = {}): StringSchema => ({ type: 'string', enum: values, ...opts });
export const int = (opts: Options<IntegerSchema> = {}): IntegerSchema => ({ type: 'integer', ...opts });
export const bool = (opts: Options<BooleanSchema> = {}): BooleanSchema => ({ type: 'boolean', ...opts });
export const intOrString = (opts: Options<IntOrStringSchema> = {}): IntOrStringSchema => ({ type: 'intOrString', ...opts });
export const quantity = (opts: Options<QuantitySchema> = {}): QuantitySchema => ({ type: 'quantity', ...opts });
export const obj = (fields: Readonly<Record<string, Schema>>, opts: Omit<Options<ObjectSchema>, 'fields'> = {}): ObjectSchema => ({ type: 'object', fields, ...opts });
export const arr = (items: Schema, opts: Omit<Options<ArraySchema>, 'items'> = {}): ArraySchema => ({ type: 'array', items, ...opts });
export const map = (values: Schema, opts: Omit<Options<MapSchema>, 'values'> = {}): MapSchema => ({ type: 'map', values, ...opts });
export const any = (opts: Options<AnySchema> = {}): AnySchema => ({ type: 'any', ...opts });
export const notImplemented = (detail?: string, opts: Omit<Options<NotImplementedSchema>, 'detail'> = {}): NotImplementedSchema => ({
  type: 'notImplemented',
  ...(detail === undefined ? {} : { detail }),
  ...opts,
});
export const required = <S extends Schema>(schema: S): S => ({ ...schema, required: true });
export const inert = <S extends Schema>(schema: S, why: string): S => ({ ...schema, inert: why });
export const stringList = (opts: Omit<Options<ArraySchema>, 'items'> = {}, item: Options<StringSchema> = {}): ArraySchema => arr(str(item), opts);
export const stringMap = (opts: Omit<Options<MapSchema>, 'values'> = {}, value: Options<StringSchema> = {}): MapSchema => map(str(value), opts);

// ---- the checker -------------------------------------------------------------------------------

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function expected(schema: Schema): string {
  switch (schema.type) {
    case 'string':
      return 'a string';
    case 'integer':
      return 'an integer';
    case 'boolean':
      return 'a boolean';
    case 'intOrString':
      return 'an integer or a string';
    case 'quantity':
      return 'a quantity (a string such as "250m" or a number)';
    case 'object':
    case 'map':
      return 'an object';
    case 'array':
      return 'an array';
    case 'any':
      return schema.objectOnly ? 'an object' : 'a JSON value';
    case 'notImplemented':
      return 'nothing';
  }
}

function rangeMessage(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return `must be between ${min} and ${max}, inclusive`;
  if (min !== undefined) return `must be greater than or equal to ${min}`;
  return `must be less than or equal to ${max}`;
}

/** Kubernetes' notion of an unset member: Go decodes null and "" to the zero value. */
function isMissing(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

function isHarmless(schema: NotImplementedSchema, value: unknown): boolean {
  if (schema.strict) return false;
  if (value === false || value === '') return true;
  if (Array.isArray(value) && value.length === 0) return true;
  if (isObject(value) && Object.keys(value).length === 0) return true;
  return (schema.harmless ?? []).includes(value);
}

/** Appends the causes for `value` against `schema` at `path`; `value` is never undefined or null here. */
export function checkValue(value: unknown, schema: Schema, path: string, causes: FieldCause[]): void {
  switch (schema.type) {
    case 'string': {
      if (typeof value !== 'string') {
        causes.push(Cause.typeInvalid(path, expected(schema), value));
        return;
      }
      if (value === '') return;
      const refusal = schema.notImplemented?.[value];
      if (refusal !== undefined) {
        causes.push(Cause.valueNotImplemented(path, value, refusal));
        return;
      }
      if (schema.enum !== undefined && !schema.enum.includes(value)) {
        causes.push(Cause.notSupported(path, value, schema.enum));
        return;
      }
      const bad = schema.check?.(value);
      if (bad) causes.push(Cause.invalid(path, value, bad));
      return;
    }
    case 'integer': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        causes.push(Cause.typeInvalid(path, expected(schema), value));
        return;
      }
      if (schema.int64 ? !Number.isSafeInteger(value) : value < INT32_MIN || value > INT32_MAX) {
        causes.push(Cause.typeInvalid(path, schema.int64 ? 'a 64-bit integer' : 'a 32-bit integer', value));
        return;
      }
      if ((schema.min !== undefined && value < schema.min) || (schema.max !== undefined && value > schema.max)) {
        causes.push(Cause.invalid(path, value, rangeMessage(schema.min, schema.max)));
      }
      return;
    }
    case 'boolean':
      if (typeof value !== 'boolean') causes.push(Cause.typeInvalid(path, expected(schema), value));
      return;
    case 'intOrString': {
      if (typeof value === 'number' ? !Number.isSafeInteger(value) : typeof value !== 'string') {
        causes.push(Cause.typeInvalid(path, expected(schema), value));
        return;
      }
      const bad = schema.check?.(value as number | string);
      if (bad) causes.push(Cause.invalid(path, value, bad));
      return;
    }
    case 'quantity': {
      if (typeof value !== 'string' && typeof value !== 'number') {
        causes.push(Cause.typeInvalid(path, expected(schema), value));
        return;
      }
      const bad = checkQuantity(value);
      if (bad !== null) causes.push(Cause.invalid(path, value, bad));
      else if (schema.nonNegative && parseQuantity(value) < 0) causes.push(Cause.invalid(path, value, 'must be greater than or equal to 0'));
      return;
    }
    case 'object': {
      if (!isObject(value)) {
        causes.push(Cause.typeInvalid(path, expected(schema), value));
        return;
      }
      checkFields(value, schema, path, causes);
      return;
    }
    case 'map': {
      if (!isObject(value)) {
        causes.push(Cause.typeInvalid(path, expected(schema), value));
        return;
      }
      for (const [k, v] of Object.entries(value)) {
        const badKey = schema.keyCheck?.(k);
        if (badKey) causes.push(Cause.invalid(path, k, badKey));
        if (v === undefined || v === null) causes.push(Cause.typeInvalid(key(path, k), expected(schema.values), v));
        else checkValue(v, schema.values, key(path, k), causes);
      }
      return;
    }
    case 'array': {
      if (!Array.isArray(value)) {
        causes.push(Cause.typeInvalid(path, expected(schema), value));
        return;
      }
      value.forEach((item, i) => {
        if (item === undefined || item === null) causes.push(Cause.typeInvalid(index(path, i), expected(schema.items), item));
        else checkValue(item, schema.items, index(path, i), causes);
      });
      return;
    }
    case 'any':
      if (schema.objectOnly && !isObject(value)) causes.push(Cause.typeInvalid(path, expected(schema), value));
      return;
    case 'notImplemented':
      if (!isHarmless(schema, value)) causes.push(Cause.fieldNotImplemented(path, schema.detail));
      return;
  }
}

function checkFields(value: Record<string, unknown>, schema: ObjectSchema, path: string, causes: FieldCause[]): void {
  for (const [name, member] of Object.entries(value)) {
    const fieldSchema = schema.fields[name];
    const fieldPath = child(path, name);
    if (fieldSchema === undefined) {
      if (!schema.open) causes.push(Cause.unknownField(fieldPath));
      continue;
    }
    // null means "unset" in Kubernetes JSON (creationTimestamp: null), so only `required` cares.
    if (member === null || member === undefined) continue;
    if (fieldSchema.required && isMissing(member)) continue;
    checkValue(member, fieldSchema, fieldPath, causes);
  }
  for (const [name, fieldSchema] of Object.entries(schema.fields)) {
    if (fieldSchema.required && isMissing(value[name])) causes.push(Cause.required(child(path, name)));
  }
}

/** All causes for a parsed JSON document against a schema; the path of the root is ''. */
export function checkSchema(value: unknown, schema: Schema, path = ''): FieldCause[] {
  const causes: FieldCause[] = [];
  if (value === undefined || value === null) {
    if (schema.required) causes.push(Cause.required(path));
    else if (schema.type === 'object') causes.push(Cause.typeInvalid(path, 'an object', value));
    return causes;
  }
  checkValue(value, schema, path, causes);
  return causes;
}

// ---- documentation -----------------------------------------------------------------------------

export interface SchemaNote {
  /** `spec.containers[].lifecycle`; `[]` for any array index, `[*]` for any map key. */
  path: string;
  kind: 'notImplemented' | 'inert';
  detail: string;
}

/** Every refused and every accepted-but-inert field under `schema`, for the README and `explain`. */
export function schemaNotes(schema: Schema, path = ''): SchemaNote[] {
  const notes: SchemaNote[] = [];
  const walk = (s: Schema, p: string): void => {
    if (s.inert !== undefined) notes.push({ path: p, kind: 'inert', detail: s.inert });
    switch (s.type) {
      case 'notImplemented':
        notes.push({ path: p, kind: 'notImplemented', detail: s.detail ?? '' });
        return;
      case 'string':
        for (const [v, why] of Object.entries(s.notImplemented ?? {})) notes.push({ path: `${p}=${v}`, kind: 'notImplemented', detail: why });
        return;
      case 'object':
        for (const [name, f] of Object.entries(s.fields)) walk(f, child(p, name));
        return;
      case 'array':
        walk(s.items, `${p}[]`);
        return;
      case 'map':
        walk(s.values, `${p}[*]`);
        return;
      default:
        return;
    }
  };
  walk(schema, path);
  return notes;
}
