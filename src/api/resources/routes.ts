// The resource API over HTTP, in Kubernetes' URL layout: discovery, the verbs on collections and
// objects, watches as newline-delimited JSON, and the status, scale, binding, log and exec subresources.
// Every refusal is a Status; nothing reaches the store before the request has been checked.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/index.ts';
import type { KObject, ResourceInfo } from '../../model/index.ts';
import { fieldSelectorMatcher, formatLabelSelector, labelSelectorMatcher, SelectorError } from '../../model/selectors.ts';
import type { LabelSelector } from '../../model/selectors.ts';
import { BINDING_CREATED, parseBinding } from './binding.ts';
import type { Deleter } from './deletion.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, versionInfo } from './discovery.ts';
import type { DeleteOptions, ObjectApi, Selectors } from './objects.ts';
import { isObject } from './objects.ts';
import type { ApiPath } from './paths.ts';
import { parseApiPath } from './paths.ts';
import { applyPatch } from './patch.ts';
import type { NodeMetricsRoutes } from './metrics.ts';
import { METRICS_PREFIX } from './metrics.ts';
import type { PodAccess } from './pod-access.ts';
import { Query, readDeleteBody, readObjectBody, readPatchBody } from './request.ts';
import { sendStatus, Status, StatusError } from './status.ts';
import type { WatchCache } from './watch-cache.ts';
import { streamWatch } from './watch-stream.ts';

/** What the caller may do: everything, or read only (a read-only token). */
export type Access = 'admin' | 'read';

export interface ResourceRoutesOptions {
  api: ObjectApi;
  deleter: Deleter;
  cache: WatchCache;
  pods: PodAccess;
  logger: Logger;
  /** For /version and /api's serverAddressByClientCIDRs. */
  runtime: { platform: string; arch: string; node: string };
  serverAddress: string;
  metrics: NodeMetricsRoutes;
}

function sendObject(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function selectorsOf(query: Query): Selectors {
  const out: Selectors = {};
  try {
    const labels = query.string('labelSelector');
    if (labels) out.labels = labelSelectorMatcher(labels);
    const fields = query.string('fieldSelector');
    if (fields) {
      const match = fieldSelectorMatcher(fields);
      out.fields = (o: KObject) => match(o);
    }
  } catch (error) {
    if (error instanceof SelectorError) throw Status.badRequest(error.message);
    throw error;
  }
  return out;
}

export const selectorText = (selector: unknown): string => formatLabelSelector(isObject(selector) ? (selector as LabelSelector) : null);

function deleteOptionsOf(query: Query, body: Record<string, unknown>): DeleteOptions {
  const known = new Set(['kind', 'apiVersion', 'gracePeriodSeconds', 'propagationPolicy', 'preconditions', 'dryRun', 'orphanDependents']);
  for (const key of Object.keys(body)) if (!known.has(key)) throw Status.badRequest(`DeleteOptions: unknown field "${key}"`);
  const grace = query.int('gracePeriodSeconds') ?? body['gracePeriodSeconds'];
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0)) throw Status.badRequest('DeleteOptions.gracePeriodSeconds: expected a whole number of seconds, 0 or more');
  const policy = query.string('propagationPolicy') ?? body['propagationPolicy'] ?? (body['orphanDependents'] === true ? 'Orphan' : undefined);
  if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
    throw Status.badRequest(`propagationPolicy ${JSON.stringify(policy)}: expected Orphan, Background or Foreground`);
  }
  const pre = body['preconditions'];
  if (pre !== undefined && !isObject(pre)) throw Status.badRequest('DeleteOptions.preconditions: expected an object with uid and/or resourceVersion');
  const dryRunBody = body['dryRun'];
  const dryRun = query.dryRun() || (Array.isArray(dryRunBody) && dryRunBody.includes('All'));
  return {
    dryRun,
    ...(grace !== undefined ? { gracePeriodSeconds: grace as number } : {}),
    ...(policy !== undefined ? { propagationPolicy: policy as 'Orphan' } : {}),
    ...(pre
      ? {
          preconditions: {
            ...(typeof pre['uid'] === 'string' ? { uid: pre['uid'] } : {}),
            ...(typeof pre['resourceVersion'] === 'string' ? { resourceVersion: pre['resourceVersion'] } : {}),
          },
        }
      : {}),
  };
}

export class ResourceRoutes {
  readonly #o: ResourceRoutesOptions;
  /** How a Node is shown: with the leader's last heartbeat time (see useNodeHeartbeats). */
  #nodeView: ((node: KObject) => Promise<KObject>) | undefined;

  constructor(options: ResourceRoutesOptions) {
    this.#o = options;
  }

  /** Node reads show the Ready condition's lastHeartbeatTime from the leader's memory, and node
   *  metrics come from the heartbeats (src/cluster/heartbeat-view.ts; main sets this). */
  useNodeHeartbeats(view: { nodeView(node: KObject): Promise<KObject>; records: Parameters<NodeMetricsRoutes['useHeartbeats']>[0] }): void {
    this.#nodeView = (node) => view.nodeView(node);
    this.#o.metrics.useHeartbeats(() => view.records());
  }

  async #shown(info: ResourceInfo, object: KObject): Promise<KObject> {
    return this.#nodeView && info.kind === 'Node' ? this.#nodeView(object) : object;
  }

  /** True when the path is the resource API's (then the request is answered). */
  handles(path: string): boolean {
    return parseApiPath(path) !== null;
  }

  async handle(req: IncomingMessage, res: ServerResponse, access: Access): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    try {
      if (path === '/apis/metrics.k8s.io' || path.startsWith(METRICS_PREFIX)) {
        await this.#o.metrics.handle(req, res, path);
        return;
      }
      const target = parseApiPath(path);
      if (target === null) throw Status.pathNotFound(`the server could not find the requested resource: ${path}`);
      await this.#route(req, res, target, Query.of(url), access, path);
    } catch (error) {
      if (error instanceof StatusError) sendStatus(res, error);
      else {
        this.#o.logger.error('resource request failed', { method: req.method, path, error });
        sendStatus(res, Status.internal('internal error: the server failed to answer this request; see its log'));
      }
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, target: ApiPath, query: Query, access: Access, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (target.type !== 'resource') {
      if (method !== 'GET') throw Status.methodNotAllowed(method, path);
      sendObject(res, 200, this.#discovery(target, path));
      return;
    }
    const { info, namespace, name, subresource } = target;
    const writes = method !== 'GET' && method !== 'HEAD';
    const isExec = subresource === 'exec';
    if ((writes || isExec) && access === 'read') {
      throw Status.forbidden(`this token is read-only: it may not ${method} ${path}; use an admin token (DATA/admin-token) for writes`);
    }
    if (info.namespaced && namespace === undefined && name !== undefined) {
      throw Status.pathNotFound(`${info.resource} are namespaced: use /${info.group ? `apis/${info.group}` : 'api'}/${info.version}/namespaces/NAMESPACE/${info.resource}/${name}`);
    }
    if (name === undefined) return this.#collection(req, res, method, info, namespace, query, path);
    if (subresource === undefined) return this.#object(req, res, method, info, namespace, name, query, path);
    if (!info.subresources.includes(subresource)) throw Status.pathNotFound(`${info.resource} have no subresource "${subresource}"`);
    return this.#subresource(req, res, method, info, namespace, name, subresource, query, path);
  }

  #discovery(target: ApiPath, path: string): unknown {
    switch (target.type) {
      case 'discovery':
        if (target.doc === 'api') return apiVersions(this.#o.serverAddress);
        if (target.doc === 'apis') return apiGroupList();
        return versionInfo(this.#o.runtime);
      case 'group': {
        const doc = apiGroup(target.group);
        if (!doc) throw Status.pathNotFound(`the server could not find the requested resource: bramble does not serve the API group "${target.group}"`);
        return doc;
      }
      case 'groupVersion': {
        const doc = apiResourceList(target.group, target.version);
        if (!doc) throw Status.pathNotFound(`the server could not find the requested resource: bramble does not serve ${path}`);
        return doc;
      }
      case 'unknown':
        throw Status.pathNotFound(target.message);
      default:
        throw Status.pathNotFound(`the server could not find the requested resource: ${path}`);
    }
  }

  async #collection(req: IncomingMessage, res: ServerResponse, method: string, info: ResourceInfo, namespace: string | undefined, query: Query, path: string): Promise<void> {
    const { api } = this.#o;
    if (method === 'GET') {
      const selectors = selectorsOf(query);
      const rv = query.resourceVersion();
      if (query.bool('watch')) {
        await streamWatch(req, res, { cache: this.#o.cache, api, info, namespace, selectors, resourceVersion: rv, query, logger: this.#o.logger });
        return;
      }
      const limit = query.int('limit', 100_000);
      const continueToken = query.string('continue');
      const list = await api.list(info, namespace, {
        serializable: rv.kind === 'any',
        ...selectors,
        ...(limit ? { limit } : {}),
        ...(continueToken ? { continueToken } : {}),
      });
      if (this.#nodeView && info.kind === 'Node') list['items'] = await Promise.all((list['items'] as KObject[]).map((o) => this.#shown(info, o)));
      sendObject(res, 200, list);
      return;
    }
    if (method === 'POST') {
      if (info.namespaced && namespace === undefined) {
        throw Status.methodNotAllowed(method, `${path} (create ${info.resource} in a namespace: /${info.group ? `apis/${info.group}` : 'api'}/${info.version}/namespaces/NAMESPACE/${info.resource})`);
      }
      const body = await readObjectBody(req);
      const created = await api.create(info, namespace, body, { dryRun: query.dryRun() });
      sendObject(res, 201, created);
      return;
    }
    if (method === 'DELETE') {
      // deletecollection: every object the selectors match, one by one.
      const selectors = selectorsOf(query);
      const body = await readDeleteBody(req);
      const options = deleteOptionsOf(query, body);
      const list = await api.list(info, namespace, { serializable: false, ...selectors });
      const items: KObject[] = [];
      for (const object of list.items as KObject[]) {
        try {
          items.push((await this.#o.deleter.delete(info, object.metadata.namespace, object.metadata.name!, options)).object);
        } catch (error) {
          if (!(error instanceof StatusError && error.code === 404)) throw error;
        }
      }
      sendObject(res, 200, { ...list, items });
      return;
    }
    throw Status.methodNotAllowed(method, path);
  }

  async #object(req: IncomingMessage, res: ServerResponse, method: string, info: ResourceInfo, namespace: string | undefined, name: string, query: Query, path: string): Promise<void> {
    const { api } = this.#o;
    switch (method) {
      case 'GET': {
        const rv = query.resourceVersion();
        sendObject(res, 200, await this.#shown(info, await api.get(info, namespace, name, rv.kind === 'any')));
        return;
      }
      case 'PUT': {
        const body = await readObjectBody(req);
        sendObject(res, 200, await api.replace(info, namespace, name, body, { dryRun: query.dryRun() }));
        return;
      }
      case 'PATCH': {
        const { type, patch } = await readPatchBody(req);
        sendObject(res, 200, await api.patch(info, namespace, name, type, patch, { dryRun: query.dryRun() }));
        return;
      }
      case 'DELETE': {
        const options = deleteOptionsOf(query, await readDeleteBody(req));
        const { object, gone } = await this.#o.deleter.delete(info, namespace, name, options);
        // 202 while the object waits for its node agent, finalizers or contents; 200 when gone.
        sendObject(res, gone ? 200 : 202, object);
        return;
      }
      default:
        throw Status.methodNotAllowed(method, path);
    }
  }

  async #subresource(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    subresource: string,
    query: Query,
    path: string,
  ): Promise<void> {
    const { api } = this.#o;
    const dryRun = { dryRun: method === 'GET' ? false : query.dryRun() };
    if (subresource === 'status') {
      if (method === 'GET') return sendObject(res, 200, await this.#shown(info, await api.get(info, namespace, name, query.resourceVersion().kind === 'any')));
      if (method === 'PUT') return sendObject(res, 200, await api.replaceStatus(info, namespace, name, await readObjectBody(req), dryRun));
      if (method === 'PATCH') {
        const { type, patch } = await readPatchBody(req);
        return sendObject(res, 200, await api.patchStatus(info, namespace, name, type, patch, dryRun));
      }
      throw Status.methodNotAllowed(method, path);
    }
    if (subresource === 'scale') {
      if (method === 'GET') return sendObject(res, 200, api.scaleOf(await api.get(info, namespace, name, query.resourceVersion().kind === 'any'), selectorText));
      if (method === 'PUT') {
        const body = await readObjectBody(req);
        return sendObject(res, 200, await api.scale(info, namespace, name, () => body, selectorText, dryRun));
      }
      if (method === 'PATCH') {
        const { type, patch } = await readPatchBody(req);
        return sendObject(res, 200, await api.scale(info, namespace, name, (scale) => applyPatch(type, scale, patch), selectorText, dryRun));
      }
      throw Status.methodNotAllowed(method, path);
    }
    if (subresource === 'binding') {
      if (method !== 'POST') throw Status.methodNotAllowed(method, `${path} (bind with POST and a Binding: {"apiVersion":"v1","kind":"Binding","metadata":{"name":"${name}"},"target":{"kind":"Node","name":"NODE"}})`);
      const request = parseBinding(await readObjectBody(req), namespace!, name);
      const { nodeName, ...preconditions } = request;
      await api.bind(namespace!, name, nodeName, { ...preconditions, ...dryRun });
      return sendObject(res, 201, BINDING_CREATED);
    }
    const pod = await api.get(info, namespace, name, false);
    if (subresource === 'log') {
      if (method !== 'GET') throw Status.methodNotAllowed(method, path);
      // Container logs are one file per container, appended across restarts, without times:
      // what Kubernetes' other log options select does not exist here, so they are refused.
      for (const unsupported of ['previous', 'timestamps', 'sinceSeconds', 'sinceTime', 'limitBytes']) {
        if (query.string(unsupported) !== undefined && query.string(unsupported) !== 'false') {
          throw Status.badRequest(`log option ${unsupported} is not supported: a container's log is one file kept across its restarts, without timestamps; use tailLines and follow`);
        }
      }
      await this.#o.pods.logs(req, res, pod, {
        container: query.string('container'),
        follow: query.bool('follow'),
        tailLines: query.int('tailLines'),
      });
      return;
    }
    if (subresource === 'exec') {
      if (method !== 'POST') throw Status.methodNotAllowed(method, `${path} (exec is POST with {"command": [...], "container": "..."})`);
      const body = await readObjectBody(req);
      if (!isObject(body)) throw Status.badRequest('exec: the body must be {"command": ["cmd", "arg"], "container": "name"}');
      for (const key of Object.keys(body)) if (key !== 'command' && key !== 'container') throw Status.badRequest(`exec: unknown field "${key}"; the body takes "command" and "container"`);
      const { command, container } = body;
      if (!Array.isArray(command) || command.length === 0 || !command.every((c) => typeof c === 'string')) {
        throw Status.badRequest('exec: "command" must be a non-empty array of strings, like ["sh", "-c", "echo hi"]');
      }
      if (container !== undefined && typeof container !== 'string') throw Status.badRequest('exec: "container" must be a string');
      await this.#o.pods.exec(req, res, pod, { command: command as string[], ...(container !== undefined ? { container } : {}) });
      return;
    }
    throw Status.pathNotFound(`${info.resource} have no subresource "${subresource}"`);
  }
}
