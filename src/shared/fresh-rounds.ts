/**
 * Shares an async refresh among concurrent callers without handing anyone a stale one: a caller
 * gets a run that started after its call. With none running it starts one; during a run it waits
 * for the next, which every caller that arrived during that run shares. So a reader that asks
 * after an event it must see (a request answered, then counted) never gets a run already under
 * way before it, and a crowd of readers costs at most two runs at a time, not one each.
 */
export class FreshRounds {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  /** A run that rejects rejects for the callers who shared it; the next run starts as usual. */
  constructor(private readonly run: () => Promise<void>) {}

  next(): Promise<void> {
    if (this.running === undefined) return this.start();
    const afterRunning = (): Promise<void> => {
      this.queued = undefined;
      // Someone may have started one since the last ended: it too began after these calls.
      return this.running ?? this.start();
    };
    this.queued ??= this.running.then(afterRunning, afterRunning);
    return this.queued;
  }

  private start(): Promise<void> {
    const round = this.run().finally(() => {
      if (this.running === round) this.running = undefined;
    });
    this.running = round;
    return round;
  }
}
