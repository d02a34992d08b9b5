// "Stop what you are doing" for the requests in flight when a shutdown gives up draining. A set of
// callbacks rather than an AbortSignal: thousands of requests each adding and removing a listener is a
// hash-set operation here, and EventTarget warns past ten listeners.
export class StopSignal {
  private readonly live = new Set<() => void>();
  private fired = false;

  /** Calls `fn` on fire (at once if already fired); returns the function that unregisters it. */
  on(fn: () => void): () => void {
    if (this.fired) {
      fn();
      return () => undefined;
    }
    this.live.add(fn);
    return () => this.live.delete(fn);
  }

  fire(): void {
    this.fired = true;
    for (const fn of [...this.live]) fn();
    this.live.clear();
  }
}
