// Kubernetes `Status` objects: every refusal of the resource API is one, with the HTTP code, a
// machine-readable `reason`, a message that names what was wrong, and `details.causes` naming
// fields, so kubectl-shaped clients (and ours) can print the server's words unchanged.
import type { ServerResponse } from 'node:http';
import type { FieldCause, ResourceInfo } from '../../model/index.ts';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'UnsupportedMediaType'
  | 'RequestEntityTooLarge'
  | 'ServiceUnavailable'
  | 'Timeout'
  | 'InternalError';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason: string; message: string; field: string }[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: StatusReason | '';
  details?: StatusDetails;
  code: number;
}

/** A refusal answered as a Status. Thrown by handlers, answered by the dispatcher. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'StatusError';
  }

  toStatus(): StatusObject {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

function detailsOf(info: ResourceInfo, name: string): StatusDetails {
  return { name, ...(info.group ? { group: info.group } : {}), kind: info.resource };
}

/** kubectl's way of naming a resource in messages: `deployments.apps`, `pods`. */
export function groupResource(info: ResourceInfo): string {
  return info.group ? `${info.resource}.${info.group}` : info.resource;
}

export const Status = {
  badRequest: (message: string) => new StatusError(400, 'BadRequest', message),
  forbidden: (message: string) => new StatusError(403, 'Forbidden', message),
  unauthorized: (message: string) => new StatusError(401, 'Unauthorized', message),
  notFound: (info: ResourceInfo, name: string) => new StatusError(404, 'NotFound', `${groupResource(info)} "${name}" not found`, detailsOf(info, name)),
  pathNotFound: (message: string) => new StatusError(404, 'NotFound', message),
  alreadyExists: (info: ResourceInfo, name: string) =>
    new StatusError(409, 'AlreadyExists', `${groupResource(info)} "${name}" already exists`, detailsOf(info, name)),
  conflict: (info: ResourceInfo, name: string, why: string) =>
    new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${groupResource(info)} "${name}": ${why}`, detailsOf(info, name)),
  invalid: (info: ResourceInfo, name: string, causes: FieldCause[]) =>
    new StatusError(
      422,
      'Invalid',
      `${info.kind} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      { ...detailsOf(info, name), kind: info.kind, causes: causes.map((c) => ({ reason: c.reason, message: c.message, field: c.field })) },
    ),
  expired: (message: string) => new StatusError(410, 'Expired', message),
  methodNotAllowed: (method: string, path: string) =>
    new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource: ${method} ${path}`),
  unsupportedMediaType: (given: string, supported: string[]) =>
    new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format ("${given}"); accepted media types include: ${supported.join(', ')}`),
  tooLarge: (limitBytes: number) => new StatusError(413, 'RequestEntityTooLarge', `the request body is over the ${limitBytes}-byte limit; send a smaller object`),
  unavailable: (message: string) => new StatusError(503, 'ServiceUnavailable', message, { retryAfterSeconds: 1 }),
  timeout: (message: string) => new StatusError(504, 'Timeout', message, { retryAfterSeconds: 1 }),
  internal: (message: string) => new StatusError(500, 'InternalError', message),
};

export function sendStatus(res: ServerResponse, error: StatusError): void {
  if (res.writableEnded || res.destroyed) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(error.toStatus());
  res.writeHead(error.code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** For routers outside the resource API: answers a StatusError as a Status, else false. */
export function answerStatusError(res: ServerResponse, error: unknown): boolean {
  if (!(error instanceof StatusError)) return false;
  sendStatus(res, error);
  return true;
}
