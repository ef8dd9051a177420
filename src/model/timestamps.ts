// Times in objects: RFC 3339 to the second, in UTC, as Kubernetes writes them
// (`2026-03-01T14:00:00Z`).

/** `at` (milliseconds since the epoch, or a Date) as an object timestamp. */
export function timestamp(at: number | Date): string {
  return `${(typeof at === 'number' ? new Date(at) : at).toISOString().slice(0, 19)}Z`;
}
