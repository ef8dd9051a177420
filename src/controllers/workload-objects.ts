// Small readings of workload objects shared by the controllers: controller references, pod
// readiness and availability, int-or-percent values, template hashes and pods made from
// templates. Pure functions over the JSON shapes; nothing here writes.
import type { KObject, LabelMatcher, LabelSelector, OwnerReference } from '../model/index.ts';
import { matcherForLabelSelector } from '../model/index.ts';

export type Json = Record<string, unknown>;

export function isJson(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function specOf(object: KObject): Json {
  return isJson(object['spec']) ? object['spec'] : {};
}

export function statusOf(object: KObject): Json {
  return isJson(object['status']) ? object['status'] : {};
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** `namespace/name`, the key of a namespaced object in the work queues. */
export function keyOf(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ''}/${name ?? ''}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The ownerReference with `controller: true`, if any. */
export function controllerRefOf(object: KObject): OwnerReference | undefined {
  return (object.metadata.ownerReferences ?? []).find((r) => r.controller === true);
}

/** The reference a controller puts on what it owns (Kubernetes' NewControllerRef). */
export function controllerRefTo(owner: KObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** The owner's selector as a matcher; a selector that cannot be read selects nothing. */
export function selectorOf(owner: KObject): LabelMatcher {
  try {
    return matcherForLabelSelector(specOf(owner)['selector'] as LabelSelector | undefined);
  } catch {
    return () => false;
  }
}

export function isTerminating(object: KObject): boolean {
  return typeof object.metadata.deletionTimestamp === 'string';
}

export function podPhase(pod: KObject): string {
  const phase = statusOf(pod)['phase'];
  return typeof phase === 'string' ? phase : 'Pending';
}

/** Counts toward a controller's replicas: not being deleted and not finished (Kubernetes' IsPodActive). */
export function isPodActive(pod: KObject): boolean {
  const phase = podPhase(pod);
  return !isTerminating(pod) && phase !== 'Succeeded' && phase !== 'Failed';
}

function readyCondition(pod: KObject): Json | undefined {
  const conditions = statusOf(pod)['conditions'];
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((c): c is Json => isJson(c) && c['type'] === 'Ready');
}

export function isPodReady(pod: KObject): boolean {
  return readyCondition(pod)?.['status'] === 'True';
}

/** When the pod last became Ready (ms), or NaN. */
export function podReadySinceMs(pod: KObject): number {
  const at = readyCondition(pod)?.['lastTransitionTime'];
  return typeof at === 'string' ? Date.parse(at) : Number.NaN;
}

/**
 * Whether the pod is available (Ready for at least `minReadySeconds`) at `nowMs`, and if it is
 * ready but not yet available, in how many ms it will be.
 */
export function podAvailability(pod: KObject, minReadySeconds: number, nowMs: number): { available: boolean; inMs?: number } {
  if (!isPodReady(pod)) return { available: false };
  if (minReadySeconds <= 0) return { available: true };
  const since = podReadySinceMs(pod);
  if (Number.isNaN(since)) return { available: true };
  const at = since + minReadySeconds * 1000;
  return at <= nowMs ? { available: true } : { available: false, inMs: at - nowMs };
}

/**
 * maxSurge / maxUnavailable against a total, as Kubernetes rounds them (GetScaledValueFromIntOrPercent):
 * a percentage is rounded up or down as asked, an integer is taken as is.
 */
export function scaledIntOrPercent(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^[0-9]+%$/.test(value)) {
    const exact = (Number(value.slice(0, -1)) * total) / 100;
    return roundUp ? Math.ceil(exact) : Math.floor(exact);
  }
  if (typeof value === 'string' && /^[0-9]+$/.test(value)) return Number(value);
  return 0;
}

/** JSON with object keys sorted, so equal objects serialize equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJson(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

// Kubernetes' rand.SafeEncodeString alphabet: no vowels (no words) and no look-alike characters.
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** FNV-1a, 32 bits. */
function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * The pod-template-hash of a template (as Kubernetes' ComputeHash: a 32-bit FNV hash of the
 * template, plus the collision count when there is one, printed as a decimal number whose
 * characters are mapped onto the safe alphabet).
 */
export function templateHash(template: unknown, collisionCount?: number): string {
  let text = canonicalJson(template);
  if (collisionCount !== undefined && collisionCount > 0) text += `#${collisionCount}`;
  return [...String(fnv32a(text))].map((c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** A template without the given label (to compare templates ignoring pod-template-hash). */
export function templateWithoutLabel(template: unknown, label: string): Json {
  const t = isJson(template) ? structuredClone(template) : {};
  const meta = isJson(t['metadata']) ? t['metadata'] : undefined;
  const labels = meta && isJson(meta['labels']) ? meta['labels'] : undefined;
  if (labels) {
    delete labels[label];
    if (Object.keys(labels).length === 0) delete meta!['labels'];
  }
  return t;
}

/** Kubernetes' GetPodFromTemplate: the template's labels, annotations, finalizers and spec, owned by `owner`. */
export function podFromTemplate(template: unknown, owner: KObject, extra: { generateName?: string; nodeName?: string; tolerations?: Json[] } = {}): KObject {
  const t = isJson(template) ? template : {};
  const meta = isJson(t['metadata']) ? t['metadata'] : {};
  const spec: Json = isJson(t['spec']) ? structuredClone(t['spec']) : {};
  if (extra.nodeName !== undefined) spec['nodeName'] = extra.nodeName;
  if (extra.tolerations) spec['tolerations'] = extra.tolerations;
  const metadata: KObject['metadata'] = {
    generateName: extra.generateName ?? `${owner.metadata.name}-`,
    namespace: owner.metadata.namespace,
    ownerReferences: [controllerRefTo(owner)],
  };
  if (isJson(meta['labels'])) metadata.labels = { ...(meta['labels'] as Record<string, string>) };
  if (isJson(meta['annotations'])) metadata.annotations = { ...(meta['annotations'] as Record<string, string>) };
  if (Array.isArray(meta['finalizers'])) metadata.finalizers = [...(meta['finalizers'] as string[])];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}


export { withCondition } from '../model/index.ts';

export function withoutCondition(conditions: unknown, type: string): Json[] {
  return (Array.isArray(conditions) ? conditions.filter(isJson) : []).filter((c) => c['type'] !== type);
}

export function conditionOf(object: KObject, type: string): Json | undefined {
  const list = statusOf(object)['conditions'];
  return Array.isArray(list) ? list.find((c): c is Json => isJson(c) && c['type'] === type) : undefined;
}

/** A deep copy of a JSON object (an empty object for anything else). */
export function jsonOf(value: unknown): Json {
  return isJson(value) ? structuredClone(value) : {};
}
