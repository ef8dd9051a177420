// ConfigMap and Secret rules: keys that can be file names in a volume, unique across data and
// binaryData, base64 where the API carries bytes, the 1 MiB size cap (an object is one store
// value, replicated by Raft to every gateway), and the keys each typed Secret must have.
// A bad Secret value is never echoed back in a message.
import { Cause, key } from '../causes.ts';
import { objectAt, stringAt, type JsonObject } from '../json.ts';
import { checkConfigMapKey } from '../names.ts';
import type { FieldCause } from '../types.ts';

/** Kubernetes' cap on ConfigMap and Secret payloads. */
export const CONFIG_MAX_BYTES = 1024 * 1024;

const BASE64_CHAR = /[A-Za-z0-9+/]/;

/**
 * Why a string is not standard padded base64 (what Go's encoding/json expects for []byte), or
 * null. The message names the offset, never the content.
 */
export function checkBase64(value: string): string | null {
  const body = value.replace(/=+$/, '');
  const padding = value.length - body.length;
  for (let i = 0; i < body.length; i++) {
    if (!BASE64_CHAR.test(body[i]!)) return `illegal base64 data at input byte ${i}`;
  }
  if (value.length % 4 !== 0 || padding > 2 || (padding > 0 && body.length % 4 === 1)) {
    return `illegal base64 data at input byte ${value.length}`;
  }
  return null;
}

function base64Cause(field: string, detail: string): FieldCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: <value omitted>: must be base64-encoded: ${detail}` };
}

function checkKeys(map: JsonObject | undefined, path: string, causes: FieldCause[]): void {
  for (const k of Object.keys(map ?? {})) {
    const bad = checkConfigMapKey(k);
    if (bad) causes.push(Cause.invalid(key(path, k), k, bad));
  }
}

/** Checks the base64 values of `map` and answers their decoded size. */
function checkBase64Values(map: JsonObject | undefined, path: string, causes: FieldCause[]): number {
  let size = 0;
  for (const [k, v] of Object.entries(map ?? {})) {
    if (typeof v !== 'string') continue;
    const bad = checkBase64(v);
    if (bad) causes.push(base64Cause(key(path, k), bad));
    else size += Buffer.from(v, 'base64').length;
  }
  return size;
}

export function validateConfigMap(o: JsonObject, causes: FieldCause[]): void {
  const data = objectAt(o.data);
  const binaryData = objectAt(o.binaryData);
  checkKeys(data, 'data', causes);
  checkKeys(binaryData, 'binaryData', causes);
  // Both maps become files of one volume directory, so a key may appear in only one of them.
  for (const k of Object.keys(binaryData ?? {})) {
    if (data && Object.hasOwn(data, k)) causes.push(Cause.invalid(key('data', k), k, 'duplicate of key present in binaryData'));
  }
  let size = checkBase64Values(binaryData, 'binaryData', causes);
  for (const v of Object.values(data ?? {})) if (typeof v === 'string') size += Buffer.byteLength(v);
  if (size > CONFIG_MAX_BYTES) causes.push(Cause.tooLong('data', CONFIG_MAX_BYTES));
}

/** Keys a typed Secret must carry (Kubernetes' well-known Secret types). */
const REQUIRED_SECRET_KEYS: Readonly<Record<string, readonly string[]>> = {
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

export function validateSecret(o: JsonObject, causes: FieldCause[]): void {
  // stringData has been merged into data by defaulting; its keys are checked as data keys.
  const data = objectAt(o.data);
  checkKeys(data, 'data', causes);
  const size = checkBase64Values(data, 'data', causes);
  if (size > CONFIG_MAX_BYTES) causes.push(Cause.tooLong('data', CONFIG_MAX_BYTES));
  const type = stringAt(o.type) ?? 'Opaque';
  for (const k of REQUIRED_SECRET_KEYS[type] ?? []) {
    if (!data || !Object.hasOwn(data, k)) causes.push(Cause.required(key('data', k)));
  }
  if (type === 'kubernetes.io/basic-auth' && !(data && (Object.hasOwn(data, 'username') || Object.hasOwn(data, 'password')))) {
    causes.push(Cause.required(key('data', 'username'), 'basic-auth Secrets need `username` or `password`'));
  }
  if (type === 'kubernetes.io/service-account-token') {
    causes.push(Cause.valueNotImplemented('type', type, 'bramble has no service accounts'));
  }
}
