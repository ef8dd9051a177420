// Node, Namespace and Event rules.
import { Cause, child, index } from '../causes.ts';
import { arrayAt, objectAt, stringAt, type JsonObject } from '../json.ts';
import { checkQualifiedName } from '../names.ts';
import type { FieldCause } from '../types.ts';

export function validateNode(o: JsonObject, causes: FieldCause[]): void {
  const spec = objectAt(o.spec);
  if (!spec) return;
  // One taint per key and effect: a second one could only contradict the first.
  const seen = new Set<string>();
  for (const [i, item] of (arrayAt(spec.taints) ?? []).entries()) {
    const taint = objectAt(item);
    if (!taint || typeof taint.key !== 'string' || typeof taint.effect !== 'string') continue;
    const id = `${taint.key}:${taint.effect}`;
    if (seen.has(id)) causes.push(Cause.duplicate(index('spec.taints', i), id));
    seen.add(id);
  }
  const podCIDRs = arrayAt(spec.podCIDRs) ?? [];
  if (podCIDRs.length > 1) causes.push(Cause.invalid('spec.podCIDRs', podCIDRs, 'may hold one IPv4 CIDR: bramble networks are IPv4 only'));
  const podCIDR = stringAt(spec.podCIDR);
  if (podCIDR && typeof podCIDRs[0] === 'string' && podCIDRs[0] !== podCIDR) {
    causes.push(Cause.invalid('spec.podCIDRs[0]', podCIDRs[0], 'must match `podCIDR`'));
  }
}

export function validateNamespace(o: JsonObject, causes: FieldCause[]): void {
  for (const [i, f] of (arrayAt(objectAt(o.spec)?.finalizers) ?? []).entries()) {
    if (typeof f !== 'string') continue;
    const bad = checkQualifiedName(f);
    if (bad) causes.push(Cause.invalid(index('spec.finalizers', i), f, bad));
  }
}

export function validateEvent(o: JsonObject, causes: FieldCause[]): void {
  const involved = objectAt(o.involvedObject);
  const namespace = stringAt(objectAt(o.metadata)?.namespace);
  const involvedNamespace = stringAt(involved?.namespace);
  // An event about a namespaced object lives in that object's namespace.
  if (namespace && involvedNamespace && namespace !== involvedNamespace) {
    causes.push(Cause.invalid(child('involvedObject', 'namespace'), involvedNamespace, 'does not match event.namespace'));
  }
}
