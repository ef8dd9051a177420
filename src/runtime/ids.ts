// Container IDs and labels. IDs are derived, not stored: the agent finds a pod's containers
// after a restart from the pod UID and container name alone, and the labels let it tell
// bramble's containers apart and map each back to its pod.
import { createHash } from 'node:crypto';

export const LABEL_POD_NAMESPACE = 'io.bramble.pod.namespace';
export const LABEL_POD_NAME = 'io.bramble.pod.name';
export const LABEL_POD_UID = 'io.bramble.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.bramble.container.name';
export const LABEL_SANDBOX = 'io.bramble.sandbox';

/** containerd's identifier rule (identifiers.Validate): alphanumerics joined by single . _ -, ≤ 76. */
const ID_PATTERN = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
export const ID_LENGTH_MAX = 76;

export function isValidContainerId(id: string): boolean {
  return id.length <= ID_LENGTH_MAX && ID_PATTERN.test(id);
}

function clean(text: string): string {
  return text.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

// `_` joins UID and name: pod UIDs and container names (DNS labels) never contain one, so
// `<uid>_<name>` is unambiguous, and the sandbox's `<uid>.sandbox` (a `.` no DNS label has)
// can never equal a container's ID. Names that would break the rule or the length get a
// readable prefix plus a hash of the exact input, which keeps them stable and distinct.
function derive(podUid: string, separator: '_' | '.', name: string): string {
  const plain = `${podUid}${separator}${name}`;
  if (isValidContainerId(plain)) return plain;
  const hash = shortHash(`${podUid}\0${separator}\0${name}`);
  const uid = clean(podUid).slice(0, 36) || 'pod';
  const room = ID_LENGTH_MAX - uid.length - 1 - hash.length - 1;
  const readable = clean(name).slice(0, Math.max(0, room)).replace(/-+$/, '');
  return readable ? `${uid}${separator}${readable}-${hash}` : `${uid}${separator}${hash}`;
}

/** `ctr` ID of a pod's container: stable across daemon restarts. */
export function containerId(podUid: string, containerName: string): string {
  return derive(podUid, '_', containerName);
}

/** `ctr` ID of a pod's sandbox (the process that holds its namespaces). */
export function sandboxId(podUid: string): string {
  return derive(podUid, '.', 'sandbox');
}

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

/** The labels every container of the pod carries; for the sandbox, leave out `containerName`. */
export function podLabels(pod: PodRef, containerName?: string): Record<string, string> {
  const labels: Record<string, string> = {
    [LABEL_POD_NAMESPACE]: pod.namespace,
    [LABEL_POD_NAME]: pod.name,
    [LABEL_POD_UID]: pod.uid,
  };
  if (containerName === undefined) labels[LABEL_SANDBOX] = 'true';
  else labels[LABEL_CONTAINER_NAME] = containerName;
  return labels;
}
