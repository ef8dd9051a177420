// Field paths and the causes that name them, worded like Kubernetes' field.Error so that a
// message printed by bramble reads like the one kubectl users know:
//   spec.containers[0].image: Required value
//   metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must ...
// The REST layer joins `field: message` pairs into the 422 Status message.
import type { CauseType, FieldCause } from './types.ts';

/** `spec` + `replicas` → `spec.replicas`; the root path is ''. */
export function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

/** `spec.containers` + 0 → `spec.containers[0]`. */
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

/** `data` + `game.properties` → `data[game.properties]` (map members, as Kubernetes prints them). */
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** A value as Kubernetes prints it after "Invalid value: ": strings quoted, objects as JSON. */
export function formatValue(value: unknown): string {
  if (value === undefined) return '""';
  if (typeof value === 'string') return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}

/** What a JSON value is, for "expected ..., got ..." messages. */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${formatValue(value)}`;
    case 'number':
      return `number ${String(value)}`;
    case 'boolean':
      return `boolean ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

function cause(reason: CauseType, field: string, message: string): FieldCause {
  return { reason, field, message };
}

const withDetail = (head: string, detail: string | undefined): string => (detail ? `${head}: ${detail}` : head);

export const Cause = {
  required: (field: string, detail?: string) => cause('FieldValueRequired', field, withDetail('Required value', detail)),
  invalid: (field: string, value: unknown, detail: string) =>
    cause('FieldValueInvalid', field, `Invalid value: ${formatValue(value)}: ${detail}`),
  notSupported: (field: string, value: unknown, supported: readonly string[]) =>
    cause(
      'FieldValueNotSupported',
      field,
      `Unsupported value: ${formatValue(value)}: supported values: ${supported.map((v) => JSON.stringify(v)).join(', ')}`,
    ),
  /** A value Kubernetes knows but bramble does not implement (Service type LoadBalancer, SCTP). */
  valueNotImplemented: (field: string, value: unknown, detail: string) =>
    cause('FieldValueNotSupported', field, `Unsupported value: ${formatValue(value)}: ${detail}`),
  /** A Kubernetes field bramble does not implement (spec.affinity): refused, never dropped. */
  fieldNotImplemented: (field: string, detail?: string) =>
    cause('FieldValueNotSupported', field, withDetail(`bramble does not support "${lastSegment(field)}"`, detail)),
  duplicate: (field: string, value: unknown) => cause('FieldValueDuplicate', field, `Duplicate value: ${formatValue(value)}`),
  notFound: (field: string, value: unknown) => cause('FieldValueNotFound', field, `Not found: ${formatValue(value)}`),
  tooLong: (field: string, max: number, unit = 'bytes') => cause('FieldValueTooLong', field, `Too long: must have at most ${max} ${unit}`),
  forbidden: (field: string, detail: string) => cause('FieldValueForbidden', field, withDetail('Forbidden', detail)),
  typeInvalid: (field: string, expected: string, value: unknown) =>
    cause('FieldValueTypeInvalid', field, `expected ${expected}, got ${describeJson(value)}`),
  unknownField: (field: string) => cause('FieldValueUnknown', field, `unknown field "${lastSegment(field)}"`),
  immutable: (field: string, value: unknown) => cause('FieldValueInvalid', field, `Invalid value: ${formatValue(value)}: field is immutable`),
};

/** `spec.containers[0].lifecycle` → `lifecycle`. */
function lastSegment(field: string): string {
  const dot = field.lastIndexOf('.');
  return dot < 0 ? field : field.slice(dot + 1);
}

/** Drops repeated causes (same field and message), keeping the first of each. */
export function uniqueCauses(causes: readonly FieldCause[]): FieldCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const id = `${c.field}\u0000${c.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
