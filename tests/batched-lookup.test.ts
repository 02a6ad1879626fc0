import { describe, expect, test } from "bun:test";
import { batchedLookup } from "../src/db/batched-lookup.ts";

/** A lookup over `table` that records the keys of each load it makes. */
function recordingLookup(table: Record<string, number>, options?: { maxBatch?: number }) {
  const loads: string[][] = [];
  const lookup = batchedLookup(
    async (keys: readonly string[]) => {
      loads.push([...keys]);
      return new Map(keys.filter((k) => k in table).map((k) => [k, table[k] as number]));
    },
    { keyOf: (key) => key, ...options },
  );
  return { lookup, loads };
}

describe("batched lookups", () => {
  test("calls made in one turn of the event loop are one load, each answered with its own value", async () => {
    const { lookup, loads } = recordingLookup({ a: 1, b: 2, c: 3 });
    expect(await Promise.all([lookup("a"), lookup("b"), lookup("c")])).toEqual([1, 2, 3]);
    expect(loads).toEqual([["a", "b", "c"]]);
  });

  test("a key asked for twice in one batch is loaded once and answers both", async () => {
    const { lookup, loads } = recordingLookup({ a: 1 });
    expect(await Promise.all([lookup("a"), lookup("a")])).toEqual([1, 1]);
    expect(loads).toEqual([["a"]]);
  });

  test("a key the load does not answer resolves to undefined without touching the others", async () => {
    const { lookup } = recordingLookup({ a: 1 });
    expect(await Promise.all([lookup("missing"), lookup("a")])).toEqual([undefined, 1]);
  });

  test("calls in later turns go in later loads", async () => {
    const { lookup, loads } = recordingLookup({ a: 1, b: 2 });
    expect(await lookup("a")).toBe(1);
    expect(await lookup("b")).toBe(2);
    expect(loads).toEqual([["a"], ["b"]]);
  });

  test("a full batch is sent at once and the rest go in the next", async () => {
    const { lookup, loads } = recordingLookup({ a: 1, b: 2, c: 3 }, { maxBatch: 2 });
    expect(await Promise.all([lookup("a"), lookup("b"), lookup("c")])).toEqual([1, 2, 3]);
    expect(loads).toEqual([["a", "b"], ["c"]]);
  });

  test("a failed load rejects every call of its batch, and the next batch loads afresh", async () => {
    let fail = true;
    const lookup = batchedLookup(
      async (keys: readonly string[]) => {
        if (fail) throw new Error("database unavailable");
        return new Map(keys.map((k) => [k, 1]));
      },
      { keyOf: (key) => key },
    );
    const settled = await Promise.allSettled([lookup("a"), lookup("b")]);
    expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await lookup("a")).toBe(1);
  });
});
