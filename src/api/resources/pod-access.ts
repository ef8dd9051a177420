// Logs and exec reach a pod's containers on the gateway that runs it. The API server that gets
// the request answers itself when the pod is on its own gateway (through the node's container
// runtime) and otherwise forwards the request, as is, to that gateway's API server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../log/index.ts';
import type { KObject } from '../../model/index.ts';
import { MemberForwarder } from '../forward.ts';
import { isObject } from './objects.ts';
import { Status } from './status.ts';

export interface LogOptions {
  container: string | undefined;
  follow: boolean;
  tailLines: number | undefined;
}

export interface ExecRequest {
  command: string[];
  container?: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** What the node agent offers for the pods on this gateway (src/agent, once it runs pods). */
export interface LocalPodRuntime {
  /** Streams the container's log to `out` (ends it unless following); throws a StatusError. */
  logs(pod: KObject, container: string, options: LogOptions, out: ServerResponse, signal: AbortSignal): Promise<void>;
  exec(pod: KObject, container: string, command: string[], signal: AbortSignal): Promise<ExecResult>;
}

export interface PodAccess {
  logs(req: IncomingMessage, res: ServerResponse, pod: KObject, options: LogOptions): Promise<void>;
  exec(req: IncomingMessage, res: ServerResponse, pod: KObject, request: ExecRequest): Promise<void>;
}

export interface PodAccessOptions {
  /** This gateway's node name (the member name). */
  selfNode: string;
  /** The API URL of the gateway named `node`, if it is a member. */
  apiUrlOf: (node: string) => string | undefined;
  /** A token every member accepts as admin, for the forwarded request. */
  token: string;
  runtime: () => LocalPodRuntime | undefined;
  logger: Logger;
}


function containerOf(pod: KObject, wanted: string | undefined): string {
  const spec = isObject(pod['spec']) ? pod['spec'] : {};
  const containers = Array.isArray(spec['containers']) ? (spec['containers'] as { name?: string }[]) : [];
  const names = containers.map((c) => c.name ?? '');
  const name = pod.metadata.name ?? '';
  if (wanted !== undefined && wanted !== '') {
    if (!names.includes(wanted)) throw Status.badRequest(`container ${wanted} is not valid for pod ${name}; its containers are: ${names.join(', ')}`);
    return wanted;
  }
  if (names.length === 1) return names[0]!;
  throw Status.badRequest(`a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
}

function nodeOf(pod: KObject): string {
  const spec = isObject(pod['spec']) ? pod['spec'] : {};
  const node = typeof spec['nodeName'] === 'string' ? spec['nodeName'] : '';
  if (node === '') throw Status.badRequest(`pod ${pod.metadata.name} is not scheduled to a node yet; it has no containers to read or run in`);
  return node;
}

export class RoutedPodAccess implements PodAccess {
  readonly #o: PodAccessOptions;
  readonly #forwarder: MemberForwarder;

  constructor(options: PodAccessOptions) {
    this.#o = options;
    this.#forwarder = new MemberForwarder(options.selfNode, options.token, options.logger);
  }

  async logs(req: IncomingMessage, res: ServerResponse, pod: KObject, options: LogOptions): Promise<void> {
    const container = containerOf(pod, options.container);
    const node = nodeOf(pod);
    if (node !== this.#o.selfNode) return this.#forwarder.forward(req, res, node, this.#o.apiUrlOf(node));
    const runtime = this.#local(node);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    await runtime.logs(pod, container, options, res, abort.signal);
  }

  async exec(req: IncomingMessage, res: ServerResponse, pod: KObject, request: ExecRequest): Promise<void> {
    const container = containerOf(pod, request.container);
    const node = nodeOf(pod);
    if (node !== this.#o.selfNode) return this.#forwarder.forward(req, res, node, this.#o.apiUrlOf(node), JSON.stringify(request));
    const runtime = this.#local(node);
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    const result = await runtime.exec(pod, container, request.command, abort.signal);
    const text = JSON.stringify(result);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  #local(node: string): LocalPodRuntime {
    const runtime = this.#o.runtime();
    if (!runtime) throw Status.unavailable(`gateway ${node} runs no container runtime (its node agent is not running); logs and exec are unavailable there`);
    return runtime;
  }

  async close(): Promise<void> {
    await this.#forwarder.close();
  }
}
