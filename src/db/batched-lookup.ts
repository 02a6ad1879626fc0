/**
 * A lookup by key whose calls made in one turn of the event loop go to the
 * database together, as one statement for up to `maxBatch` keys (the
 * DataLoader pattern). Under load, forward-auth's cache misses arrive many at
 * a time, and each statement has a fixed cost on both sides (slonik and the
 * driver here, a socket write and the executor's start-up in PostgreSQL)
 * that a batch pays once. A lone call waits for one setImmediate.
 *
 * Calls whose inputs have the same `keyOf` share one answer. `load` is
 * given one input per key and answers, by key, those it found; a key it
 * leaves out resolves to undefined. A failed `load` rejects every call of
 * its batch.
 */
export function batchedLookup<I, V>(
  load: (inputs: readonly I[]) => Promise<ReadonlyMap<string, V>>,
  { keyOf, maxBatch = 100 }: { keyOf: (input: I) => string; maxBatch?: number },
): (input: I) => Promise<V | undefined> {
  type Waiting = { input: I; waiters: PromiseWithResolvers<V | undefined>[] };
  let pending: Map<string, Waiting> | null = null;

  const run = async (batch: Map<string, Waiting>) => {
    try {
      const found = await load([...batch.values()].map((w) => w.input));
      for (const [key, { waiters }] of batch) {
        const value = found.get(key);
        for (const waiter of waiters) waiter.resolve(value);
      }
    } catch (error) {
      for (const { waiters } of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  };
  // Sends the batch being gathered. A batch sent early (full) leaves its
  // setImmediate to send the next one a little sooner, which is harmless.
  const send = () => {
    const batch = pending;
    pending = null;
    if (batch) void run(batch);
  };

  return (input) => {
    if (!pending) {
      pending = new Map();
      setImmediate(send);
    }
    const waiter = Promise.withResolvers<V | undefined>();
    const key = keyOf(input);
    const waiting = pending.get(key);
    if (waiting) waiting.waiters.push(waiter);
    else pending.set(key, { input, waiters: [waiter] });
    if (pending.size >= maxBatch) send();
    return waiter.promise;
  };
}
