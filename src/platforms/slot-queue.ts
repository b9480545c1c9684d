import type { Slot } from '../shared/slot.js';

/**
 * Orders a platform's work per slot: a provision, stop or reconcile of a slot starts once the
 * one before it has settled, whatever its outcome. The queue only orders work; each caller gets
 * its own result or error.
 */
export class SlotQueue {
  private readonly tails = new Map<Slot, Promise<void>>();

  run<T>(slot: Slot, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(slot) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.tails.set(
      slot,
      next.then(
        () => undefined,
        () => undefined,
      ),
    );
    return next;
  }

  /** Resolves once the work queued so far on every slot has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.tails.values());
  }
}
