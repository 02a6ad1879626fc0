/**
 * A progress line on stderr, redrawn in place, only when stderr is a
 * terminal: pipes and logs get the result and nothing else.
 */
export function progressLine(): { update: (message: string) => void; done: () => void } {
  if (!process.stderr.isTTY) return { update: () => {}, done: () => {} };
  let shown = false;
  return {
    update: (message) => {
      process.stderr.write(`\r\x1b[2K${message}`);
      shown = true;
    },
    done: () => {
      if (shown) process.stderr.write("\r\x1b[2K");
    },
  };
}
