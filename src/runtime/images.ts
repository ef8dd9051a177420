// Images without a registry: import archives (OCI or `docker save`), list, remove, and the
// busybox image built from the host so `image: busybox` and every pod sandbox work offline.
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUSYBOX_BINARY, BUSYBOX_IMAGE, buildBusyboxImageArchive, GO_ARCH } from './busybox-image.ts';
import type { Ctr } from './ctr.ts';
import { RuntimeError } from './errors.ts';
import { normalizeImageName } from './image-names.ts';

export interface ImageInfo {
  /** Normalised reference: `docker.io/library/busybox:latest`. */
  name: string;
  /** Manifest (or index) digest. */
  digest: string;
  /** Bytes as ctr reports them (rounded: ctr prints `2.0 MiB`). */
  sizeBytes: number;
  mediaType: string;
  platforms: string[];
}

export interface ImportOptions {
  /** Each line ctr prints while importing (`unpacking docker.io/...`). */
  onProgress?: (line: string) => void;
  /** For OCI archives whose index names only a tag (`latest`): the repository to put before it. */
  baseName?: string;
  signal?: AbortSignal;
  /** Default 10 minutes: a large archive on an SD card is slow. */
  timeoutMs?: number;
}

const UNITS: Readonly<Record<string, number>> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** Parses `ctr images ls` (REF TYPE DIGEST SIZE PLATFORMS LABELS; SIZE is two words). */
export function parseImageList(stdout: string): ImageInfo[] {
  const images: ImageInfo[] = [];
  for (const line of stdout.split('\n').slice(1)) {
    const words = line.trim().split(/\s+/);
    if (words.length < 6) continue;
    const [name, mediaType, digest, amount, unit, platforms] = words as [string, string, string, string, string, string];
    images.push({
      name,
      mediaType,
      digest,
      sizeBytes: Math.round(Number.parseFloat(amount) * (UNITS[unit] ?? 1)),
      platforms: platforms === '-' ? [] : platforms.split(','),
    });
  }
  return images;
}

export async function listImages(ctr: Ctr): Promise<ImageInfo[]> {
  const { stdout } = await ctr.run(['images', 'ls']);
  return parseImageList(stdout);
}

/** True if the image (any spelling: `busybox`, `docker.io/library/busybox:latest`) is present. */
export async function hasImage(ctr: Ctr, ref: string): Promise<boolean> {
  const name = normalizeImageName(ref);
  const { stdout } = await ctr.run(['images', 'ls', '-q', `name==${name}`]);
  return stdout.split('\n').some((line) => line.trim() === name);
}

/** What an image's config says a container runs (OCI image config `config.Entrypoint`, `Cmd`). */
export interface ImageRunConfig {
  /** The image's digest (index or manifest): the config of one digest never changes. */
  digest: string;
  entrypoint: string[];
  cmd: string[];
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);


async function content<T>(ctr: Ctr, digest: string): Promise<T> {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new RuntimeError(`not a content digest: ${JSON.stringify(digest)}`, { code: 'E_IMAGE' });
  const { stdout } = await ctr.run(['content', 'get', digest], { maxOutputBytes: 4 * 1024 * 1024 });
  return JSON.parse(stdout) as T;
}

/**
 * Reads the image's config from containerd's content store (`ctr content get`: the index, this
 * machine's manifest in it, the config). Undefined when the image is not here. `cached` answers
 * for a digest whose config was read before (one `ctr images ls` then).
 */
export async function imageRunConfig(ctr: Ctr, ref: string, cached?: (digest: string) => ImageRunConfig | undefined): Promise<ImageRunConfig | undefined> {
  const name = normalizeImageName(ref);
  const { stdout } = await ctr.run(['images', 'ls', `name==${name}`]);
  const image = parseImageList(stdout).find((entry) => entry.name === name);
  if (image === undefined) return undefined;
  const known = cached?.(image.digest);
  if (known !== undefined) return known;
  let manifestDigest = image.digest;
  if (INDEX_TYPES.has(image.mediaType)) {
    type Index = { manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[] };
    const manifests = (await content<Index>(ctr, image.digest)).manifests ?? [];
    const mine = manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === (GO_ARCH[process.arch] ?? process.arch)) ?? manifests[0];
    if (mine === undefined) throw new RuntimeError(`image ${name}: its index lists no manifest`, { code: 'E_IMAGE' });
    manifestDigest = mine.digest;
  }
  const manifest = await content<{ config?: { digest?: string } }>(ctr, manifestDigest);
  if (manifest.config?.digest === undefined) throw new RuntimeError(`image ${name}: its manifest ${manifestDigest} names no config`, { code: 'E_IMAGE' });
  const config = await content<{ config?: { Entrypoint?: string[] | null; Cmd?: string[] | null } }>(ctr, manifest.config.digest);
  return { digest: image.digest, entrypoint: config.config?.Entrypoint ?? [], cmd: config.config?.Cmd ?? [] };
}

/** Removes the image; false if it was not there (idempotent). */
export async function removeImage(ctr: Ctr, ref: string): Promise<boolean> {
  const name = normalizeImageName(ref);
  if (!(await hasImage(ctr, name))) return false;
  await ctr.run(['images', 'rm', name], { okExitCode: (_code, stderr) => /not found/.test(stderr) });
  return true;
}

/**
 * Imports an OCI or Docker archive (`docker save`, `ctr images export`) and unpacks it for the
 * snapshotter in use. Returns the names ctr reports as imported.
 */
export async function importImage(ctr: Ctr, file: string, options: ImportOptions = {}): Promise<string[]> {
  try {
    if (!statSync(file).isFile()) throw new Error('not a regular file');
  } catch (error) {
    throw new RuntimeError(`image import: ${file}: ${(error as Error).message}; give the path of an image archive (.tar from docker save or an OCI layout)`, {
      cause: error,
      code: 'E_IMAGE_IMPORT',
    });
  }
  const args = ['images', 'import'];
  if (options.baseName !== undefined) {
    // ctr compares the prefix literally, so give it the normalised repository (no tag).
    const base = normalizeImageName(options.baseName).replace(/:[^:/@]+$/, '');
    args.push('--base-name', base);
  }
  args.push(file);
  const names: string[] = [];
  await ctr.run(args, {
    timeoutMs: options.timeoutMs ?? 10 * 60_000,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onLine: (line) => {
      const unpacking = /^unpacking (\S+) \(/.exec(line.trim());
      if (unpacking) names.push(unpacking[1]!);
      options.onProgress?.(line.trim());
    },
  });
  if (names.length === 0) {
    throw new RuntimeError(
      `image import: ${file} held no image ctr could name; for an OCI archive whose index.json names only a tag, pass a base name (e.g. docker.io/library/app)`,
      { code: 'E_IMAGE_IMPORT' },
    );
  }
  return names;
}

export interface EnsureBusyboxOptions {
  binary?: string;
  /** Where the archive is written before import (default: the OS temp directory). */
  workDir?: string;
  onProgress?: (line: string) => void;
}

/**
 * Makes sure `docker.io/library/busybox:latest` exists, building it from the host's
 * busybox-static if not. Returns true if it had to build and import it.
 */
export async function ensureBusyboxImage(ctr: Ctr, options: EnsureBusyboxOptions = {}): Promise<boolean> {
  if (await hasImage(ctr, BUSYBOX_IMAGE)) return false;
  const archive = buildBusyboxImageArchive(options.binary ?? BUSYBOX_BINARY);
  const dir = mkdtempSync(join(options.workDir ?? tmpdir(), 'bramble-busybox-'));
  try {
    const file = join(dir, 'busybox.oci.tar');
    writeFileSync(file, archive);
    await importImage(ctr, file, {
      baseName: 'docker.io/library/busybox',
      ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}
