// Rules of Deployments, ReplicaSets and DaemonSets: a non-empty selector that selects the
// template's own labels (else the controller would create pods it never counts, forever), a pod
// template that restarts its containers, and a rolling update that can make progress.
import { Cause, child, index } from '../causes.ts';
import { arrayAt, isObject, objectAt, stringAt, stringMapAt, type JsonObject } from '../json.ts';
import { matcherFor, requirementsOf, type LabelSelector } from '../selectors.ts';
import type { FieldCause } from '../types.ts';
import { validateMetaCommon } from './meta.ts';
import { validatePodSpec } from './pod.ts';

/** A LabelSelector object's own rules: operators and their values. Answers whether it is usable. */
export function validateLabelSelector(selector: JsonObject, path: string, causes: FieldCause[]): boolean {
  let usable = true;
  for (const [i, item] of (arrayAt(selector.matchExpressions) ?? []).entries()) {
    const expr = objectAt(item);
    if (!expr) {
      usable = false;
      continue;
    }
    const ePath = index(child(path, 'matchExpressions'), i);
    const values = arrayAt(expr.values) ?? [];
    if (expr.operator === 'In' || expr.operator === 'NotIn') {
      if (values.length === 0) {
        causes.push(Cause.required(child(ePath, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        usable = false;
      }
    } else if (expr.operator === 'Exists' || expr.operator === 'DoesNotExist') {
      if (values.length > 0) {
        causes.push(Cause.forbidden(child(ePath, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        usable = false;
      }
    } else {
      usable = false; // unknown operator: reported by the schema check
    }
    if (typeof expr.key !== 'string' || !values.every((v) => typeof v === 'string')) usable = false;
  }
  const matchLabels = selector.matchLabels;
  if (matchLabels !== undefined && !(isObject(matchLabels) && Object.values(matchLabels).every((v) => typeof v === 'string'))) usable = false;
  if (selector.matchExpressions !== undefined && !Array.isArray(selector.matchExpressions)) usable = false;
  return usable;
}

/** Zero as a count or a percentage ("0%"). */
function isZero(value: unknown): boolean {
  return value === 0 || value === '0%';
}

function validateTemplateAndSelector(kind: string, spec: JsonObject, causes: FieldCause[]): void {
  const selectorValue = spec.selector;
  const selector = objectAt(selectorValue);
  let usable = false;
  if (selector) {
    usable = validateLabelSelector(selector, 'spec.selector', causes);
    const labels = objectAt(selector.matchLabels) ?? {};
    const exprs = arrayAt(selector.matchExpressions) ?? [];
    if (Object.keys(labels).length === 0 && exprs.length === 0) {
      // An empty selector would select every pod in the namespace.
      causes.push(Cause.invalid('spec.selector', selector, `empty selector is invalid for ${kind.toLowerCase()}`));
      usable = false;
    }
  }

  const template = objectAt(spec.template);
  if (!template) return;
  const meta = objectAt(template.metadata) ?? {};
  validateMetaCommon(meta, 'spec.template.metadata', causes);
  if (usable && selector) {
    const templateLabels = stringMapAt(meta.labels) ?? {};
    if (!matcherFor(requirementsOf(selector as LabelSelector))(templateLabels)) {
      causes.push(Cause.invalid('spec.template.metadata.labels', meta.labels ?? {}, '`selector` does not match template `labels`'));
    }
  }

  const podSpec = objectAt(template.spec);
  validatePodSpec(template.spec, 'spec.template.spec', causes);
  if (podSpec) {
    const restartPolicy = stringAt(podSpec.restartPolicy);
    // The controller replaces pods, it does not wait for them to finish: containers must restart.
    if (restartPolicy !== undefined && restartPolicy !== 'Always') {
      causes.push(Cause.notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']));
    }
    if (podSpec.activeDeadlineSeconds !== undefined) {
      causes.push(Cause.forbidden('spec.template.spec.activeDeadlineSeconds', `activeDeadlineSeconds in ${kind} is not Supported`));
    }
  }
}

function requireSelectorAndTemplate(spec: JsonObject | undefined, causes: FieldCause[]): void {
  if (spec === undefined) {
    causes.push(Cause.required('spec.selector'), Cause.required('spec.template'));
  }
}

export function validateDeployment(o: JsonObject, causes: FieldCause[]): void {
  const spec = objectAt(o.spec);
  requireSelectorAndTemplate(spec, causes);
  if (!spec) return;
  validateTemplateAndSelector('Deployment', spec, causes);
  const strategy = objectAt(spec.strategy);
  if (strategy) {
    const rolling = objectAt(strategy.rollingUpdate);
    if (strategy.type === 'Recreate' && strategy.rollingUpdate !== undefined) {
      causes.push(Cause.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
    } else if (rolling && isZero(rolling.maxSurge) && isZero(rolling.maxUnavailable)) {
      causes.push(Cause.invalid('spec.strategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
  const progress = spec.progressDeadlineSeconds;
  const minReady = typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0;
  if (typeof progress === 'number' && progress <= minReady) {
    causes.push(Cause.invalid('spec.progressDeadlineSeconds', progress, 'must be greater than minReadySeconds'));
  }
}

export function validateReplicaSet(o: JsonObject, causes: FieldCause[]): void {
  const spec = objectAt(o.spec);
  requireSelectorAndTemplate(spec, causes);
  if (spec) validateTemplateAndSelector('ReplicaSet', spec, causes);
}

export function validateDaemonSet(o: JsonObject, causes: FieldCause[]): void {
  const spec = objectAt(o.spec);
  requireSelectorAndTemplate(spec, causes);
  if (!spec) return;
  validateTemplateAndSelector('DaemonSet', spec, causes);
  const strategy = objectAt(spec.updateStrategy);
  if (strategy) {
    const rolling = objectAt(strategy.rollingUpdate);
    if (strategy.type === 'OnDelete' && strategy.rollingUpdate !== undefined) {
      causes.push(Cause.forbidden('spec.updateStrategy.rollingUpdate', "may not be specified when strategy `type` is 'OnDelete'"));
    } else if (rolling && isZero(rolling.maxSurge) && isZero(rolling.maxUnavailable)) {
      causes.push(Cause.invalid('spec.updateStrategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
    }
  }
}
