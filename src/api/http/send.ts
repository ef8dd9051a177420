// Writing JSON answers. Error bodies have grpc-gateway's shape, {"error","message","code"}, so a
// client written for etcd's gateway reads bramble's errors unchanged.
import type { ServerResponse } from 'node:http';
import type { HttpError } from './errors.ts';

/** Answers `status` with an already serialized JSON text. */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: Readonly<Record<string, string>>,
): void {
  if (res.writableEnded || res.destroyed) return; // answered already, or the client is gone
  if (res.headersSent) {
    // A streamed response cannot change its status any more: cut it, so the client sees a
    // broken response rather than a complete-looking one.
    res.destroy();
    return;
  }
  if (headers !== undefined) for (const name in headers) res.setHeader(name, headers[name]!);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers `status` with `body` serialized by JSON.stringify. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Readonly<Record<string, string>>): void {
  sendJsonText(res, status, JSON.stringify(body), headers);
}

/** The body of every error answer. `errorText` defaults to `message`, as grpc-gateway has both. */
export function errorBody(grpcCode: number, message: string, errorText: string = message): { error: string; message: string; code: number } {
  return { error: errorText, message, code: grpcCode };
}

/** Answers an error: `{"error": errorText, "message": message, "code": grpcCode}`. */
export function sendError(
  res: ServerResponse,
  status: number,
  grpcCode: number,
  message: string,
  errorText: string = message,
  headers?: Readonly<Record<string, string>>,
): void {
  sendJson(res, status, errorBody(grpcCode, message, errorText), headers);
}

/** Answers an HttpError with its status, code, headers, and `Connection: close` when the rest of
 *  the request was left unread. */
export function sendHttpError(res: ServerResponse, error: HttpError): void {
  const headers = error.closeConnection ? { ...error.headers, connection: 'close' } : error.headers;
  sendError(res, error.status, error.grpcCode, error.message, error.errorText, headers);
}
