// Images on a gateway, with no registry: `bramble image import|ls|rm` talk to these routes. A
// request names its gateway with `?node=NAME` (default: the one that answers) and is forwarded
// there (refusals are Status objects: the router is given answerStatusError). An import streams the archive to a file under the data directory, then has containerd
// import it, answering progress as one JSON object a line and, last, the imported names.
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../log/index.ts';
import type { MemberForwarder } from './forward.ts';
import type { Route } from './http/index.ts';
import { sendError, sendJson } from './http/index.ts';
import { Status } from './resources/status.ts';

/** What the image routes need of the container runtime (src/runtime's Runtime). */
export interface ImageRuntime {
  importImage(file: string, options: { onProgress?: (line: string) => void; signal?: AbortSignal }): Promise<string[]>;
  listImages(): Promise<{ name: string; digest: string; sizeBytes: number }[]>;
  removeImage(ref: string): Promise<boolean>;
}

export interface ImageRoutesOptions {
  selfNode: string;
  runtime: () => ImageRuntime | undefined;
  forwarder: MemberForwarder;
  apiUrlOf: (node: string) => string | undefined;
  /** Where uploads wait for containerd (removed after the import). */
  uploadDir: string;
  logger: Logger;
}

/** An archive larger than this is refused (an SD card fills up; import from a local file instead). */
export const IMAGE_UPLOAD_BYTES_MAX = 4 * 1024 ** 3;

function queryOf(req: IncomingMessage): URLSearchParams {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
}

export function createImageRoutes(o: ImageRoutesOptions): Route[] {
  /** The runtime of this gateway, or null when the request was forwarded (answered). */
  const local = async (req: IncomingMessage, res: ServerResponse): Promise<ImageRuntime | null> => {
    const node = queryOf(req).get('node');
    if (node && node !== o.selfNode) {
      await o.forwarder.forward(req, res, node, o.apiUrlOf(node));
      return null;
    }
    const runtime = o.runtime();
    if (!runtime) throw Status.unavailable(`gateway ${o.selfNode} runs no container runtime (containerd is not running); images are unavailable there`);
    return runtime;
  };

  let uploads = 0;
  return [
    {
      method: 'GET',
      path: '/bramble/v1/images',
      handler: async (req, res) => {
        const runtime = await local(req, res);
        if (!runtime) return;
        sendJson(res, 200, { node: o.selfNode, items: await runtime.listImages() });
      },
    },
    {
      method: 'DELETE',
      path: '/bramble/v1/images',
      handler: async (req, res) => {
        const name = queryOf(req).get('name');
        if (!name) {
          sendError(res, 400, 3, 'image rm: give the image as ?name=REF (e.g. busybox or docker.io/library/nginx:1.14.2)');
          return;
        }
        const runtime = await local(req, res);
        if (!runtime) return;
        const removed = await runtime.removeImage(name);
        if (!removed) sendError(res, 404, 5, `image ${name} is not on node ${o.selfNode}`);
        else sendJson(res, 200, { node: o.selfNode, removed: name });
      },
    },
    {
      method: 'POST',
      path: '/bramble/v1/images/import',
      handler: async (req, res) => {
        const runtime = await local(req, res);
        if (!runtime) return;
        const declared = Number(req.headers['content-length'] ?? 0);
        if (declared > IMAGE_UPLOAD_BYTES_MAX) {
          sendError(res, 413, 8, `image import: the archive is over ${IMAGE_UPLOAD_BYTES_MAX} bytes; copy it to the gateway and import it there`);
          return;
        }
        mkdirSync(o.uploadDir, { recursive: true, mode: 0o700 });
        const file = join(o.uploadDir, `upload-${process.pid}-${Date.now()}-${uploads++}.tar`);
        const abort = new AbortController();
        res.on('close', () => abort.abort());
        try {
          let received = 0;
          req.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > IMAGE_UPLOAD_BYTES_MAX) req.destroy(new Error(`the archive is over ${IMAGE_UPLOAD_BYTES_MAX} bytes`));
          });
          await pipeline(req, createWriteStream(file, { mode: 0o600 }));
          o.logger.info('image archive received', { node: o.selfNode, bytes: received });
          res.writeHead(200, { 'content-type': 'application/x-ndjson' });
          res.write(`${JSON.stringify({ progress: `received ${received} bytes; importing` })}\n`);
          try {
            const imported = await runtime.importImage(file, {
              signal: abort.signal,
              onProgress: (line) => {
                o.logger.info('image import', { node: o.selfNode, progress: line });
                res.write(`${JSON.stringify({ progress: line })}\n`);
              },
            });
            res.end(`${JSON.stringify({ node: o.selfNode, imported })}\n`);
          } catch (error) {
            res.end(`${JSON.stringify({ node: o.selfNode, error: (error as Error).message })}\n`);
          }
        } catch (error) {
          if (!res.headersSent) sendError(res, 400, 3, `image import: the upload failed (${(error as Error).message})`);
          else res.end();
        } finally {
          rmSync(file, { force: true });
        }
      },
    },
  ];
}
