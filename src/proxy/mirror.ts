/**
 * Mirroring: a sampled share of live bodyless requests is copied to the idle slot. The copy
 * starts after the live request is dispatched, its response is discarded, and its failures
 * only count in the metrics: it never slows or fails the live path.
 */
import type { Slot } from '../core/slot.js';
import { requestHead } from './forward.js';
import type { ProxyMetrics } from './metrics.js';
import type { Exchange } from './upstream-connection.js';
import type { Upstream } from './upstream-pool.js';

export class Mirror {
  constructor(
    private readonly percent: number,
    private readonly metrics: ProxyMetrics,
  ) {}

  sampled(): boolean {
    return this.percent > 0 && Math.random() * 100 < this.percent;
  }

  send(slot: Slot, upstream: Upstream, method: string, path: string, fields: string): void {
    const metrics = this.metrics;
    const discard: Exchange = {
      onHead: () => undefined,
      onBody: () => undefined,
      onEnd: () => metrics.recordMirror(slot, false),
      onFailure: () => metrics.recordMirror(slot, true),
      onWritable: () => undefined,
    };
    const connection = upstream.acquire();
    connection.send(requestHead(method, path, fields, 'none', undefined), discard, method === 'HEAD', 'none');
  }
}
