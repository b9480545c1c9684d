/** A one-shot latch: a manual promotion gate the engine waits on until `cutover promote` opens it. */
export class Gate {
  private opened = false;
  private release: (() => void) | undefined;
  private readonly promise: Promise<void>;

  constructor() {
    this.promise = new Promise<void>((resolve) => {
      this.release = resolve;
    });
  }

  open(): void {
    this.opened = true;
    this.release?.();
  }

  get isOpen(): boolean {
    return this.opened;
  }

  wait(signal: AbortSignal): Promise<void> {
    return waitOrAbort(this.promise, signal);
  }
}

/** Resolves with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function waitOrAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Sleeps, waking early (and rejecting) when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return waitOrAbort(new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)).unref()), signal);
}
