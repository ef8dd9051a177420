// Kubernetes' slowStartBatch: do `count` calls in batches of 1, 2, 4, ... and stop after the
// first batch that had a failure, so a quota or validation error costs one call, not hundreds,
// while a healthy burst soon runs wide. Within a batch at most `inFlightMax` calls run at once.

export interface SlowStartResult {
  successes: number;
  /** The failures of the last batch (empty when all calls succeeded). */
  errors: unknown[];
}

export async function slowStartBatch(count: number, inFlightMax: number, call: (index: number) => Promise<void>): Promise<SlowStartResult> {
  let successes = 0;
  let done = 0;
  let batch = Math.min(count, 1);
  while (batch > 0) {
    const errors: unknown[] = [];
    let next = done;
    const end = done + batch;
    const worker = async (): Promise<void> => {
      while (next < end) {
        const index = next++;
        try {
          await call(index);
          successes++;
        } catch (error) {
          errors.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlightMax, batch) }, worker));
    if (errors.length > 0) return { successes, errors };
    done = end;
    batch = Math.min(2 * batch, count - done);
  }
  return { successes, errors: [] };
}

/** Runs `call` for every item, at most `inFlightMax` at once; answers the failures. */
export async function boundedAll<T>(items: readonly T[], inFlightMax: number, call: (item: T) => Promise<void>): Promise<unknown[]> {
  const errors: unknown[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await call(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlightMax, items.length) }, worker));
  return errors;
}
