// Kubernetes resource quantities ("250m", "128Mi", "1e3", 0.5): parsed to a float in base units
// (cores for cpu, bytes for memory and storage) and formatted back for the CLI. A float is exact
// enough for what bramble does with them (compare requests to limits, sum requests on a node).
import { BrambleError } from '../errors.ts';

/** A quantity that cannot be parsed; the message quotes the input and says what is expected. */
export class QuantityError extends BrambleError {
  constructor(message: string) {
    super('E_QUANTITY', message);
  }
}

const BINARY: Readonly<Record<string, number>> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Readonly<Record<string, number>> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

// Kubernetes' grammar: <sign><digits>[.<digits>] then one of a binary suffix, a decimal exponent
// (e3, E-2) or a decimal suffix. The exponent alternative comes before the suffix so that "1E3"
// is 1000 while "1E" is one exa.
const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?[0-9]+)|(n|u|m|k|M|G|T|P|E)?)$/;

// Suffixes people write by habit, with the one they most likely meant.
const HINTS: Readonly<Record<string, string>> = {
  K: 'k', KB: 'k', kb: 'k', KiB: 'Ki', MB: 'M', MiB: 'Mi', GB: 'G', GiB: 'Gi', TB: 'T', mi: 'Mi', gi: 'Gi', ki: 'Ki', Mb: 'M', Gb: 'G',
};

const EXPECTED = 'expected a number with an optional suffix (m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei) or exponent, e.g. 250m, 0.5, 128Mi, 1e3';

/** The value of a quantity in base units. Negative values parse; whether they are allowed is the caller's rule. */
export function parseQuantity(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityError(`invalid quantity ${String(input)}: ${EXPECTED}`);
    return input;
  }
  if (typeof input !== 'string') throw new QuantityError(`invalid quantity: expected a string or a number, got ${typeof input}`);
  if (input === '') throw new QuantityError(`invalid quantity "": ${EXPECTED}`);
  const m = QUANTITY.exec(input);
  if (m === null) {
    const suffix = /^[+-]?[0-9.]+(.*)$/.exec(input)?.[1];
    const hint = suffix !== undefined ? HINTS[suffix] : undefined;
    const extra = hint !== undefined ? ` (did you mean "${hint}"?)` : '';
    throw new QuantityError(`invalid quantity ${JSON.stringify(input)}: ${EXPECTED}${extra}`);
  }
  const [, sign, digits, binary, exponent, decimal] = m;
  let value = Number(digits);
  if (binary !== undefined) value *= BINARY[binary]!;
  else if (exponent !== undefined) value *= 10 ** Number(exponent);
  else value *= DECIMAL[decimal ?? '']!;
  if (!Number.isFinite(value)) throw new QuantityError(`invalid quantity ${JSON.stringify(input)}: too large`);
  return sign === '-' ? -value : value;
}

/** Like parseQuantity, but answers the error message instead of throwing (for validators). */
export function checkQuantity(input: unknown): string | null {
  if (typeof input !== 'string' && typeof input !== 'number') return 'expected a quantity (a string such as "250m" or a number)';
  try {
    parseQuantity(input);
    return null;
  } catch (err) {
    if (err instanceof QuantityError) return err.message;
    throw err;
  }
}

/** Rounds away float noise (0.3 * 1000 = 300.00000000000006) before deciding a value is whole. */
function nearInteger(value: number): number | undefined {
  const r = Math.round(value);
  return Math.abs(value - r) < 1e-6 ? r : undefined;
}

/** Cores as Kubernetes writes them: whole cores plain ("2"), otherwise millicores rounded up ("250m"). */
export function formatCpu(cores: number): string {
  const whole = nearInteger(cores);
  if (whole !== undefined) return String(whole);
  const milli = nearInteger(cores * 1000) ?? Math.ceil(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/**
 * Bytes with the largest suffix that represents them exactly: binary first ("128Mi", "2Ki"),
 * then decimal ("1G", "100k"), else the plain number. Exact, so parseQuantity reads it back.
 */
export function formatBytes(bytes: number): string {
  const value = nearInteger(bytes) ?? Math.ceil(bytes);
  if (value === 0) return '0';
  for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
    const unit = BINARY[suffix]!;
    if (Math.abs(value) >= unit && value % unit === 0) return `${value / unit}${suffix}`;
  }
  for (const suffix of ['E', 'P', 'T', 'G', 'M', 'k']) {
    const unit = DECIMAL[suffix]!;
    if (Math.abs(value) >= unit && value % unit === 0) return `${value / unit}${suffix}`;
  }
  return String(value);
}
