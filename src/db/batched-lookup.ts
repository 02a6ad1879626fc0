/**
 * A lookup by key whose calls made in one turn of the event loop go to the
 * database together, as one statement for up to `maxBatch` keys (the
 * DataLoader pattern). Under load, forward-auth's cache misses arrive many at
 * a time, and each statement has a fixed cost on both sides (slonik and the
 * driver here, a socket write and the executor's start-up in PostgreSQL)
 * that a batch pays once. A lone call waits for one setImmediate.
 *
 * `load` answers the keys it was given that exist; a key it leaves out
 * resolves to undefined. A failed `load` rejects every call of its batch.
 */
export function batchedLookup<V>(
  load: (keys: readonly string[]) => Promise<ReadonlyMap<string, V>>,
  { maxBatch = 100 }: { maxBatch?: number } = {},
): (key: string) => Promise<V | undefined> {
  type Waiter = PromiseWithResolvers<V | undefined>;
  let pending: Map<string, Waiter[]> | null = null;

  const run = async (batch: Map<string, Waiter[]>) => {
    try {
      const found = await load([...batch.keys()]);
      for (const [key, waiters] of batch) {
        const value = found.get(key);
        for (const waiter of waiters) waiter.resolve(value);
      }
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  };
  // Sends the batch being gathered. A batch sent early (full) leaves its
  // setImmediate to send the next one a little sooner, which is harmless.
  const send = () => {
    const batch = pending;
    pending = null;
    if (batch) void run(batch);
  };

  return (key) => {
    if (!pending) {
      pending = new Map();
      setImmediate(send);
    }
    const waiter: Waiter = Promise.withResolvers();
    const waiters = pending.get(key);
    if (waiters) waiters.push(waiter);
    else pending.set(key, [waiter]);
    if (pending.size >= maxBatch) send();
    return waiter.promise;
  };
}
