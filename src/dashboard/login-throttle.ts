/**
 * Failed logins per client address: past MAX_FAILURES within WINDOW_MS, further attempts are
 * refused until the window passes. Bounded: the table is cleared when it grows past MAX_ADDRESSES.
 */
const MAX_FAILURES = 10;
const WINDOW_MS = 60_000;
const MAX_ADDRESSES = 10_000;

export class LoginThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  allows(address: string): boolean {
    const entry = this.failures.get(address);
    if (!entry) return true;
    if (this.now() - entry.since > WINDOW_MS) {
      this.failures.delete(address);
      return true;
    }
    return entry.count < MAX_FAILURES;
  }

  failed(address: string): void {
    if (this.failures.size >= MAX_ADDRESSES) this.failures.clear();
    const entry = this.failures.get(address);
    if (!entry || this.now() - entry.since > WINDOW_MS)
      this.failures.set(address, { count: 1, since: this.now() });
    else entry.count += 1;
  }
}
