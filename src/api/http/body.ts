// Reads a request body into one Buffer, refusing bodies over a byte limit. The limit defaults to
// etcd's --max-request-bytes (1.5 MiB) so that what etcd accepts, bramble accepts.
import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.ts';
import { JsonObjectEnd } from './json.ts';
import { GrpcStatus } from './status.ts';

export const REQUEST_BYTES_MAX_DEFAULT = 1.5 * 1024 * 1024;

// Past the limit we keep reading (and dropping) up to this many more bytes, so that an ordinary
// client that is still sending sees the 413 instead of a reset connection. A client sending more
// than that gets the 413 at once and the connection is closed behind it.
export const OVERSIZE_DRAIN_BYTES_MAX = 8 * 1024 * 1024;

function tooLarge(limitBytes: number, closeConnection: boolean): HttpError {
  return new HttpError(
    'E_REQUEST_TOO_LARGE',
    413,
    GrpcStatus.ResourceExhausted,
    `etcdserver: request is too large: the request body is over the ${limitBytes}-byte limit; send a smaller request`,
    { errorText: 'etcdserver: request is too large', closeConnection },
  );
}

/** Resolves with the whole body, or rejects with an HttpError: 413 when it is over `limitBytes`,
 *  400 when the client stops before sending all of it. Never rejects with anything else. */
export async function readBody(req: IncomingMessage, limitBytes: number = REQUEST_BYTES_MAX_DEFAULT): Promise<Buffer> {
  return (await collect(req, limitBytes, null)).body;
}

export interface FirstJsonObject {
  /** The bytes up to the end of the first top-level JSON object (all of them if the body ended
   *  first, e.g. because it holds no object: the parser then says what is wrong). */
  body: Buffer;
  /** Null when the request body has ended. Otherwise what followed the object in the same
   *  chunk; the request is paused and may send more. */
  rest: Buffer | null;
}

/** Like readBody, but resolves as soon as the first JSON object is complete, for clients that
 *  keep the request body open after it (a /v3/watch body is a stream of messages in etcd). */
export function readFirstJsonObject(req: IncomingMessage, limitBytes: number = REQUEST_BYTES_MAX_DEFAULT): Promise<FirstJsonObject> {
  return collect(req, limitBytes, new JsonObjectEnd());
}

function collect(req: IncomingMessage, limitBytes: number, objectEnd: JsonObjectEnd | null): Promise<FirstJsonObject> {
  return new Promise((resolve, reject) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > limitBytes + OVERSIZE_DRAIN_BYTES_MAX) {
      reject(tooLarge(limitBytes, true));
      return;
    }
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    let oversize = false;

    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const joined = (): Buffer => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, receivedBytes));
    function onData(chunk: Buffer): void {
      if (objectEnd !== null && !oversize) {
        const end = objectEnd.feed(chunk);
        if (end >= 0 && receivedBytes + end <= limitBytes) {
          chunks.push(chunk.subarray(0, end));
          receivedBytes += end;
          cleanup();
          req.pause();
          resolve({ body: joined(), rest: chunk.subarray(end) });
          return;
        }
      }
      receivedBytes += chunk.length;
      if (receivedBytes <= limitBytes) {
        chunks.push(chunk);
        return;
      }
      if (!oversize) {
        oversize = true;
        chunks.length = 0; // drop what we held: it will not be used
      }
      if (receivedBytes > limitBytes + OVERSIZE_DRAIN_BYTES_MAX) {
        cleanup();
        req.pause();
        reject(tooLarge(limitBytes, true));
      }
    }
    function onEnd(): void {
      cleanup();
      if (oversize) reject(tooLarge(limitBytes, false));
      else resolve({ body: joined(), rest: null });
    }
    function onError(error: Error): void {
      cleanup();
      reject(
        new HttpError('E_BAD_REQUEST', 400, GrpcStatus.InvalidArgument, `the request body could not be read: ${error.message}`, {
          closeConnection: true,
        }),
      );
    }
    function onClose(): void {
      if (req.complete) return;
      cleanup();
      reject(
        new HttpError(
          'E_BAD_REQUEST',
          400,
          GrpcStatus.InvalidArgument,
          `the request body is incomplete: the client closed the connection after ${receivedBytes} bytes`,
          { closeConnection: true },
        ),
      );
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
