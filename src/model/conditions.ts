// Status conditions as Kubernetes keeps them (UpdatePodCondition, SetDeploymentCondition): one
// entry per type, replaced where it stands, its lastTransitionTime kept while its status does not
// change. Replacing in place matters: a list that changed order compares unequal and would be
// written again for nothing.
import { isObject } from './json.ts';

/** `conditions` with `next` set (`next.lastTransitionTime` is used when the status changed). */
export function withCondition(conditions: unknown, next: Record<string, unknown>): Record<string, unknown>[] {
  const list = Array.isArray(conditions) ? conditions.filter(isObject) : [];
  const old = list.find((c) => c['type'] === next['type']);
  const merged: Record<string, unknown> = { ...next };
  if (old && old['status'] === next['status'] && typeof old['lastTransitionTime'] === 'string') merged['lastTransitionTime'] = old['lastTransitionTime'];
  return old ? list.map((c) => (c === old ? merged : c)) : [...list, merged];
}
