/** Runs the async work it is given one piece at a time, in the order given; resolves as that work does. */
export type Serial = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * A new queue of one: each piece starts once the one before has settled, whether it resolved or
 * rejected. A piece's failure is its caller's to handle; it does not stop the pieces after it.
 */
export function serial(): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn, fn);
    // The tail only orders the next piece; `run` carries the failure to whoever queued it.
    tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };
}
