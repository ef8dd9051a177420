// Quantities as `bramble top` shows them, like kubectl top: CPU in millicores, memory in Mi.
import { parseQuantity } from '../model/index.ts';

/** The value in base units (cores, bytes), or undefined when it is not a quantity. */
export function quantityValue(text: unknown): number | undefined {
  if (typeof text !== 'string' && typeof text !== 'number') return undefined;
  try {
    return parseQuantity(text);
  } catch {
    return undefined;
  }
}

/** kubectl top's CPU column: millicores, `250m`. */
export function formatMillicores(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

/** kubectl top's memory column: mebibytes, `512Mi`. */
export function formatMebibytes(bytes: number): string {
  return `${Math.floor(bytes / 2 ** 20)}Mi`;
}
