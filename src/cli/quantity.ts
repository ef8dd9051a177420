// Just enough of Kubernetes' resource.Quantity for display (`top nodes`): "250m" → 0.25,
// "512Mi" → 536870912. Kept local to the CLI so it does not wait on the model's full parser.

const SUFFIX: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** The value in base units (cores, bytes), or undefined when it is not a quantity. */
export function quantityValue(text: unknown): number | undefined {
  if (typeof text === 'number') return text;
  if (typeof text !== 'string') return undefined;
  const match = QUANTITY.exec(text.trim());
  if (match === null) return undefined;
  const number = Number(match[1]);
  if (match[2] !== undefined) return Number(`${match[1]}${match[2]}`);
  return number * SUFFIX[match[3] ?? '']!;
}

/** kubectl top's CPU column: millicores, `250m`. */
export function formatMillicores(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

/** kubectl top's memory column: mebibytes, `512Mi`. */
export function formatMebibytes(bytes: number): string {
  return `${Math.floor(bytes / 2 ** 20)}Mi`;
}
