// Reading `-f FILE|DIR|-` the way kubectl does: YAML streams with several `---` documents, JSON,
// `List` objects (their items), a directory's *.yaml/*.yml/*.json files in name order, and
// standard input. A bad document is reported with its file, document number and line, and the
// others still go through, so one typo does not hide what the rest of a directory would do.

import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parseAllDocuments, type Tags } from 'yaml';
import { BrambleError } from '../errors.ts';
import { groupVersion, RESOURCES, resourceForKind, type KObject, type ResourceInfo } from '../model/index.ts';
import type { CommandIo } from './io.ts';

export class ManifestError extends BrambleError {
  constructor(message: string) {
    super('E_MANIFEST', message);
  }
}

export interface Manifest {
  /** The file as the user named it; `STDIN` for `-`. */
  source: string;
  /** `app.yaml: document 2` or `list.json: document 1, item 3`, for messages. */
  location: string;
  object: KObject;
  info: ResourceInfo;
}

export interface ManifestSet {
  manifests: Manifest[];
  /** One line each, already naming file and document. */
  errors: string[];
}

const EXTENSIONS = ['.yaml', '.yml', '.json'];
// Bound what one invocation reads: a manifest directory on a gateway is small.
const MAX_FILE_BYTES = 16 * 1024 * 1024;

// Kubernetes parses YAML as go-yaml does: YAML 1.1 scalars (`0644` is octal, `yes` is true), but
// dates and `1:20` stay strings, and no exotic !!set/!!omap/!!binary types.
const DROPPED_TAGS = new Set(['tag:yaml.org,2002:timestamp', 'tag:yaml.org,2002:binary', 'tag:yaml.org,2002:omap', 'tag:yaml.org,2002:pairs', 'tag:yaml.org,2002:set']);
// The yaml package's YAML 1.1 floats take a mantissa with no digit (`e1`, `E7`, `.`), which it
// then reads as NaN; go-yaml wants a digit before the exponent, so those stay strings.
const FLOAT_EXP = /^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)[eE][-+]?[0-9]+$/;
const FLOAT_PLAIN = /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/;
const YAML_OPTIONS = {
  version: '1.1' as const,
  customTags: (tags: Tags) =>
    tags
      .filter((tag) => typeof tag === 'string' || !(DROPPED_TAGS.has(tag.tag) || ('format' in tag && tag.format === 'TIME')))
      .map((tag) => {
        if (typeof tag === 'string' || tag.tag !== 'tag:yaml.org,2002:float' || !tag.test) return tag;
        // Picked by what they wrongly accept, so a fixed release of the package changes nothing.
        if (tag.test.test('e1')) return { ...tag, test: FLOAT_EXP };
        if (tag.test.test('.')) return { ...tag, test: FLOAT_PLAIN };
        return tag;
      }),
};

interface Source {
  name: string;
  text: string;
}

/** The files behind `-f` arguments, read in order (a directory's files sorted by name). */
export async function readSources(paths: readonly string[], io: Pick<CommandIo, 'cwd' | 'stdin'>): Promise<Source[]> {
  const sources: Source[] = [];
  let stdinUsed = false;
  for (const path of paths) {
    if (path === '-') {
      if (stdinUsed) throw new ManifestError('-f -: standard input can be read only once');
      if (io.stdin === undefined) throw new ManifestError('-f -: standard input is not available');
      stdinUsed = true;
      sources.push({ name: 'STDIN', text: await io.stdin() });
      continue;
    }
    const full = isAbsolute(path) ? path : join(io.cwd, path);
    let info;
    try {
      info = await stat(full);
    } catch (error) {
      throw new ManifestError(`the path ${JSON.stringify(path)} does not exist (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (info.isDirectory()) {
      const names = (await readdir(full)).filter((name) => EXTENSIONS.some((ext) => name.endsWith(ext))).sort();
      for (const name of names) {
        const file = join(full, name);
        if ((await stat(file)).isFile()) sources.push({ name: join(path, name), text: await readText(file, join(path, name)) });
      }
      continue;
    }
    sources.push({ name: path, text: await readText(full, path) });
  }
  return sources;
}

async function readText(file: string, shown: string): Promise<string> {
  const info = await stat(file);
  if (info.size > MAX_FILE_BYTES) throw new ManifestError(`${shown}: larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB; is this a manifest?`);
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ManifestError(`${shown}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function lineOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The documents of one file or stream: JSON when it looks like JSON, else YAML. */
function documentsOf(source: Source): { values: unknown[]; errors: string[] } {
  const trimmed = source.text.trimStart();
  if (source.name.endsWith('.json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { values: [JSON.parse(source.text)], errors: [] };
    } catch (error) {
      // Not one JSON value: a JSON file is an error here; other text may still be YAML (flow style).
      if (source.name.endsWith('.json')) {
        const message = (error as Error).message;
        const position = /position (\d+)/.exec(message);
        const where = position ? lineOf(source.text, Number(position[1])) : undefined;
        const clean = message.replace(/ in JSON at position \d+.*$/, '');
        return { values: [], errors: [`${source.name}: ${where ? `line ${where.line}, column ${where.column}: ` : ''}invalid JSON: ${clean}`] };
      }
    }
  }
  const values: unknown[] = [];
  const errors: string[] = [];
  const documents = parseAllDocuments(source.text, YAML_OPTIONS);
  for (const [index, document] of [...documents].entries()) {
    const error = document.errors[0];
    if (error !== undefined) {
      const position = error.linePos?.[0];
      const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
      errors.push(`${source.name}: document ${index + 1}: ${position ? `line ${position.line}, column ${position.col}: ` : ''}invalid YAML: ${message}`);
      values.push(undefined);
      continue;
    }
    values.push(document.toJS({ maxAliasCount: 100 }));
  }
  return { values, errors };
}

function servedKinds(): string {
  return RESOURCES.map((r) => `${r.kind} (${groupVersion(r)})`).join(', ');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Checks one object: apiVersion and kind present and served by bramble. */
function checkObject(value: unknown, source: string, location: string): Manifest | string {
  if (!isObject(value)) return `${location}: expected an object with apiVersion, kind and metadata, got ${Array.isArray(value) ? 'a list' : typeof value}`;
  const { apiVersion, kind } = value;
  if (typeof kind !== 'string' || kind === '') return `${location}: "kind" is missing`;
  if (typeof apiVersion !== 'string' || apiVersion === '') return `${location}: "apiVersion" is missing (kind ${kind})`;
  if (value['metadata'] !== undefined && !isObject(value['metadata'])) return `${location}: "metadata" must be an object (kind ${kind})`;
  const info = resourceForKind(apiVersion, kind);
  if (info === undefined) {
    return `${location}: no matches for kind ${JSON.stringify(kind)} in version ${JSON.stringify(apiVersion)}; bramble serves ${servedKinds()}`;
  }
  const object = { ...value, metadata: isObject(value['metadata']) ? value['metadata'] : {} } as KObject;
  return { source, location, object, info };
}

/** Every object in `source`, `List`s unpacked; the documents that cannot be used as errors. */
export function parseManifests(source: Source): ManifestSet {
  const { values, errors } = documentsOf(source);
  const manifests: Manifest[] = [];
  values.forEach((value, index) => {
    // Empty documents (a trailing `---`, a comment-only file) are not mistakes.
    if (value === undefined || value === null) return;
    const location = `${source.name}: document ${index + 1}`;
    if (isObject(value) && typeof value['kind'] === 'string' && value['kind'].endsWith('List') && Array.isArray(value['items'])) {
      (value['items'] as unknown[]).forEach((item, itemIndex) => {
        const checked = checkObject(item, source.name, `${location}, item ${itemIndex + 1}`);
        if (typeof checked === 'string') errors.push(checked);
        else manifests.push(checked);
      });
      return;
    }
    const checked = checkObject(value, source.name, location);
    if (typeof checked === 'string') errors.push(checked);
    else manifests.push(checked);
  });
  return { manifests, errors };
}

/** Reads and parses every `-f` argument. A path that cannot be read at all throws. */
export async function loadManifests(paths: readonly string[], io: Pick<CommandIo, 'cwd' | 'stdin'>, verb = 'apply'): Promise<ManifestSet> {
  if (paths.length === 0) throw new ManifestError('must give -f FILE (a file, a directory or - for standard input)');
  const set: ManifestSet = { manifests: [], errors: [] };
  for (const source of await readSources(paths, io)) {
    const parsed = parseManifests(source);
    set.manifests.push(...parsed.manifests);
    set.errors.push(...parsed.errors);
  }
  if (set.manifests.length === 0 && set.errors.length === 0) set.errors.push(`no objects passed to ${verb} in ${paths.join(', ')}`);
  return set;
}
