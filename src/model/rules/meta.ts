// ObjectMeta rules that depend on the kind or relate several fields: the name rule of the kind,
// name-or-generateName, namespace only on namespaced kinds, the annotation size cap and a single
// controller owner.
import { Cause, child, index } from '../causes.ts';
import { arrayAt, isUnset, objectAt, stringAt } from '../json.ts';
import { checkDns1035Label, checkDns1123Label, checkDns1123Subdomain, maskTrailingDash } from '../names.ts';
import type { FieldCause, ResourceInfo } from '../types.ts';

/** Kubernetes' cap on the total size of an object's annotations (keys and values). */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;

/** The name rule of a kind: Namespaces are DNS labels, Services DNS-1035 labels, the rest subdomains. */
export function nameRuleFor(kind: string): (name: string) => string | null {
  if (kind === 'Namespace') return checkDns1123Label;
  if (kind === 'Service') return checkDns1035Label;
  return checkDns1123Subdomain;
}

/** Labels and annotations rules common to objects and pod templates. */
export function validateMetaCommon(meta: Record<string, unknown>, path: string, causes: FieldCause[]): void {
  const annotations = objectAt(meta.annotations);
  if (annotations) {
    let size = 0;
    for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
    if (size > ANNOTATIONS_MAX_BYTES) causes.push(Cause.tooLong(child(path, 'annotations'), ANNOTATIONS_MAX_BYTES));
  }
}

/** The metadata rules of a top-level object of kind `info.kind`. */
export function validateObjectMeta(info: Pick<ResourceInfo, 'kind' | 'namespaced'>, metaValue: unknown, causes: FieldCause[]): void {
  const path = 'metadata';
  const meta = objectAt(metaValue) ?? {};
  const nameRule = nameRuleFor(info.kind);
  const name = meta.name;
  const generateName = meta.generateName;
  if (isUnset(name)) {
    if (isUnset(generateName)) causes.push(Cause.required(child(path, 'name'), 'name or generateName is required'));
  } else if (typeof name === 'string') {
    const bad = nameRule(name);
    if (bad !== null) causes.push(Cause.invalid(child(path, 'name'), name, bad));
  }
  if (typeof generateName === 'string' && generateName !== '') {
    const bad = nameRule(maskTrailingDash(generateName));
    if (bad !== null) causes.push(Cause.invalid(child(path, 'generateName'), generateName, bad));
  }
  const namespace = stringAt(meta.namespace);
  if (!info.namespaced && namespace !== undefined && namespace !== '') {
    causes.push(Cause.forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  validateMetaCommon(meta, path, causes);
  let controllers = 0;
  for (const [i, ref] of (arrayAt(meta.ownerReferences) ?? []).entries()) {
    if (objectAt(ref)?.controller === true) {
      controllers++;
      if (controllers > 1) {
        causes.push(Cause.invalid(index(child(path, 'ownerReferences'), i), objectAt(ref)?.name ?? '', 'Only one reference can have Controller set to true'));
      }
    }
  }
}
