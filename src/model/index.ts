export type { CauseType, FieldCause, KObject, ObjectMeta, OwnerReference, ResourceInfo, ValidationResult } from './types.ts';
export { findResource, groupVersion, qualifiedName, RESOURCES, resolveResourceName, resourceForKind } from './resources.ts';

// Validation, defaulting and update rules of objects.
export { validateObject, validateStatus } from './validate.ts';
export { carryOverAllocated, validateUpdate } from './update.ts';
export { defaultObject, defaultPullPolicy } from './defaults.ts';
export { formatValue } from './causes.ts';
export { jsonEqual } from './json.ts';
export { withCondition } from './conditions.ts';
export { applyMergePatch, createMergePatch } from './merge-patch.ts';
export { fieldNotes } from './notes.ts';
export type { SchemaNote } from './schema.ts';

// Quantities.
export { checkQuantity, formatBytes, formatCpu, parseQuantity, QuantityError } from './quantity.ts';

// Name rules.
export {
  checkConfigMapKey,
  checkDns1035Label,
  checkDns1123Label,
  checkDns1123Subdomain,
  checkEnvVarName,
  checkIanaSvcName,
  checkLabelValue,
  checkQualifiedName,
} from './names.ts';
export { checkIP, checkIPv4, checkIPv4Cidr } from './addresses.ts';

// Label and field selectors.
export {
  fieldSelectorMatcher,
  fieldValue,
  formatLabels,
  formatLabelSelector,
  formatRequirements,
  labelSelectorMatcher,
  matcherFor,
  matcherForLabelSelector,
  parseFieldSelector,
  parseLabelSelector,
  requirementsOf,
  SelectorError,
} from './selectors.ts';
export type { FieldRequirement, LabelMatcher, LabelOperator, LabelRequirement, LabelSelector } from './selectors.ts';
export { timestamp } from './timestamps.ts';
