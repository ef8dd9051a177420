// JSON merge patch (RFC 7386), both ways: computing the patch that turns one document into
// another (what `bramble apply` sends) and applying one (what the API server does).
import { jsonEqual } from './json.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The merge patch from `original` to `modified`, or undefined when they are equal. Keys gone
 * from `modified` become null (delete); objects are diffed key by key; arrays and scalars that
 * differ are replaced whole (merge patch has no way to edit an array in place).
 */
export function createMergePatch(original: unknown, modified: unknown): unknown {
  if (!isObject(original) || !isObject(modified)) return jsonEqual(original, modified) ? undefined : modified;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(original)) {
    if (!Object.hasOwn(modified, key)) patch[key] = null;
  }
  for (const [key, value] of Object.entries(modified)) {
    if (!Object.hasOwn(original, key)) {
      patch[key] = value;
      continue;
    }
    const sub = createMergePatch(original[key], value);
    if (sub !== undefined) patch[key] = sub;
  }
  return Object.keys(patch).length === 0 ? undefined : patch;
}

/** RFC 7386 MergePatch(target, patch). Does not modify its arguments. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}
