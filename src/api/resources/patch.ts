// The patch formats the resource API accepts: JSON merge patch (RFC 7386: objects merge, null
// removes, anything else replaces; src/model/merge-patch.ts) and JSON patch (RFC 6902: a list of
// operations on JSON pointers). Both work on a copy and never change their input.
import { applyMergePatch, jsonEqual } from '../../model/index.ts';
import { Status, StatusError } from './status.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is { [key: string]: Json } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A patch of either kind applied to a copy of `target`. */
export function applyPatch(type: 'merge' | 'json', target: unknown, patch: unknown): unknown {
  return type === 'merge' ? applyMergePatch(target, patch) : applyJsonPatch(target, patch);
}

function pointer(path: unknown, where: string): string[] {
  if (typeof path !== 'string' || (path !== '' && !path.startsWith('/'))) {
    throw Status.badRequest(`${where}: "path" must be a JSON pointer like "/spec/replicas", got ${JSON.stringify(path)}`);
  }
  return path === '' ? [] : path.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, tokens: string[], where: string): { parent: unknown; last: string } {
  let node = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(t)];
    else if (isObject(node)) node = node[t];
    else node = undefined;
    if (node === undefined) throw Status.badRequest(`${where}: the path does not exist in the object`);
  }
  return { parent: node, last: tokens[tokens.length - 1]! };
}

function arrayIndex(arr: unknown[], token: string, forAdd: boolean, where: string): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw Status.badRequest(`${where}: ${JSON.stringify(token)} is not an array index`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw Status.badRequest(`${where}: index ${i} is out of range`);
  return i;
}

function getAt(doc: unknown, tokens: string[], where: string): unknown {
  let node = doc;
  for (const t of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(node, t, false, where)];
    else if (isObject(node) && Object.prototype.hasOwnProperty.call(node, t)) node = node[t];
    else throw Status.badRequest(`${where}: the path does not exist in the object`);
  }
  return node;
}

function removeAt(doc: unknown, tokens: string[], where: string): unknown {
  if (tokens.length === 0) throw Status.badRequest(`${where}: cannot remove the whole object`);
  const { parent, last } = parentOf(doc, tokens, where);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false, where), 1)[0];
  if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) {
    const value = parent[last];
    delete parent[last];
    return value;
  }
  throw Status.badRequest(`${where}: the path does not exist in the object`);
}

function addAt(doc: unknown, tokens: string[], value: unknown, where: string): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, where);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true, where), 0, value);
  else if (isObject(parent)) parent[last] = value as Json;
  else throw Status.badRequest(`${where}: the parent of the path is not an object or array`);
  return doc;
}

/** RFC 6902. */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw Status.badRequest('a JSON patch must be an array of operations like [{"op":"replace","path":"/spec/replicas","value":3}]');
  let doc = structuredClone(target);
  patch.forEach((operation, i) => {
    const where = `JSON patch operation ${i}`;
    if (!isObject(operation)) throw Status.badRequest(`${where}: must be an object`);
    const tokens = pointer(operation['path'], where);
    const need = (): unknown => {
      if (!('value' in operation)) throw Status.badRequest(`${where}: "${String(operation['op'])}" needs a "value"`);
      return structuredClone(operation['value']);
    };
    switch (operation['op']) {
      case 'add':
        doc = addAt(doc, tokens, need(), where);
        break;
      case 'remove':
        removeAt(doc, tokens, where);
        break;
      case 'replace':
        getAt(doc, tokens, where);
        if (tokens.length === 0) doc = need();
        else {
          removeAt(doc, tokens, where);
          doc = addAt(doc, tokens, need(), where);
        }
        break;
      case 'move':
      case 'copy': {
        const from = pointer(operation['from'], where);
        const value = operation['op'] === 'move' ? removeAt(doc, from, where) : structuredClone(getAt(doc, from, where));
        doc = addAt(doc, tokens, value, where);
        break;
      }
      case 'test':
        if (!jsonEqual(getAt(doc, tokens, where), operation['value'])) throw new StatusError(422, 'Invalid', `${where}: test failed: the value at ${String(operation['path'])} differs`);
        break;
      default:
        throw Status.badRequest(`${where}: unknown "op" ${JSON.stringify(operation['op'])}; use add, remove, replace, move, copy or test`);
    }
  });
  return doc;
}
