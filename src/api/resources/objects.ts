// The resource API's verbs, without HTTP: get, list, create, replace, patch, delete, and the
// status and scale subresources. It validates and defaults through the object model, sets what
// only the server may set (uid, creationTimestamp, generation, resourceVersion), keeps status
// apart from spec the way Kubernetes does, and turns every refusal into a Status.
import { randomUUID } from 'node:crypto';
import type { FieldCause, KObject, ResourceInfo, ValidationResult } from '../../model/index.ts';
import { findResource, groupVersion, timestamp } from '../../model/index.ts';
import type { ObjectStore, StoredObject } from './object-store.ts';
import { jsonEqual } from '../../model/index.ts';
import { applyPatch } from './patch.ts';
import { boundPod } from './binding.ts';
import type { BindingRequest } from './binding.ts';
import { Status, StatusError } from './status.ts';
import type { ServiceAllocator } from './services/allocation.ts';

/** What the object model offers the API (src/model), injected so the verbs test with fakes. */
export interface ObjectValidator {
  /** Checks and defaults a whole object; the result is a defaulted copy. */
  validate(info: ResourceInfo, input: unknown): ValidationResult;
  /** Changes an update may not make (immutable fields). */
  validateUpdate(info: ResourceInfo, current: KObject, next: KObject): FieldCause[];
  /** What an update keeps from the stored object when the client leaves it out (a Service's
   *  allocated clusterIP and nodePorts). */
  carryOver?(info: ResourceInfo, current: KObject, next: KObject): KObject;
}

export interface Selectors {
  labels?: (labels: Record<string, string> | undefined) => boolean;
  fields?: (object: KObject) => boolean;
}

export interface ListOptions extends Selectors {
  serializable: boolean;
  limit?: number;
  continueToken?: string;
}

export interface WriteOptions {
  dryRun: boolean;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'json';

/** Namespaces every cluster has, as in Kubernetes; they cannot be deleted. */
export const PROTECTED_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/** Fields only the server sets: ignored on input, carried over from the stored object. */
const SERVER_METADATA = ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'selfLink', 'managedFields'] as const;

/** What a kind's status is when the object is created (status is written by bramble itself). */
function initialStatus(info: ResourceInfo): Record<string, unknown> | undefined {
  switch (info.resource) {
    case 'pods':
      return { phase: 'Pending' };
    case 'namespaces':
      return { phase: 'Active' };
    case 'services':
      return { loadBalancer: {} };
    default:
      return info.subresources.includes('status') ? {} : undefined;
  }
}

const GENERATE_NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(random: () => number): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_NAME_ALPHABET[Math.floor(random() * GENERATE_NAME_ALPHABET.length)];
  return s;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function nameOf(body: unknown): string {
  const meta = isObject(body) && isObject(body['metadata']) ? body['metadata'] : undefined;
  return typeof meta?.['name'] === 'string' ? meta['name'] : '';
}

export interface ContinueToken {
  revision: number;
  start: string;
}

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ rv: token.revision, start: token.start })).toString('base64url');
}

export function decodeContinue(text: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof parsed.rv === 'number' && Number.isSafeInteger(parsed.rv) && parsed.rv > 0 && typeof parsed.start === 'string') return { revision: parsed.rv, start: parsed.start };
  } catch {
    // falls through to the refusal
  }
  throw Status.badRequest('the "continue" parameter is not one this server gave out; start the list again without it');
}

export interface ObjectApiOptions {
  store: ObjectStore;
  validator: ObjectValidator;
  now?: () => Date;
  random?: () => number;
  /** Conflicting writes retried for unconditional updates (patch, PUT without resourceVersion). */
  updateAttemptsMax?: number;
  /** Namespaces known to exist, kept current from the watch cache: a create then needs no read. */
  namespaces?: NamespaceCache;
  /** Gives Services their cluster IPs and node ports in the same write as the Service. */
  services?: ServiceAllocator;
}

/** What this member knows of namespaces from its own replica's changes. */
export class NamespaceCache {
  readonly #known = new Map<string, 'active' | 'terminating'>();

  get(name: string): 'active' | 'terminating' | undefined {
    return this.#known.get(name);
  }

  set(object: KObject): void {
    if (object.metadata.name) this.#known.set(object.metadata.name, object.metadata.deletionTimestamp ? 'terminating' : 'active');
  }

  delete(name: string): void {
    this.#known.delete(name);
  }

  clear(): void {
    this.#known.clear();
  }
}


export class ObjectApi {
  readonly store: ObjectStore;
  readonly #validator: ObjectValidator;
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #attempts: number;
  readonly #namespaces: NamespaceCache | undefined;
  readonly #services: ServiceAllocator | undefined;

  constructor(options: ObjectApiOptions) {
    this.#services = options.services;
    this.#namespaces = options.namespaces;
    this.store = options.store;
    this.#validator = options.validator;
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#attempts = options.updateAttemptsMax ?? 5;
  }

  now(): string {
    return timestamp(this.#now());
  }

  async get(info: ResourceInfo, namespace: string | undefined, name: string, serializable: boolean): Promise<KObject> {
    const found = await this.store.get(info, namespace, name, serializable);
    if (!found) throw Status.notFound(info, name);
    return found.object;
  }

  async list(info: ResourceInfo, namespace: string | undefined, options: ListOptions): Promise<KObject> {
    const token = options.continueToken ? decodeContinue(options.continueToken) : undefined;
    if (token && !token.start.startsWith(`/registry/${info.resource}/`)) throw Status.badRequest('the "continue" parameter belongs to another list; start the list again without it');
    let page;
    try {
      page = await this.store.list(info, namespace, {
        serializable: options.serializable,
        ...(options.limit ? { limit: options.limit } : {}),
        ...(token ? { continueKey: token.start, revision: token.revision } : {}),
      });
    } catch (error) {
      if (token && error instanceof StatusError && error.code === 410) {
        throw Status.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      throw error;
    }
    const items = page.items.filter((o) => matchesSelectors(o, options));
    const metadata: Record<string, unknown> = { resourceVersion: String(page.revision) };
    if (page.continueKey !== null) {
      metadata['continue'] = encodeContinue({ revision: page.revision, start: page.continueKey });
      metadata['remainingItemCount'] = page.remaining;
    }
    return { apiVersion: groupVersion(info), kind: info.listKind, metadata, items };
  }

  /** Checks that the namespace exists and is not being deleted. */
  async #requireNamespace(namespace: string): Promise<void> {
    if (this.#namespaces?.get(namespace) === 'active') return;
    const info = findResource('', 'v1', 'namespaces')!;
    const found = (await this.store.get(info, undefined, namespace, true)) ?? (await this.store.get(info, undefined, namespace, false));
    if (!found && PROTECTED_NAMESPACES.includes(namespace)) {
      // The namespaces every cluster has exist from the start, even before the leader's
      // housekeeping has written them.
      try {
        await this.create(info, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }, { dryRun: false });
      } catch (error) {
        if (!(error instanceof StatusError && error.reason === 'AlreadyExists')) throw error;
      }
      return;
    }
    if (!found) throw new StatusError(404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    this.#namespaces?.set(found.object);
    if (found.object.metadata.deletionTimestamp) {
      throw Status.forbidden(`unable to create new content in namespace ${namespace} because it is being terminated`);
    }
  }

  #validated(info: ResourceInfo, body: unknown): KObject {
    const result = this.#validator.validate(info, body);
    if (!result.ok) throw Status.invalid(info, nameOf(body), result.causes);
    return result.object;
  }

  /** The body's kind must be the URL's (a Deployment posted to /pods is a client mistake). */
  #checkKind(info: ResourceInfo, body: unknown): Record<string, unknown> {
    if (!isObject(body)) throw Status.badRequest(`the request body must be a JSON object (a ${info.kind})`);
    const { apiVersion, kind } = body;
    if (kind !== undefined && kind !== info.kind) {
      throw Status.badRequest(`the object's kind ${JSON.stringify(kind)} does not match this URL, which serves ${info.kind} (${groupVersion(info)})`);
    }
    if (apiVersion !== undefined && apiVersion !== groupVersion(info)) {
      throw Status.badRequest(`the object's apiVersion ${JSON.stringify(apiVersion)} does not match this URL, which serves ${groupVersion(info)}`);
    }
    return { ...body, apiVersion: groupVersion(info), kind: info.kind };
  }

  #checkNamespace(info: ResourceInfo, body: Record<string, unknown>, namespace: string | undefined): void {
    if (!info.namespaced) return;
    const meta = isObject(body['metadata']) ? body['metadata'] : undefined;
    const given = meta?.['namespace'];
    if (given !== undefined && given !== '' && given !== namespace) {
      throw Status.badRequest(`the namespace of the object (${JSON.stringify(given)}) does not match the namespace of the URL (${JSON.stringify(namespace)})`);
    }
  }

  async create(info: ResourceInfo, namespace: string | undefined, body: unknown, options: WriteOptions): Promise<KObject> {
    const input = this.#checkKind(info, body);
    this.#checkNamespace(info, input, namespace);
    const meta = isObject(input['metadata']) ? { ...input['metadata'] } : {};
    if ((meta['name'] === undefined || meta['name'] === '') && typeof meta['generateName'] === 'string' && meta['generateName'] !== '') {
      meta['name'] = `${meta['generateName']}${randomSuffix(this.#random)}`;
    }
    if (info.namespaced) meta['namespace'] = namespace;
    for (const field of SERVER_METADATA) delete meta[field];
    const object = this.#validated(info, { ...input, metadata: meta });
    if (info.namespaced) await this.#requireNamespace(namespace!);
    object.metadata.uid = randomUUID();
    object.metadata.creationTimestamp = this.now();
    if (info.hasSpec) object.metadata.generation = 1;
    const status = initialStatus(info);
    if (status !== undefined) object['status'] = status;
    if (this.#services && info.resource === 'services') return this.#services.create(info, object, options.dryRun);
    if (options.dryRun) return object;
    return (await this.store.create(info, object)).object;
  }

  /**
   * The read-modify-write loop behind replace, patch and the subresources. `change` gets the
   * stored object (with its resourceVersion) and returns the object to store. With an explicit
   * precondition a conflict is the client's (409); without one a concurrent change just means
   * reading again.
   */
  async update(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    change: (current: KObject) => KObject,
    options: WriteOptions & { precondition?: string },
  ): Promise<KObject> {
    for (let attempt = 0; ; attempt++) {
      // A local read first (cheap); the write's compare catches a stale one, and then we read
      // through the leader.
      const current = await this.store.get(info, namespace, name, attempt === 0);
      if (!current) {
        if (attempt === 0) continue; // our replica may not have applied its creation yet
        throw Status.notFound(info, name);
      }
      if (options.precondition !== undefined && options.precondition !== current.object.metadata.resourceVersion) {
        if (attempt === 0) continue; // maybe only our replica is behind: read through the leader
        throw Status.conflict(info, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      const next = change(structuredClone(current.object));
      try {
        return await this.#store(info, current, next, options);
      } catch (error) {
        const conflict = error instanceof StatusError && error.reason === 'Conflict';
        if (!conflict || attempt + 1 >= this.#attempts) throw error;
      }
    }
  }

  // Writes `next` over `current` unless nothing changed; finishes a deletion whose last
  // finalizer was just removed.
  async #store(info: ResourceInfo, current: StoredObject, next: KObject, options: WriteOptions): Promise<KObject> {
    if (jsonEqual(next, current.object)) return current.object;
    const lastFinalizerRemoved = (current.object.metadata.finalizers ?? []).length > 0 && (next.metadata.finalizers ?? []).length === 0;
    if (next.metadata.deletionTimestamp && lastFinalizerRemoved && info.resource !== 'pods') {
      if (!options.dryRun) await this.remove(info, current.object, current.modRevision);
      return next;
    }
    if (this.#services && info.resource === 'services') return this.#services.replace(info, current, next, options.dryRun);
    if (options.dryRun) return next;
    return (await this.store.replace(info, next, current.modRevision)).object;
  }

  /** Removes a stored object read at `modRevision` (a Service with its allocations). */
  async remove(info: ResourceInfo, object: KObject, modRevision: number): Promise<number> {
    if (this.#services && info.resource === 'services') return this.#services.remove(info, object, modRevision);
    return this.store.remove(info, object.metadata.namespace, object.metadata.name!, modRevision);
  }

  /** Builds the stored form of a client's whole new object: validated, defaulted, with the
   *  server's fields carried over and (for kinds with a status subresource) the status kept. */
  #merged(info: ResourceInfo, current: KObject, body: Record<string, unknown>): KObject {
    const meta = isObject(body['metadata']) ? { ...body['metadata'] } : {};
    for (const field of SERVER_METADATA) delete meta[field];
    meta['name'] = current.metadata.name;
    if (info.namespaced) meta['namespace'] = current.metadata.namespace;
    let candidate: Record<string, unknown> = { ...body, metadata: meta };
    if (this.#validator.carryOver) candidate = this.#validator.carryOver(info, current, candidate as KObject);
    if (info.subresources.includes('status')) {
      if (current['status'] === undefined) delete candidate['status'];
      else candidate['status'] = current['status'];
    }
    const next = this.#validated(info, candidate);
    const causes = this.#validator.validateUpdate(info, current, next);
    if (causes.length > 0) throw Status.invalid(info, current.metadata.name!, causes);
    const nextMeta = next.metadata as Record<string, unknown>;
    for (const field of SERVER_METADATA) {
      const value = current.metadata[field];
      if (value === undefined) delete nextMeta[field];
      else nextMeta[field] = value;
    }
    if (info.hasSpec && !jsonEqual(next['spec'], current['spec'])) next.metadata.generation = (current.metadata.generation ?? 1) + 1;
    return next;
  }

  async replace(info: ResourceInfo, namespace: string | undefined, name: string, body: unknown, options: WriteOptions): Promise<KObject> {
    const input = this.#checkKind(info, body);
    this.#checkNamespace(info, input, namespace);
    if (nameOf(input) !== name) {
      throw Status.badRequest(`the name of the object (${JSON.stringify(nameOf(input))}) does not match the name of the URL (${JSON.stringify(name)})`);
    }
    const precondition = preconditionOf(input);
    return this.update(info, namespace, name, (current) => this.#merged(info, current, input), { ...options, ...(precondition ? { precondition } : {}) });
  }

  async patch(info: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, options: WriteOptions): Promise<KObject> {
    if (type === 'merge' && !isObject(patch)) throw Status.badRequest('a merge patch must be a JSON object');
    const precondition = type === 'merge' ? preconditionOf(patch as Record<string, unknown>) : undefined;
    return this.update(
      info,
      namespace,
      name,
      (current) => {
        const patched = applyPatch(type, current, patch);
        const input = this.#checkKind(info, patched);
        return this.#merged(info, current, input);
      },
      { ...options, ...(precondition ? { precondition } : {}) },
    );
  }

  // --- status subresource: only .status changes ---

  async replaceStatus(info: ResourceInfo, namespace: string | undefined, name: string, body: unknown, options: WriteOptions): Promise<KObject> {
    const input = this.#checkKind(info, body);
    if (nameOf(input) !== name) throw Status.badRequest(`the name of the object (${JSON.stringify(nameOf(input))}) does not match the name of the URL (${JSON.stringify(name)})`);
    const precondition = preconditionOf(input);
    return this.update(info, namespace, name, (current) => this.#withStatus(info, current, input['status']), { ...options, ...(precondition ? { precondition } : {}) });
  }

  async patchStatus(info: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: unknown, options: WriteOptions): Promise<KObject> {
    return this.update(
      info,
      namespace,
      name,
      (current) => {
        const patched = applyPatch(type, current, patch);
        return this.#withStatus(info, current, isObject(patched) ? patched['status'] : undefined);
      },
      options,
    );
  }

  #withStatus(info: ResourceInfo, current: KObject, status: unknown): KObject {
    if (status !== undefined && !isObject(status)) {
      throw Status.invalid(info, current.metadata.name!, [{ reason: 'FieldValueTypeInvalid', field: 'status', message: `expected an object, got ${JSON.stringify(status)}` }]);
    }
    const next: KObject = { ...current, status: status ?? {} };
    const result = this.#validator.validate(info, next);
    if (!result.ok) throw Status.invalid(info, current.metadata.name!, result.causes);
    // Only the status is taken from the client; the rest stays exactly as stored.
    return { ...current, status: result.object['status'] };
  }

  // --- binding subresource: the one way spec.nodeName is set after creation ---

  /**
   * Binds a pod that has no node to `nodeName` (and sets PodScheduled=True), bypassing the rule
   * that spec.nodeName is immutable and nothing else. `resourceVersion` (and `uid`) are
   * preconditions; a pod already assigned or being deleted is a 409. Answers the bound pod.
   */
  async bind(
    namespace: string,
    name: string,
    nodeName: string,
    options: WriteOptions & Omit<BindingRequest, 'nodeName'>,
  ): Promise<KObject> {
    const pods = findResource('', 'v1', 'pods')!;
    const { dryRun, resourceVersion, ...request } = options;
    return this.update(pods, namespace, name, (current) => boundPod(current, { ...request, nodeName }, this.now()), {
      dryRun,
      ...(resourceVersion !== undefined ? { precondition: resourceVersion } : {}),
    });
  }

  // --- scale subresource (autoscaling/v1 Scale) ---

  scaleOf(object: KObject, selectorText: (selector: unknown) => string): KObject {
    const spec = isObject(object['spec']) ? object['spec'] : {};
    const status = isObject(object['status']) ? object['status'] : {};
    const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
      spec: { replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : 0 },
      status: { replicas: typeof status['replicas'] === 'number' ? status['replicas'] : 0, selector: selectorText(spec['selector']) },
    };
  }

  /** Sets spec.replicas from a Scale (whole, or patched onto the current Scale). */
  async scale(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    scaleFrom: (currentScale: KObject) => unknown,
    selectorText: (selector: unknown) => string,
    options: WriteOptions,
  ): Promise<KObject> {
    const updated = await this.update(
      info,
      namespace,
      name,
      (current) => {
        const wanted = scaleFrom(this.scaleOf(current, selectorText));
        if (!isObject(wanted)) throw Status.badRequest('the body must be a Scale object like {"spec":{"replicas":3}}');
        if (wanted['kind'] !== undefined && wanted['kind'] !== 'Scale') throw Status.badRequest(`expected kind Scale, got ${JSON.stringify(wanted['kind'])}`);
        const meta = isObject(wanted['metadata']) ? wanted['metadata'] : {};
        if (typeof meta['resourceVersion'] === 'string' && meta['resourceVersion'] !== '' && meta['resourceVersion'] !== current.metadata.resourceVersion) {
          throw Status.conflict(info, name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        const replicas = isObject(wanted['spec']) ? wanted['spec']['replicas'] : undefined;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
          throw Status.invalid({ ...info, kind: 'Scale' }, name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer` }]);
        }
        const spec = isObject(current['spec']) ? current['spec'] : {};
        const next: KObject = { ...current, spec: { ...spec, replicas } };
        if (!jsonEqual(next['spec'], current['spec'])) next.metadata = { ...current.metadata, generation: (current.metadata.generation ?? 1) + 1 };
        return next;
      },
      options,
    );
    return this.scaleOf(updated, selectorText);
  }
}

export function matchesSelectors(object: KObject, selectors: Selectors): boolean {
  if (selectors.labels && !selectors.labels(object.metadata.labels)) return false;
  if (selectors.fields && !selectors.fields(object)) return false;
  return true;
}

function preconditionOf(body: Record<string, unknown>): string | undefined {
  const meta = isObject(body['metadata']) ? body['metadata'] : undefined;
  const rv = meta?.['resourceVersion'];
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}
