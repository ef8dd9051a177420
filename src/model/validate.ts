// The entry points the REST layer calls on create and update (validateObject) and on the status
// subresource (validateStatus). Order, as in Kubernetes: check the shape, default a copy, then
// run the rules on the defaulted copy; every cause from every step is returned together.
import { Cause, uniqueCauses } from './causes.ts';
import { copyWithoutNulls, isObject, type JsonObject } from './json.ts';
import { applyDefaults } from './defaults.ts';
import { objectMeta } from './kinds/meta.ts';
import { schemaForKind } from './kinds/index.ts';
import { groupVersion } from './resources.ts';
import { validateObjectMeta, validateRules } from './rules/index.ts';
import { checkSchema } from './schema.ts';
import type { FieldCause, KObject, ResourceInfo, ValidationResult } from './types.ts';

/**
 * apiVersion and kind must be those of the endpoint. A body without them takes the endpoint's
 * (Kubernetes decodes with the URL's group/version/kind as defaults), so `curl -d` works.
 */
function checkTypeMeta(info: ResourceInfo, input: JsonObject, copy: JsonObject, causes: FieldCause[]): void {
  const expected = { apiVersion: groupVersion(info), kind: info.kind };
  for (const field of ['apiVersion', 'kind'] as const) {
    const value = input[field];
    if (value === undefined || value === null || value === '') {
      copy[field] = expected[field];
    } else if (value !== expected[field]) {
      causes.push(Cause.invalid(field, value, `must be ${JSON.stringify(expected[field])} for ${info.resource}`));
    }
  }
}

function result(causes: FieldCause[], object: JsonObject): ValidationResult {
  const unique = uniqueCauses(causes);
  return unique.length > 0 ? { ok: false, causes: unique } : { ok: true, object: object as KObject };
}

/**
 * Validates a parsed JSON object of the resource `info` and answers the defaulted deep copy (the
 * input is not changed) or every cause found. Server-set metadata (uid, resourceVersion,
 * creationTimestamp...) is accepted as sent; the REST layer overwrites it.
 */
export function validateObject(info: ResourceInfo, input: unknown): ValidationResult {
  if (!isObject(input)) return { ok: false, causes: [Cause.typeInvalid('', 'an object', input)] };
  const copy = copyWithoutNulls(input);
  const causes: FieldCause[] = [];
  checkTypeMeta(info, input, copy, causes);
  causes.push(...checkSchema(input, schemaForKind(info.kind)));
  applyDefaults(info.kind, copy);
  causes.push(...validateRules(info, copy));
  return result(causes, copy);
}

/**
 * Validates a write to the status subresource: a well-formed object of the resource with
 * metadata and a `status` object of the kind's status shape. Other members (spec) are not
 * checked: the REST layer keeps the stored spec. Answers the copy without nulls, not defaulted.
 */
export function validateStatus(info: ResourceInfo, input: unknown): ValidationResult {
  if (!isObject(input)) return { ok: false, causes: [Cause.typeInvalid('', 'an object', input)] };
  const copy = copyWithoutNulls(input);
  const causes: FieldCause[] = [];
  checkTypeMeta(info, input, copy, causes);
  causes.push(...checkSchema(input.metadata ?? {}, objectMeta, 'metadata'));
  validateObjectMeta(info, copy.metadata, causes);
  const statusSchema = schemaForKind(info.kind).fields.status;
  if (statusSchema === undefined) {
    causes.push(Cause.forbidden('status', `${info.kind} has no status`));
  } else if (input.status === undefined || input.status === null) {
    causes.push(Cause.required('status'));
  } else {
    causes.push(...checkSchema(input.status, statusSchema, 'status'));
  }
  return result(causes, copy);
}
