// POST /bramble/v1/tokens: make an API token (`bramble token create [--read-only]`). Only callers
// with full access get here; the token is answered once and stored only as a digest.
import type { Route } from './http/index.ts';
import { parseJsonObject, readBody, sendError, sendJson } from './http/index.ts';
import type { TokenRegistry } from './tokens.ts';

export function createTokenRoutes(registry: TokenRegistry, now: () => string): Route[] {
  return [
    {
      method: 'POST',
      path: '/bramble/v1/tokens',
      handler: async (req, res) => {
        const body = parseJsonObject(await readBody(req, 64 * 1024), 'token request');
        for (const key of Object.keys(body)) {
          if (key !== 'readOnly' && key !== 'description') {
            sendError(res, 400, 3, `token request: unknown field "${key}"; it takes "readOnly" (true or false) and "description"`);
            return;
          }
        }
        const { readOnly, description } = body;
        if (readOnly !== undefined && typeof readOnly !== 'boolean') {
          sendError(res, 400, 3, 'token request: "readOnly" must be true or false');
          return;
        }
        if (description !== undefined && (typeof description !== 'string' || description.length > 200)) {
          sendError(res, 400, 3, 'token request: "description" must be a string of at most 200 characters');
          return;
        }
        const token = await registry.create(readOnly === true, description, now());
        sendJson(res, 201, { token, readOnly: readOnly === true });
      },
    },
  ];
}
