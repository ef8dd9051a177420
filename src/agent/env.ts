// A container's environment as Kubernetes builds it: service variables first, then `envFrom`
// sources in order (with their prefix), then `env` entries in order, later ones winning; `env`
// values may refer to variables defined before them as $(NAME), and command and args to any
// variable of the final environment. Pure: every lookup is passed in.
import { parseQuantity } from '../model/index.ts';

export interface EnvVarSpec {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: KeyRef;
    secretKeyRef?: KeyRef;
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
  };
}

export interface KeyRef {
  name?: string;
  key: string;
  optional?: boolean;
}

export interface EnvFromSpec {
  prefix?: string;
  configMapRef?: { name?: string; optional?: boolean };
  secretRef?: { name?: string; optional?: boolean };
}

export interface ContainerEnvSpec {
  name: string;
  env?: EnvVarSpec[];
  envFrom?: EnvFromSpec[];
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
}

/** What env resolution may read. `undefined` from a lookup means "does not exist". */
export interface EnvSources {
  configMap(name: string): Record<string, string> | undefined;
  /** A Secret's data, already base64-decoded. */
  secret(name: string): Record<string, string> | undefined;
  /** The pod field at a fieldRef path (metadata.name, status.podIP, ...). */
  field(path: string): string | undefined;
  /** Containers of the pod by name, for resourceFieldRef. */
  container(name: string): ContainerEnvSpec | undefined;
  /** The node's allocatable amounts: what a missing limit means. */
  allocatable: { cpu: number; memory: number; 'ephemeral-storage'?: number };
  /** Variables every container gets first (Service discovery). */
  serviceEnv: Record<string, string>;
}

/** A reference that cannot be resolved: the container waits with CreateContainerConfigError. */
export class EnvError extends Error {
  readonly code = 'E_ENV_CONFIG';
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Expands $(NAME) references (Kubernetes' expansion package): `$$` is a literal `$`, an unknown
 * or unfinished reference stays as written.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')');
      if (close < 0) {
        out += '$(';
      } else {
        const name = rest.slice(1, close);
        const value = lookup(name);
        out += value ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += `$${rest[0]}`;
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A resource amount in the divisor's units, rounded up (Kubernetes' convertResourceToString). */
export function resourceValue(resource: string, container: ContainerEnvSpec, divisor: string | number | undefined, allocatable: EnvSources['allocatable']): string {
  const [kind, name] = resource.split('.') as [string, string | undefined];
  if ((kind !== 'limits' && kind !== 'requests') || (name !== 'cpu' && name !== 'memory' && name !== 'ephemeral-storage')) {
    throw new EnvError(`resourceFieldRef resource ${JSON.stringify(resource)} is not supported; use limits.cpu, limits.memory, requests.cpu, requests.memory or their ephemeral-storage forms`);
  }
  const given = container.resources?.[kind]?.[name];
  let amount: number;
  if (given !== undefined) amount = parseQuantity(given);
  else if (kind === 'limits') amount = allocatable[name] ?? 0;
  else amount = container.resources?.limits?.[name] !== undefined ? parseQuantity(container.resources.limits[name]!) : 0;
  const by = divisor === undefined || divisor === '' || divisor === 0 ? 1 : parseQuantity(divisor);
  // Ceil on a value a hair above an integer (float error from "250m") must not round up.
  const ratio = amount / by;
  const rounded = Math.abs(ratio - Math.round(ratio)) < 1e-9 ? Math.round(ratio) : Math.ceil(ratio);
  return String(rounded);
}

function keyOf(kind: 'configmap' | 'secret', source: Record<string, string> | undefined, ref: KeyRef): string | undefined {
  const name = ref.name ?? '';
  if (source === undefined) {
    if (ref.optional) return undefined;
    throw new EnvError(`${kind} "${name}" not found`);
  }
  const value = source[ref.key];
  if (value === undefined && !ref.optional) {
    throw new EnvError(`couldn't find key ${ref.key} in ${kind === 'configmap' ? 'ConfigMap' : 'Secret'} ${name}`);
  }
  return value;
}

export interface ResolvedEnv {
  env: Record<string, string>;
  /** envFrom keys skipped because they are not valid variable names (Kubernetes warns about them). */
  skipped: string[];
}

/** The container's final environment. Throws EnvError for a reference that cannot be resolved. */
export function resolveEnv(container: ContainerEnvSpec, sources: EnvSources): ResolvedEnv {
  const env: Record<string, string> = { ...sources.serviceEnv };
  const skipped: string[] = [];
  for (const from of container.envFrom ?? []) {
    let data: Record<string, string> | undefined;
    if (from.configMapRef) {
      data = sources.configMap(from.configMapRef.name ?? '');
      if (data === undefined && !from.configMapRef.optional) throw new EnvError(`configmap "${from.configMapRef.name ?? ''}" not found`);
    } else if (from.secretRef) {
      data = sources.secret(from.secretRef.name ?? '');
      if (data === undefined && !from.secretRef.optional) throw new EnvError(`secret "${from.secretRef.name ?? ''}" not found`);
    }
    for (const [key, value] of Object.entries(data ?? {})) {
      const name = `${from.prefix ?? ''}${key}`;
      if (!ENV_NAME.test(name)) {
        skipped.push(name);
        continue;
      }
      env[name] = value;
    }
  }
  for (const item of container.env ?? []) {
    let value: string | undefined;
    if (item.valueFrom === undefined) {
      // Refers only to what is defined so far: the map as it is now.
      value = expand(item.value ?? '', (name) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined));
    } else {
      const from = item.valueFrom;
      if (from.configMapKeyRef) value = keyOf('configmap', sources.configMap(from.configMapKeyRef.name ?? ''), from.configMapKeyRef);
      else if (from.secretKeyRef) value = keyOf('secret', sources.secret(from.secretKeyRef.name ?? ''), from.secretKeyRef);
      else if (from.fieldRef) {
        value = sources.field(from.fieldRef.fieldPath);
        if (value === undefined) throw new EnvError(`fieldRef ${JSON.stringify(from.fieldRef.fieldPath)} is not supported; use metadata.name, metadata.namespace, metadata.uid, metadata.labels['KEY'], metadata.annotations['KEY'], spec.nodeName, spec.serviceAccountName, status.hostIP, status.hostIPs, status.podIP or status.podIPs`);
      } else if (from.resourceFieldRef) {
        const target = from.resourceFieldRef.containerName ? sources.container(from.resourceFieldRef.containerName) : container;
        if (!target) throw new EnvError(`resourceFieldRef names container ${JSON.stringify(from.resourceFieldRef.containerName)}, which is not in the pod`);
        value = resourceValue(from.resourceFieldRef.resource, target, from.resourceFieldRef.divisor, sources.allocatable);
      }
      if (value === undefined) continue; // an optional reference to nothing defines no variable
    }
    env[item.name] = value;
  }
  return { env, skipped };
}

/** Expands command and args against the final environment. */
export function expandArgs(list: readonly string[] | undefined, env: Record<string, string>): string[] | undefined {
  if (list === undefined) return undefined;
  return list.map((s) => expand(s, (name) => (Object.prototype.hasOwnProperty.call(env, name) ? env[name] : undefined)));
}

/** The pod fields a fieldRef may name. */
export function podField(pod: { metadata: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec: { nodeName?: string; serviceAccountName?: string } }, podIP: string, hostIP: string, path: string): string | undefined {
  const m = /^metadata\.(labels|annotations)\[['"]?(.+?)['"]?\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    default:
      return undefined;
  }
}

function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join('\n');
}

export interface ServiceInfo {
  name: string;
  clusterIP: string;
  ports: { name?: string; port: number; protocol?: string }[];
}

/** `redis-master` → `REDIS_MASTER` (Kubernetes' makeEnvVariableName). */
export function envNameOf(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/**
 * The variables Kubernetes gives for Services (envvars.FromServices): `<NAME>_SERVICE_HOST`,
 * `<NAME>_SERVICE_PORT` (the first port), `<NAME>_SERVICE_PORT_<PORTNAME>` per named port, and
 * the Docker-link forms `<NAME>_PORT` (the first port) and `<NAME>_PORT_<port>_<PROTO>` with its
 * `_PROTO`, `_PORT` and `_ADDR`. Services without a cluster IP (headless, ExternalName) give none.
 */
export function serviceEnv(services: readonly ServiceInfo[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const s of services) {
    if (s.clusterIP === '' || s.clusterIP === 'None' || s.ports.length === 0) continue;
    const prefix = envNameOf(s.name);
    const first = s.ports[0]!;
    env[`${prefix}_SERVICE_HOST`] = s.clusterIP;
    env[`${prefix}_SERVICE_PORT`] = String(first.port);
    for (const p of s.ports) if (p.name) env[`${prefix}_SERVICE_PORT_${envNameOf(p.name)}`] = String(p.port);
    env[`${prefix}_PORT`] = `${(first.protocol ?? 'TCP').toLowerCase()}://${s.clusterIP}:${first.port}`;
    for (const p of s.ports) {
      const protocol = (p.protocol ?? 'TCP').toUpperCase();
      const base = `${prefix}_PORT_${p.port}_${protocol}`;
      env[base] = `${protocol.toLowerCase()}://${s.clusterIP}:${p.port}`;
      env[`${base}_PROTO`] = protocol.toLowerCase();
      env[`${base}_PORT`] = String(p.port);
      env[`${base}_ADDR`] = s.clusterIP;
    }
  }
  return env;
}

/** When an object was created: its store creation revision where known (exact), and its
 *  creationTimestamp (only to the second). */
export interface Creation {
  revision?: number;
  timestamp?: string;
}

export interface ServiceForEnv extends ServiceInfo {
  namespace: string;
  created: Creation;
}

export interface PodForEnv {
  namespace: string;
  enableServiceLinks?: boolean;
  created: Creation;
}

/**
 * Whether `service` existed when `pod` was created. Creation revisions order every write of the
 * cluster exactly; timestamps only to the second, so with them a Service of the pod's own second
 * counts as earlier (Kubernetes itself names every Service that exists when the container starts).
 */
export function createdBefore(service: Creation, pod: Creation): boolean {
  if (service.revision !== undefined && pod.revision !== undefined) return service.revision < pod.revision;
  const s = Date.parse(service.timestamp ?? '');
  const p = Date.parse(pod.timestamp ?? '');
  if (Number.isNaN(s) || Number.isNaN(p)) return true;
  return s <= p;
}

const MASTER_SERVICE = { namespace: 'default', name: 'kubernetes' };

/**
 * The Service variables of a pod (kubelet's getServiceEnvVarMap): the Services of its namespace
 * that existed when it was created, when `enableServiceLinks` is not false, and always the API's
 * own `default/kubernetes` Service, which no other Service of that name overrides. As in
 * Kubernetes, `enableServiceLinks: false` leaves out every Service variable of the namespace,
 * `_SERVICE_HOST` ones included (the kubernetes Service's stay).
 */
export function podServiceEnv(pod: PodForEnv, services: readonly ServiceForEnv[]): Record<string, string> {
  const chosen = new Map<string, ServiceForEnv>();
  for (const s of services) {
    if (s.clusterIP === '' || s.clusterIP === 'None') continue;
    if (!createdBefore(s.created, pod.created)) continue;
    if (s.namespace === MASTER_SERVICE.namespace && s.name === MASTER_SERVICE.name) {
      if (!chosen.has(s.name)) chosen.set(s.name, s);
    } else if (s.namespace === pod.namespace && pod.enableServiceLinks !== false) {
      chosen.set(s.name, s);
    }
  }
  return serviceEnv([...chosen.values()].sort((a, b) => a.name.localeCompare(b.name)));
}

type ObjectLike = { metadata: { name?: string; namespace?: string; creationTimestamp?: string }; [key: string]: unknown };

export function serviceForEnv(object: ObjectLike, revision?: number): ServiceForEnv {
  const spec = (object['spec'] ?? {}) as { type?: string; clusterIP?: string; ports?: ServiceInfo['ports'] };
  return {
    namespace: object.metadata.namespace ?? '',
    name: object.metadata.name ?? '',
    clusterIP: spec.type === 'ExternalName' ? '' : (spec.clusterIP ?? ''),
    ports: spec.ports ?? [],
    created: { ...(revision !== undefined ? { revision } : {}), ...(object.metadata.creationTimestamp ? { timestamp: object.metadata.creationTimestamp } : {}) },
  };
}

/** Where a pod's Service variables are read from (the agent's replica). */
export interface ServiceEnvReads {
  list(namespace: string): Promise<ObjectLike[]>;
  /** The store creation revision of each object key that exists (`/registry/services/ns/name`,
   *  `/registry/pods/ns/name`); without it creation is compared by timestamp. */
  creationRevisions?: (keys: readonly string[]) => Promise<ReadonlyMap<string, number>>;
}

/** The Service variables for `pod`, read through `reads`. */
export async function serviceEnvForPod(pod: ObjectLike, reads: ServiceEnvReads): Promise<Record<string, string>> {
  const namespace = pod.metadata.namespace ?? '';
  const spec = (pod['spec'] ?? {}) as { enableServiceLinks?: boolean };
  const objects = spec.enableServiceLinks === false ? [] : await reads.list(namespace);
  const master = namespace === MASTER_SERVICE.namespace && spec.enableServiceLinks !== false ? undefined : (await reads.list(MASTER_SERVICE.namespace)).find((o) => o.metadata.name === MASTER_SERVICE.name);
  if (master) objects.push(master);
  const keyOf = (resource: string, o: ObjectLike) => `/registry/${resource}/${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
  const revisions = reads.creationRevisions ? await reads.creationRevisions([keyOf('pods', pod), ...objects.map((o) => keyOf('services', o))]) : new Map<string, number>();
  const podRevision = revisions.get(keyOf('pods', pod));
  return podServiceEnv(
    { namespace, ...(spec.enableServiceLinks !== undefined ? { enableServiceLinks: spec.enableServiceLinks } : {}), created: { ...(podRevision !== undefined ? { revision: podRevision } : {}), ...(pod.metadata.creationTimestamp ? { timestamp: pod.metadata.creationTimestamp } : {}) } },
    objects.map((o) => serviceForEnv(o, revisions.get(keyOf('services', o)))),
  );
}
