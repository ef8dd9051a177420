// Helpers for reading parsed JSON that has not been checked yet. Defaulting and the semantic
// rules run even when the schema check found type errors (so a user sees every problem in one
// pass); these accessors answer `undefined` for a value of the wrong type instead of throwing,
// and the schema check has already reported it.

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value if it is a JSON object, else undefined. */
export function objectAt(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** The value if it is an array, else undefined. */
export function arrayAt(value: unknown): unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/** The value if it is a string, else undefined. */
export function stringAt(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The value if it is a finite number, else undefined. */
export function numberAt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Go's zero value for a string field means "not set": Kubernetes treats `""` like absence. */
export function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** A `Record<string,string>` view of a map whose values may be anything; non-strings are skipped. */
export function stringMapAt(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * A deep copy without null-valued object members. Kubernetes decodes `null` into Go's zero value
 * (absent), so `creationTimestamp: null` from `kubectl create --dry-run -o yaml` means "unset";
 * dropping the nulls gives defaulting and the rules one notion of absence. Array elements are
 * kept as they are (a null element is a type error the schema reports).
 */
export function copyWithoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => copyWithoutNulls(item)) as T;
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) out[k] = copyWithoutNulls(v);
    return out as T;
  }
  return value;
}

/** Structural equality of JSON values (object member order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** The member `key` of `parent`, created as `{}` when absent; undefined if something else is there. */
export function ensureObject(parent: JsonObject, key: string): JsonObject | undefined {
  if (parent[key] === undefined) parent[key] = {};
  return objectAt(parent[key]);
}

/** Sets `parent[key] = value` when the member is unset (absent or `""`). */
export function setDefault(parent: JsonObject, key: string, value: unknown): void {
  if (isUnset(parent[key])) parent[key] = value;
}
