// Reading a resource API request: query parameters checked one by one (a bad value is a 400
// naming the parameter), and bodies decoded by content type (JSON or YAML objects, the two patch
// formats), refusing oversize bodies before they are parsed.
import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { findJsonSyntaxError, HttpError, readBody } from '../http/index.ts';
import type { PatchType } from './objects.ts';
import { Status } from './status.ts';

/** Objects are stored as one store value; the store takes requests up to 1.5 MiB. */
export const OBJECT_BODY_BYTES_MAX = 1_400_000;

export class Query {
  constructor(readonly params: URLSearchParams) {}

  static of(url: string): Query {
    const q = url.indexOf('?');
    return new Query(new URLSearchParams(q < 0 ? '' : url.slice(q + 1)));
  }

  string(name: string): string | undefined {
    const v = this.params.get(name);
    return v === null ? undefined : v;
  }

  bool(name: string): boolean {
    const v = this.params.get(name);
    if (v === null || v === '' || v === 'false' || v === '0') return false;
    if (v === 'true' || v === '1') return true;
    throw Status.badRequest(`query parameter ${name}=${JSON.stringify(v)}: expected true or false`);
  }

  /** A non-negative integer, or undefined when absent. */
  int(name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return undefined;
    if (!/^[0-9]{1,16}$/.test(v) || Number(v) > max) throw Status.badRequest(`query parameter ${name}=${JSON.stringify(v)}: expected a whole number from 0 to ${max}`);
    return Number(v);
  }

  /** resourceVersion: '' (absent), '0', or a revision. */
  resourceVersion(): { kind: 'none' } | { kind: 'any' } | { kind: 'at'; revision: number } {
    const v = this.params.get('resourceVersion');
    if (v === null || v === '') return { kind: 'none' };
    if (v === '0') return { kind: 'any' };
    if (!/^[1-9][0-9]{0,15}$/.test(v)) throw Status.badRequest(`query parameter resourceVersion=${JSON.stringify(v)}: expected a resourceVersion this server gave out (a whole number)`);
    return { kind: 'at', revision: Number(v) };
  }

  dryRun(): boolean {
    const v = this.params.getAll('dryRun');
    for (const x of v) if (x !== 'All') throw Status.badRequest(`query parameter dryRun=${JSON.stringify(x)}: the only value is All`);
    return v.length > 0;
  }
}

function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

async function bodyText(req: IncomingMessage): Promise<string> {
  try {
    return (await readBody(req, OBJECT_BODY_BYTES_MAX)).toString('utf8');
  } catch (error) {
    if (error instanceof HttpError && error.status === 413) throw Status.tooLarge(OBJECT_BODY_BYTES_MAX);
    if (error instanceof HttpError) throw Status.badRequest(error.message);
    throw error;
  }
}

function parseJson(text: string): unknown {
  if (text.trim() === '') throw Status.badRequest('the request has no body; send the object as JSON');
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = findJsonSyntaxError(Buffer.from(text));
    throw Status.badRequest(`the request body is not valid JSON${found ? ` (at byte ${found.offset}: ${found.message})` : `: ${(error as Error).message}`}`);
  }
}

function parseYamlDocument(text: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw Status.badRequest(`the request body is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
}

const OBJECT_TYPES = ['application/json', 'application/yaml'];
const PATCH_TYPES = ['application/merge-patch+json', 'application/json-patch+json'];

/** The object sent with POST or PUT. */
export async function readObjectBody(req: IncomingMessage): Promise<unknown> {
  const type = contentTypeOf(req);
  if (type === 'application/json' || type === '*/*' || type === '') return parseJson(await bodyText(req));
  if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') return parseYamlDocument(await bodyText(req));
  throw Status.unsupportedMediaType(type, OBJECT_TYPES);
}

/** The patch sent with PATCH, and its type from the content type. */
export async function readPatchBody(req: IncomingMessage): Promise<{ type: PatchType; patch: unknown }> {
  const type = contentTypeOf(req);
  if (type === 'application/merge-patch+json') return { type: 'merge', patch: parseJson(await bodyText(req)) };
  if (type === 'application/json-patch+json') return { type: 'json', patch: parseJson(await bodyText(req)) };
  if (type === 'application/strategic-merge-patch+json' || type === 'application/apply-patch+yaml') {
    throw Status.unsupportedMediaType(type, PATCH_TYPES);
  }
  throw Status.unsupportedMediaType(type, PATCH_TYPES);
}

/** The optional DeleteOptions body of a DELETE. */
export async function readDeleteBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await bodyText(req);
  if (text.trim() === '') return {};
  const parsed = parseJson(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw Status.badRequest('the body of a DELETE must be a DeleteOptions object');
  return parsed as Record<string, unknown>;
}
