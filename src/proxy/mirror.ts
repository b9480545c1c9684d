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
import type { ShadowCompareOptions, ShadowPair } from './shadow/shadow-comparer.js';

export interface MirrorOptions {
  /** Percent of live bodyless requests copied to the idle slot (0 = off). */
  readonly percent: number;
  /** The methods copied; validated by the config (unsafe ones only with the user's opt-in). */
  readonly methods: readonly string[];
  /** Compare the copies' answers with the live ones (shadow/shadow-comparer.ts); absent: discarded. */
  readonly compare?: ShadowCompareOptions | undefined;
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

  /** Sends the copy; with a `pair`, its answer goes to the pair to be compared, else it is discarded. */
  send(
    slot: Slot,
    upstream: Upstream,
    method: string,
    path: string,
    fields: string,
    pair?: ShadowPair,
  ): void {
    const metrics = this.metrics;
    const exchange: Exchange =
      pair === undefined
        ? {
            onHead: () => undefined,
            onBody: () => undefined,
            onEnd: () => metrics.recordMirror(slot, false),
            onFailure: () => metrics.recordMirror(slot, true),
            onWritable: () => undefined,
          }
        : {
            onHead: (head) => pair.exchange.onHead(head),
            onBody: (piece) => pair.exchange.onBody(piece),
            onEnd: (reusable, lastBody) => {
              metrics.recordMirror(slot, false);
              pair.exchange.onEnd(reusable, lastBody);
            },
            onFailure: (error, detail) => {
              metrics.recordMirror(slot, true);
              pair.exchange.onFailure(error, detail);
            },
            onWritable: () => undefined,
          };
    const connection = upstream.acquire();
    pair?.sentOn(connection);
    connection.send(
      requestHead(method, path, fields, 'none', undefined),
      exchange,
      method === 'HEAD',
      'none',
    );
  }
}
