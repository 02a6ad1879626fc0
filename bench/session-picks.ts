// Which filled session a many-users request carries. bench/sql/fill-sessions.sql
// (and fill-peer-sessions.sql) number sessions from 1 and expire every tenth,
// so the i-th live one is computed, never looked up: picking costs the load
// generator, which shares the cores with the server, a few arithmetic steps.

/** Number of the i-th live filled session (i from 0): 1..9, 11..19, ... */
export function liveSessionNumber(i: number): number {
  return Math.floor(i / 9) * 10 + (i % 9) + 1;
}

/** How many sessions to fill for exactly `live` live ones. */
export function filledForLive(live: number): number {
  return liveSessionNumber(live - 1);
}

/** A uniformly random live session among the first `live` ones. */
export function uniformPicker(live: number, random = Math.random): () => number {
  return () => liveSessionNumber(Math.floor(random() * live));
}

/**
 * Zipf-distributed live sessions: the k-th most popular of `live` is picked
 * with probability ∝ 1/k^exponent. Popularity is scattered over the table
 * (rank k is live session k·2654435761 mod `live`, a bijection when `live`
 * shares no factor with that prime), so popular sessions are not the first
 * rows filled, neighbours on the same heap pages. A binary search in the
 * precomputed CDF per pick (8 bytes a session, built once).
 */
export function zipfPicker(live: number, exponent = 1, random = Math.random): () => number {
  const cdf = new Float64Array(live);
  let sum = 0;
  for (let k = 0; k < live; k++) {
    sum += 1 / (k + 1) ** exponent;
    cdf[k] = sum;
  }
  return () => {
    const target = random() * sum;
    let low = 0;
    let high = live - 1;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((cdf[mid] ?? 0) < target) low = mid + 1;
      else high = mid;
    }
    return liveSessionNumber((low * 2654435761) % live);
  };
}
