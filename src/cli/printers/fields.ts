// Reading the loosely typed JSON of API objects without a cast at every step: a missing or
// wrongly typed field reads as empty, so a printer never throws on a half-filled status.

export type JsonObject = Record<string, unknown>;

export function obj(value: unknown): JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : {};
}

export function arr(value: unknown): JsonObject[] {
  return Array.isArray(value) ? value.map(obj) : [];
}

export function strs(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : fallback;
}

export function num(value: unknown, fallback = 0): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** A dotted path: `at(pod, 'status', 'phase')`. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) current = obj(current)[key];
  return current;
}

/** `a=1,b=2` from a string map, keys in order; `<none>` when empty (kubectl's label form). */
export function formatMap(map: unknown, empty = '<none>'): string {
  const entries = Object.entries(obj(map));
  return entries.length === 0 ? empty : entries.map(([k, v]) => `${k}=${str(v)}`).join(',');
}

/** A label selector (matchLabels and matchExpressions) as text: `app=web,tier in (a,b)`. */
export function formatSelector(selector: unknown): string {
  const s = obj(selector);
  const parts = Object.entries(obj(s['matchLabels'])).map(([k, v]) => `${k}=${str(v)}`);
  for (const e of arr(s['matchExpressions'])) {
    const key = str(e['key']);
    const values = strs(e['values']).join(',');
    switch (str(e['operator'])) {
      case 'In':
        parts.push(`${key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(key);
        break;
      case 'DoesNotExist':
        parts.push(`!${key}`);
        break;
    }
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}
