// What `apply` does with one manifest, decided without I/O: create it, patch it, or leave it.
// Like kubectl (client-side apply), the manifest as last applied is kept in the object's
// `kubectl.kubernetes.io/last-applied-configuration` annotation; the next apply diffs the new
// manifest against that, so fields removed from the file are removed from the object (null in
// the merge patch) while fields the server or controllers own (status, defaults) are left alone.

import type { KObject } from '../model/index.ts';
import { createMergePatch, jsonEqual as deepEqual } from '../model/index.ts';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export type ApplyPlan =
  | { action: 'create'; body: KObject }
  | { action: 'patch'; patch: Record<string, unknown>; /** The live object had no last-applied annotation. */ adopted: boolean }
  | { action: 'unchanged' };

/** The manifest as given, minus the annotation (it would otherwise contain itself). */
export function withoutLastApplied(manifest: KObject): KObject {
  const copy = structuredClone(manifest);
  const annotations = copy.metadata?.annotations;
  if (annotations !== undefined && annotations !== null && Object.hasOwn(annotations, LAST_APPLIED)) delete annotations[LAST_APPLIED];
  return copy;
}

/** The annotation's value: compact JSON of the manifest without the annotation. */
export function lastAppliedJson(manifest: KObject): string {
  return JSON.stringify(withoutLastApplied(manifest));
}

/** The manifest with its last-applied annotation set: the body of a create. */
export function withLastApplied(manifest: KObject): KObject {
  const copy = withoutLastApplied(manifest);
  copy.metadata = { ...copy.metadata, annotations: { ...(copy.metadata?.annotations ?? {}), [LAST_APPLIED]: lastAppliedJson(manifest) } };
  return copy;
}

function readLastApplied(live: KObject): unknown {
  const text = live.metadata?.annotations?.[LAST_APPLIED];
  if (typeof text !== 'string') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Decides create / patch / unchanged for `manifest` given the live object (undefined: absent). */
export function planApply(manifest: KObject, live: KObject | undefined): ApplyPlan {
  if (live === undefined) return { action: 'create', body: withLastApplied(manifest) };
  const modified = withoutLastApplied(manifest);
  const original = readLastApplied(live);
  if (isObject(original) && deepEqual(original, modified)) return { action: 'unchanged' };
  // Without a last-applied configuration nothing is known to be removed: set what the file says.
  const patch = (createMergePatch(isObject(original) ? original : {}, modified) ?? {}) as Record<string, unknown>;
  const metadata = isObject(patch['metadata']) ? patch['metadata'] : {};
  let annotations = metadata['annotations'];
  if (annotations === null) {
    // Every annotation was removed from the file; delete them one by one so the new
    // last-applied annotation can still be set in the same patch.
    const before = isObject(original) && isObject(original['metadata']) && isObject(original['metadata']['annotations']) ? original['metadata']['annotations'] : {};
    annotations = Object.fromEntries(Object.keys(before).map((key) => [key, null]));
  }
  metadata['annotations'] = { ...(isObject(annotations) ? annotations : {}), [LAST_APPLIED]: lastAppliedJson(manifest) };
  patch['metadata'] = metadata;
  return { action: 'patch', patch, adopted: !isObject(original) };
}
