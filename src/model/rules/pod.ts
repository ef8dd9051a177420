// PodSpec rules that the schema cannot state alone: unique names, mounts that name a declared
// volume, exactly one volume source / probe handler / env source, requests within limits, unique
// ports, values per operator in node affinity, matchLabelKeys against their selector, one spread
// constraint per topology key and action. They run on the defaulted copy (protocol is TCP when
// unset) and skip values of the wrong type, which the schema check has reported already.
import { Cause, child, index, key } from '../causes.ts';
import { arrayAt, isUnset, numberAt, objectAt, stringAt, type JsonObject } from '../json.ts';
import { RESOURCE_NAMES, VOLUME_SOURCES } from '../kinds/pod.ts';
import { checkConfigMapKey, checkDns1123Subdomain, checkEnvVarName } from '../names.ts';
import { checkQuantity, parseQuantity } from '../quantity.ts';
import type { FieldCause } from '../types.ts';
// apps.ts imports this module too; the cycle is safe (functions only, none called at load time).
import { validateLabelSelector } from './apps.ts';

/** Pod fields a container may read through env fieldRef (Kubernetes' downward API list). */
const FIELD_REF_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
const FIELD_REF_SUBSCRIPTED = /^metadata\.(labels|annotations)\['[^']+'\]$/;

const RESOURCE_FIELD_REFS = RESOURCE_NAMES.flatMap((r) => [`limits.${r}`, `requests.${r}`]);

const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCH_PATHS = 32;

/** Where a pod spec sits and what the pod says about its network, for rules that need it. */
interface PodContext {
  readonly hostNetwork: boolean;
  readonly volumeNames: ReadonlySet<string>;
  /** Container names seen so far, across initContainers and containers. */
  readonly containerNames: Set<string>;
  /** `port/protocol` of host ports seen so far, across all containers. */
  readonly hostPorts: Set<string>;
}

/** A relative path without `..` elements: volume item paths and subPaths stay inside their volume. */
function checkRelativePath(value: string): string | null {
  if (value.startsWith('/')) return 'must be a relative path';
  if (value.split('/').includes('..')) return "must not contain '..'";
  return null;
}

/** Keys of `o` among `names` whose value is present (not undefined/null). */
function presentKeys(o: JsonObject, names: readonly string[]): string[] {
  return names.filter((n) => o[n] !== undefined && o[n] !== null);
}

function validateKeyToPaths(items: unknown, path: string, causes: FieldCause[]): void {
  for (const [i, item] of (arrayAt(items) ?? []).entries()) {
    const o = objectAt(item);
    if (!o) continue;
    const k = stringAt(o.key);
    if (k) {
      const bad = checkConfigMapKey(k);
      if (bad) causes.push(Cause.invalid(child(index(path, i), 'key'), k, bad));
    }
    const p = stringAt(o.path);
    if (p) {
      const bad = checkRelativePath(p);
      if (bad) causes.push(Cause.invalid(child(index(path, i), 'path'), p, bad));
    }
  }
}

function validateVolumes(volumes: unknown, path: string, causes: FieldCause[]): Set<string> {
  const names = new Set<string>();
  for (const [i, item] of (arrayAt(volumes) ?? []).entries()) {
    const v = objectAt(item);
    if (!v) continue;
    const vPath = index(path, i);
    const name = stringAt(v.name);
    if (name) {
      if (names.has(name)) causes.push(Cause.duplicate(child(vPath, 'name'), name));
      names.add(name);
    }
    const sources = presentKeys(v, VOLUME_SOURCES);
    if (sources.length === 0) causes.push(Cause.required(vPath, 'must specify a volume type'));
    for (const extra of sources.slice(1)) causes.push(Cause.forbidden(child(vPath, extra), 'may not specify more than 1 volume type'));

    const hostPath = objectAt(v.hostPath);
    const hp = stringAt(hostPath?.path);
    if (hp) {
      if (!hp.startsWith('/')) causes.push(Cause.invalid(child(vPath, 'hostPath.path'), hp, 'must be an absolute path'));
      else if (hp.split('/').includes('..')) causes.push(Cause.invalid(child(vPath, 'hostPath.path'), hp, "must not contain '..'"));
    }
    const configMap = objectAt(v.configMap);
    if (configMap) {
      if (isUnset(configMap.name)) causes.push(Cause.required(child(vPath, 'configMap.name')));
      validateKeyToPaths(configMap.items, child(vPath, 'configMap.items'), causes);
    }
    const secret = objectAt(v.secret);
    if (secret) {
      if (isUnset(secret.secretName)) causes.push(Cause.required(child(vPath, 'secret.secretName')));
      validateKeyToPaths(secret.items, child(vPath, 'secret.items'), causes);
    }
  }
  return names;
}

function validateKeySelector(ref: JsonObject, path: string, causes: FieldCause[]): void {
  if (isUnset(ref.name)) causes.push(Cause.required(child(path, 'name')));
  const k = stringAt(ref.key);
  if (k) {
    const bad = checkConfigMapKey(k);
    if (bad) causes.push(Cause.invalid(child(path, 'key'), k, bad));
  }
}

function validateEnv(env: unknown, path: string, causes: FieldCause[]): void {
  for (const [i, item] of (arrayAt(env) ?? []).entries()) {
    const e = objectAt(item);
    if (!e) continue;
    const ePath = index(path, i);
    const name = stringAt(e.name);
    if (name) {
      const bad = checkEnvVarName(name);
      if (bad) causes.push(Cause.invalid(child(ePath, 'name'), name, bad));
    }
    const from = objectAt(e.valueFrom);
    if (!from) continue;
    const fromPath = child(ePath, 'valueFrom');
    if (!isUnset(e.value)) causes.push(Cause.invalid(fromPath, '', "may not be specified when `value` is not empty"));
    const sources = presentKeys(from, ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef', 'fileKeyRef']);
    if (sources.length === 0) {
      causes.push(Cause.invalid(fromPath, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    } else if (sources.length > 1) {
      causes.push(Cause.invalid(fromPath, '', 'may not have more than one field specified at a time'));
    }
    const cmRef = objectAt(from.configMapKeyRef);
    if (cmRef) validateKeySelector(cmRef, child(fromPath, 'configMapKeyRef'), causes);
    const secretRef = objectAt(from.secretKeyRef);
    if (secretRef) validateKeySelector(secretRef, child(fromPath, 'secretKeyRef'), causes);
    const fieldRef = objectAt(from.fieldRef);
    if (fieldRef) {
      const fieldPath = stringAt(fieldRef.fieldPath);
      if (fieldPath && !FIELD_REF_PATHS.includes(fieldPath) && !FIELD_REF_SUBSCRIPTED.test(fieldPath)) {
        causes.push(Cause.notSupported(child(fromPath, 'fieldRef.fieldPath'), fieldPath, [...FIELD_REF_PATHS, "metadata.labels['<KEY>']", "metadata.annotations['<KEY>']"]));
      }
      const apiVersion = stringAt(fieldRef.apiVersion);
      if (apiVersion && apiVersion !== 'v1') causes.push(Cause.notSupported(child(fromPath, 'fieldRef.apiVersion'), apiVersion, ['v1']));
    }
    const resourceRef = objectAt(from.resourceFieldRef);
    const resource = stringAt(resourceRef?.resource);
    if (resource && !RESOURCE_FIELD_REFS.includes(resource)) {
      causes.push(Cause.notSupported(child(fromPath, 'resourceFieldRef.resource'), resource, RESOURCE_FIELD_REFS));
    }
  }
}

function validateEnvFrom(envFrom: unknown, path: string, causes: FieldCause[]): void {
  for (const [i, item] of (arrayAt(envFrom) ?? []).entries()) {
    const e = objectAt(item);
    if (!e) continue;
    const ePath = index(path, i);
    const sources = presentKeys(e, ['configMapRef', 'secretRef']);
    if (sources.length === 0) causes.push(Cause.invalid(ePath, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources.length > 1) causes.push(Cause.invalid(ePath, '', 'may not have more than one field specified at a time'));
    for (const s of sources) {
      if (isUnset(objectAt(e[s])?.name)) causes.push(Cause.required(child(child(ePath, s), 'name')));
    }
    const prefix = stringAt(e.prefix);
    if (prefix) {
      const bad = checkEnvVarName(prefix);
      if (bad) causes.push(Cause.invalid(child(ePath, 'prefix'), prefix, bad));
    }
  }
}

function validateResources(resources: unknown, path: string, causes: FieldCause[]): void {
  const r = objectAt(resources);
  if (!r) return;
  const parsed: Record<'requests' | 'limits', Map<string, number>> = { requests: new Map(), limits: new Map() };
  for (const which of ['requests', 'limits'] as const) {
    const list = objectAt(r[which]);
    if (!list) continue;
    for (const [name, value] of Object.entries(list)) {
      const field = key(child(path, which), name);
      if (!(RESOURCE_NAMES as readonly string[]).includes(name)) {
        causes.push(Cause.valueNotImplemented(field, name, 'bramble accounts only for cpu, memory and ephemeral-storage'));
        continue;
      }
      if (checkQuantity(value) !== null) continue; // reported by the schema check
      const amount = parseQuantity(value as string | number);
      if (amount < 0) causes.push(Cause.invalid(field, value, 'must be greater than or equal to 0'));
      parsed[which].set(name, amount);
    }
  }
  for (const [name, request] of parsed.requests) {
    const limit = parsed.limits.get(name);
    if (limit !== undefined && request > limit) {
      const limitText = objectAt(r.limits)?.[name];
      causes.push(Cause.invalid(key(child(path, 'requests'), name), objectAt(r.requests)?.[name], `must be less than or equal to ${name} limit of ${String(limitText)}`));
    }
  }
}

function validateProbe(probe: JsonObject, path: string, liveOrStartup: boolean, causes: FieldCause[]): void {
  const handlers = presentKeys(probe, ['exec', 'httpGet', 'tcpSocket', 'grpc']);
  if (handlers.length === 0) causes.push(Cause.required(path, 'must specify a handler type'));
  for (const extra of handlers.slice(1)) causes.push(Cause.forbidden(child(path, extra), 'may not specify more than 1 handler type'));
  const exec = objectAt(probe.exec);
  if (exec && (exec.command === undefined || (Array.isArray(exec.command) && exec.command.length === 0))) {
    causes.push(Cause.required(child(path, 'exec.command')));
  }
  const success = numberAt(probe.successThreshold);
  if (liveOrStartup && success !== undefined && success !== 1) causes.push(Cause.invalid(child(path, 'successThreshold'), success, 'must be 1'));
}

function validateContainer(c: JsonObject, path: string, isInit: boolean, ctx: PodContext, causes: FieldCause[]): void {
  const name = stringAt(c.name);
  if (name) {
    if (ctx.containerNames.has(name)) causes.push(Cause.duplicate(child(path, 'name'), name));
    ctx.containerNames.add(name);
  }
  if (c.image === undefined || c.image === '') causes.push(Cause.required(child(path, 'image')));

  const seenPorts = new Set<string>();
  const seenPortNames = new Set<string>();
  for (const [i, item] of (arrayAt(c.ports) ?? []).entries()) {
    const p = objectAt(item);
    if (!p) continue;
    const pPath = index(child(path, 'ports'), i);
    const protocol = stringAt(p.protocol) ?? 'TCP';
    const containerPort = numberAt(p.containerPort);
    if (containerPort !== undefined) {
      const id = `${containerPort}/${protocol}`;
      if (seenPorts.has(id)) causes.push(Cause.duplicate(child(pPath, 'containerPort'), id));
      seenPorts.add(id);
    }
    const portName = stringAt(p.name);
    if (portName) {
      if (seenPortNames.has(portName)) causes.push(Cause.duplicate(child(pPath, 'name'), portName));
      seenPortNames.add(portName);
    }
    const hostPort = numberAt(p.hostPort);
    if (hostPort !== undefined && hostPort !== 0) {
      const id = `${hostPort}/${protocol}`;
      if (ctx.hostPorts.has(id)) causes.push(Cause.duplicate(child(pPath, 'hostPort'), id));
      ctx.hostPorts.add(id);
      // With the host's network there is no port mapping: the process listens on the host port.
      if (ctx.hostNetwork && containerPort !== undefined && hostPort !== containerPort) {
        causes.push(Cause.invalid(child(pPath, 'hostPort'), hostPort, '`hostPort` must match `containerPort` when `hostNetwork` is true'));
      }
    }
  }

  validateEnv(c.env, child(path, 'env'), causes);
  validateEnvFrom(c.envFrom, child(path, 'envFrom'), causes);
  validateResources(c.resources, child(path, 'resources'), causes);

  const mountPaths = new Set<string>();
  for (const [i, item] of (arrayAt(c.volumeMounts) ?? []).entries()) {
    const m = objectAt(item);
    if (!m) continue;
    const mPath = index(child(path, 'volumeMounts'), i);
    const volumeName = stringAt(m.name);
    if (volumeName && !ctx.volumeNames.has(volumeName)) causes.push(Cause.notFound(child(mPath, 'name'), volumeName));
    const mountPath = stringAt(m.mountPath);
    if (mountPath) {
      if (!mountPath.startsWith('/')) causes.push(Cause.invalid(child(mPath, 'mountPath'), mountPath, 'must be an absolute path'));
      if (mountPaths.has(mountPath)) causes.push(Cause.invalid(child(mPath, 'mountPath'), mountPath, 'must be unique'));
      mountPaths.add(mountPath);
    }
    const subPath = stringAt(m.subPath);
    if (subPath) {
      const bad = checkRelativePath(subPath);
      if (bad) causes.push(Cause.invalid(child(mPath, 'subPath'), subPath, bad));
    }
  }

  for (const probeName of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = objectAt(c[probeName]);
    if (!probe) continue;
    // Init containers run to completion one after another: readiness or liveness means nothing there.
    if (isInit) causes.push(Cause.forbidden(child(path, probeName), 'may not be set for init containers'));
    else validateProbe(probe, child(path, probeName), probeName !== 'readinessProbe', causes);
  }

  const sc = objectAt(c.securityContext);
  if (sc && sc.privileged === true && sc.allowPrivilegeEscalation === false) {
    causes.push(Cause.invalid(child(path, 'securityContext'), sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
  }
}

function validateDns(spec: JsonObject, path: string, causes: FieldCause[]): void {
  const dnsConfig = objectAt(spec.dnsConfig);
  const nameservers = arrayAt(dnsConfig?.nameservers) ?? [];
  if (spec.dnsPolicy === 'None' && nameservers.length === 0) {
    causes.push(Cause.required(child(path, 'dnsConfig.nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None'));
  }
  if (!dnsConfig) return;
  if (nameservers.length > MAX_DNS_NAMESERVERS) {
    causes.push(Cause.invalid(child(path, 'dnsConfig.nameservers'), nameservers, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  }
  const searches = arrayAt(dnsConfig.searches) ?? [];
  if (searches.length > MAX_DNS_SEARCH_PATHS) {
    causes.push(Cause.invalid(child(path, 'dnsConfig.searches'), searches, `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`));
  }
  for (const [i, s] of searches.entries()) {
    if (typeof s !== 'string') continue;
    // A trailing dot marks a fully qualified search domain, as resolv.conf allows.
    const bad = checkDns1123Subdomain(s.endsWith('.') ? s.slice(0, -1) : s);
    if (bad) causes.push(Cause.invalid(index(child(path, 'dnsConfig.searches'), i), s, bad));
  }
}

// ---- scheduling constraints ----------------------------------------------------------------------

/** How the scheduler reads a Gt/Lt bound (src/scheduler/node-rules.ts): a plain decimal integer. */
const INTEGER = /^-?[0-9]+$/;

/** Values per operator in a node selector requirement on labels (matchExpressions). */
function validateNodeSelectorRequirement(req: JsonObject, path: string, causes: FieldCause[]): void {
  const values = arrayAt(req.values) ?? [];
  const valuesPath = child(path, 'values');
  switch (req.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) causes.push(Cause.required(valuesPath, "must be specified when `operator` is 'In' or 'NotIn'"));
      return;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) causes.push(Cause.forbidden(valuesPath, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      return;
    case 'Gt':
    case 'Lt': {
      if (values.length !== 1) {
        causes.push(Cause.required(valuesPath, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
        return;
      }
      const bound = values[0];
      // A bound the scheduler cannot read would make the requirement match no node, silently.
      if (typeof bound === 'string' && !(INTEGER.test(bound) && Number.isSafeInteger(Number(bound)))) {
        causes.push(Cause.invalid(index(valuesPath, 0), bound, 'must be an integer'));
      }
      return;
    }
    default:
      return; // an unknown operator: reported by the schema check
  }
}

/** A requirement on node fields (matchFields): one node name per requirement, as Kubernetes has it. */
function validateNodeFieldSelectorRequirement(req: JsonObject, path: string, causes: FieldCause[]): void {
  const values = arrayAt(req.values) ?? [];
  if ((req.operator === 'In' || req.operator === 'NotIn') && values.length !== 1) {
    causes.push(Cause.required(child(path, 'values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
  }
  if (req.key !== 'metadata.name') return;
  for (const [i, v] of values.entries()) {
    if (typeof v !== 'string') continue;
    const bad = checkDns1123Subdomain(v);
    if (bad) causes.push(Cause.invalid(index(child(path, 'values'), i), v, bad));
  }
}

function validateNodeSelectorTerm(term: unknown, path: string, causes: FieldCause[]): void {
  const t = objectAt(term);
  if (!t) return;
  for (const [i, item] of (arrayAt(t.matchExpressions) ?? []).entries()) {
    const req = objectAt(item);
    if (req) validateNodeSelectorRequirement(req, index(child(path, 'matchExpressions'), i), causes);
  }
  for (const [i, item] of (arrayAt(t.matchFields) ?? []).entries()) {
    const req = objectAt(item);
    if (req) validateNodeFieldSelectorRequirement(req, index(child(path, 'matchFields'), i), causes);
  }
}

/** The keys a label selector already constrains (matchLabels and matchExpressions). */
function selectorKeys(selector: JsonObject): Set<string> {
  const keys = new Set(Object.keys(objectAt(selector.matchLabels) ?? {}));
  for (const item of arrayAt(selector.matchExpressions) ?? []) {
    const k = stringAt(objectAt(item)?.key);
    if (k !== undefined) keys.add(k);
  }
  return keys;
}

/**
 * A term's or constraint's labelSelector and matchLabelKeys: the keys add the pod's own values to
 * the selector, so they need one, and a key the selector already constrains would contradict it.
 */
function validateSelectorAndKeys(o: JsonObject, path: string, causes: FieldCause[]): void {
  const selector = objectAt(o.labelSelector);
  if (selector) validateLabelSelector(selector, child(path, 'labelSelector'), causes);
  const keys = arrayAt(o.matchLabelKeys) ?? [];
  if (keys.length === 0) return;
  const keysPath = child(path, 'matchLabelKeys');
  if (!selector) {
    causes.push(Cause.forbidden(keysPath, 'must not be specified when labelSelector is not set'));
    return;
  }
  const taken = selectorKeys(selector);
  for (const [i, k] of keys.entries()) {
    if (typeof k === 'string' && taken.has(k)) causes.push(Cause.invalid(index(keysPath, i), k, 'exists in both matchLabelKeys and labelSelector'));
  }
}

function validatePodAffinity(value: unknown, path: string, causes: FieldCause[]): void {
  const a = objectAt(value);
  if (!a) return;
  const requiredPath = child(path, 'requiredDuringSchedulingIgnoredDuringExecution');
  for (const [i, item] of (arrayAt(a.requiredDuringSchedulingIgnoredDuringExecution) ?? []).entries()) {
    const term = objectAt(item);
    if (term) validateSelectorAndKeys(term, index(requiredPath, i), causes);
  }
  const preferredPath = child(path, 'preferredDuringSchedulingIgnoredDuringExecution');
  for (const [i, item] of (arrayAt(a.preferredDuringSchedulingIgnoredDuringExecution) ?? []).entries()) {
    const term = objectAt(objectAt(item)?.podAffinityTerm);
    if (term) validateSelectorAndKeys(term, child(index(preferredPath, i), 'podAffinityTerm'), causes);
  }
}

function validateAffinity(value: unknown, path: string, causes: FieldCause[]): void {
  const a = objectAt(value);
  if (!a) return;
  const nodeAffinity = objectAt(a.nodeAffinity);
  if (nodeAffinity) {
    const nodePath = child(path, 'nodeAffinity');
    const requiredPath = child(child(nodePath, 'requiredDuringSchedulingIgnoredDuringExecution'), 'nodeSelectorTerms');
    const terms = arrayAt(objectAt(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution)?.nodeSelectorTerms) ?? [];
    for (const [i, term] of terms.entries()) validateNodeSelectorTerm(term, index(requiredPath, i), causes);
    const preferredPath = child(nodePath, 'preferredDuringSchedulingIgnoredDuringExecution');
    for (const [i, item] of (arrayAt(nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution) ?? []).entries()) {
      validateNodeSelectorTerm(objectAt(item)?.preference, child(index(preferredPath, i), 'preference'), causes);
    }
  }
  validatePodAffinity(a.podAffinity, child(path, 'podAffinity'), causes);
  validatePodAffinity(a.podAntiAffinity, child(path, 'podAntiAffinity'), causes);
}

function validateTopologySpreadConstraints(value: unknown, path: string, causes: FieldCause[]): void {
  const constraints = (arrayAt(value) ?? []).map((item) => objectAt(item));
  for (const [i, c] of constraints.entries()) {
    if (!c) continue;
    const cPath = index(path, i);
    validateSelectorAndKeys(c, cPath, causes);
    const when = stringAt(c.whenUnsatisfiable);
    // minDomains makes missing domains count as empty ones, which only a hard constraint enforces.
    if (c.minDomains !== undefined && when !== undefined && when !== '' && when !== 'DoNotSchedule') {
      causes.push(Cause.invalid(child(cPath, 'minDomains'), c.minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${when}`));
    }
    // One constraint per (topologyKey, whenUnsatisfiable): reported on the first of a pair, as Kubernetes does.
    const key = stringAt(c.topologyKey);
    if (key === undefined || when === undefined) continue;
    if (constraints.slice(i + 1).some((other) => other?.topologyKey === key && other.whenUnsatisfiable === when)) {
      causes.push(Cause.duplicate(child(cPath, '{topologyKey, whenUnsatisfiable}'), `{${key}, ${when}}`));
    }
  }
}

/** All rules of a PodSpec at `path` ('spec', or 'spec.template.spec' in workloads). */
export function validatePodSpec(specValue: unknown, path: string, causes: FieldCause[]): void {
  const spec = objectAt(specValue);
  if (!spec) {
    if (specValue === undefined) causes.push(Cause.required(child(path, 'containers')));
    return;
  }
  const ctx: PodContext = {
    hostNetwork: spec.hostNetwork === true,
    volumeNames: validateVolumes(spec.volumes, child(path, 'volumes'), causes),
    containerNames: new Set(),
    hostPorts: new Set(),
  };
  for (const [i, c] of (arrayAt(spec.initContainers) ?? []).entries()) {
    const o = objectAt(c);
    if (o) validateContainer(o, index(child(path, 'initContainers'), i), true, ctx, causes);
  }
  const containers = spec.containers;
  if (containers === undefined || (Array.isArray(containers) && containers.length === 0)) {
    causes.push(Cause.required(child(path, 'containers')));
  }
  for (const [i, c] of (arrayAt(containers) ?? []).entries()) {
    const o = objectAt(c);
    if (o) validateContainer(o, index(child(path, 'containers'), i), false, ctx, causes);
  }
  validateDns(spec, path, causes);
  validateAffinity(spec.affinity, child(path, 'affinity'), causes);
  validateTopologySpreadConstraints(spec.topologySpreadConstraints, child(path, 'topologySpreadConstraints'), causes);
  for (const [i, item] of (arrayAt(spec.hostAliases) ?? []).entries()) {
    const alias = objectAt(item);
    if (!alias) continue;
    const aPath = index(child(path, 'hostAliases'), i);
    for (const [j, h] of (arrayAt(alias.hostnames) ?? []).entries()) {
      if (typeof h !== 'string') continue;
      const bad = checkDns1123Subdomain(h);
      if (bad) causes.push(Cause.invalid(index(child(aPath, 'hostnames'), j), h, bad));
    }
  }
}
