// Image references normalised the way Docker (and containerd's CRI) does it, so `busybox`,
// `library/busybox` and `docker.io/library/busybox:latest` are one image on a gateway.
import { RuntimeError } from './errors.ts';

const DEFAULT_DOMAIN = 'docker.io';
const LEGACY_DOMAIN = 'index.docker.io';
const OFFICIAL_PREFIX = 'library/';

// From the distribution/reference grammar: lowercase path components joined by `/`.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

function invalid(ref: string, why: string): RuntimeError {
  return new RuntimeError(`invalid image name ${JSON.stringify(ref)}: ${why}`, { code: 'E_IMAGE_NAME' });
}

/**
 * `busybox` → `docker.io/library/busybox:latest`, `nginx:1.14.2` → `docker.io/library/nginx:1.14.2`,
 * `foo/bar` → `docker.io/foo/bar:latest`, `registry:5000/x@sha256:...` unchanged. A reference
 * with a digest gets no `:latest`. Throws E_IMAGE_NAME for what Docker would refuse too.
 */
export function normalizeImageName(ref: string): string {
  const input = ref.trim();
  if (input.length === 0) throw invalid(ref, 'empty');
  let rest = input;
  let digest = '';
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, `bad digest ${JSON.stringify(digest)} (expected algorithm:hex, e.g. sha256:...)`);
  }
  let tag = '';
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref, `bad tag ${JSON.stringify(tag)}`);
  }
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  const firstSlash = rest.indexOf('/');
  if (firstSlash >= 0) {
    const first = rest.slice(0, firstSlash);
    // Docker's rule: the first component is a registry only if it looks like a host.
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      domain = first === LEGACY_DOMAIN ? DEFAULT_DOMAIN : first;
      path = rest.slice(firstSlash + 1);
    }
  }
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = OFFICIAL_PREFIX + path;
  if (path.length === 0) throw invalid(ref, 'no repository name');
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(ref, `repository component ${JSON.stringify(component)} must be lowercase letters, digits and separators (. _ -)`);
    }
  }
  if (tag === '' && digest === '') tag = 'latest';
  return `${domain}/${path}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
}
