/**
 * Mirroring: a sampled share of live bodyless requests is copied to the idle slot. The copy
 * starts after the live request is dispatched, its response is discarded, and its failures
 * only count in the metrics: it never slows or fails the live path.
 *
 * Only the configured methods are copied, by default the safe ones (GET, HEAD, OPTIONS): the
 * idle slot usually shares the live database, so a copied POST or DELETE would run the write
 * twice. The config refuses unsafe methods unless `mirror.unsafeMethodsDuplicateWrites` is set.
 * Request bodies are never copied.
 */
import type { Slot } from '../shared/slot.js';
import { requestHead } from './forward.js';
import type { ProxyMetrics } from './metrics.js';
import type { Exchange } from './upstream-connection.js';
import type { Upstream } from './upstream-pool.js';

export interface MirrorOptions {
  /** Percent of live bodyless requests copied to the idle slot (0 = off). */
  readonly percent: number;
  /** The methods copied; validated by the config (unsafe ones only with the user's opt-in). */
  readonly methods: readonly string[];
}

export const MIRROR_OFF: MirrorOptions = { percent: 0, methods: [] };

export class Mirror {
  private readonly percent: number;
  private readonly methods: ReadonlySet<string>;

  constructor(
    options: MirrorOptions,
    private readonly metrics: ProxyMetrics,
  ) {
    this.percent = options.percent;
    this.methods = new Set(options.methods);
  }

  /** Whether to copy this request: its method is listed and it falls in the sampled share. */
  sampled(method: string): boolean {
    return this.percent > 0 && this.methods.has(method) && Math.random() * 100 < this.percent;
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
