import { Counter, Histogram, type Registry } from 'prom-client';
import {
  EXCHANGE_CUTS,
  LATENCY_BUCKETS_SECONDS,
  STATUS_CLASSES,
  type ProxyMetrics,
  type SlotCounters,
} from '../proxy/metrics.js';
import { SLOTS } from '../shared/slot.js';

/**
 * The builtin proxy's counters as Prometheus series, per slot, read from the summed counters
 * when scraped: nothing runs per request in the control process (the workers report bucket
 * counts, see src/proxy/counts-delta.ts).
 */
export function exportProxyMetrics(
  metrics: ProxyMetrics,
  registry: Registry,
  /** Brings `metrics` up to date before a scrape reads it (the workers report now). */
  refresh: () => Promise<void> = () => Promise.resolve(),
): void {
  const counter = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (inc: (labels: Record<string, string>, value: number) => void) => void,
    { zeros = false }: { zeros?: boolean } = {},
  ): void => {
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        await refresh();
        this.reset();
        fill((labels, value) => {
          // A series appears with its first count, as when counted one by one (unless `zeros`).
          if (value > 0 || zeros) this.inc(labels, value);
        });
      },
    });
  };
  counter(
    'cutover_proxy_requests_total',
    'Requests answered through the builtin proxy',
    ['slot', 'code_class'],
    (inc) => {
      for (const [slot, counters] of slotsOf(metrics)) {
        counters.statusClasses.forEach((count, index) =>
          inc({ slot, code_class: STATUS_CLASSES[index]! }, count),
        );
      }
    },
  );
  counter(
    'cutover_proxy_errors_total',
    'Requests answered 5xx, or that the proxy could not forward',
    ['slot', 'kind'],
    (inc) => {
      for (const [slot, counters] of slotsOf(metrics)) {
        inc({ slot, kind: 'proxy' }, counters.proxyErrors);
        inc({ slot, kind: 'upstream' }, counters.errors - counters.proxyErrors);
      }
    },
  );
  registry.registerMetric(new ProxyLatencyHistogram(metrics, refresh));
  counter(
    'cutover_proxy_connections_refused_total',
    'Client connections the builtin proxy closed at accept: the listener was at router.maxConnections',
    ['listener'],
    (inc) => {
      const refused = metrics.refusedConnections();
      // Both series always, a zero included: a dashboard needs the series before the first refusal.
      inc({ listener: 'live' }, refused.live);
      inc({ listener: 'preview' }, refused.preview);
    },
    { zeros: true },
  );
  counter(
    'cutover_proxy_worker_requests_total',
    'Requests answered by each builtin proxy worker process (worker: its pid); the other series sum every worker',
    ['worker', 'slot'],
    (inc) => {
      for (const { worker, slot, requests } of metrics.perWorker()) inc({ worker, slot }, requests);
    },
    { zeros: true },
  );
  counter(
    'cutover_proxy_worker_errors_total',
    'Requests answered 5xx by each builtin proxy worker process (worker: its pid)',
    ['worker', 'slot'],
    (inc) => {
      for (const { worker, slot, errors } of metrics.perWorker()) inc({ worker, slot }, errors);
    },
    { zeros: true },
  );
  counter(
    'cutover_proxy_requests_cut_total',
    'Requests the client cut short (client-closed, client-body-incomplete) or the proxy refused while their body arrived (refused)',
    ['slot', 'reason'],
    (inc) => {
      for (const [slot, counters] of slotsOf(metrics)) {
        for (const reason of EXCHANGE_CUTS) inc({ slot, reason }, counters.cuts[reason]);
      }
    },
  );
}

function slotsOf(metrics: ProxyMetrics): [string, SlotCounters][] {
  const snapshot = metrics.snapshot();
  return SLOTS.map((slot) => [slot, snapshot[slot]]);
}

const LATENCY_NAME = 'cutover_proxy_request_duration_seconds';
const LATENCY_HELP = 'Time from request to the end of the response, through the builtin proxy';
type HistogramExport = Awaited<ReturnType<Histogram['get']>>;

/**
 * The latency histogram from the summed bucket counts. prom-client's Histogram only takes one
 * observation at a time; this one answers the values prom-client's own would from its buckets.
 */
class ProxyLatencyHistogram extends Histogram {
  constructor(
    private readonly metrics: ProxyMetrics,
    private readonly refresh: () => Promise<void>,
  ) {
    super({
      name: LATENCY_NAME,
      help: LATENCY_HELP,
      labelNames: ['slot'],
      buckets: [...LATENCY_BUCKETS_SECONDS],
      registers: [],
    });
  }

  override get(): ReturnType<Histogram['get']> {
    return this.getForPromString();
  }

  /** What the registry reads when it writes the text format. */
  async getForPromString(): ReturnType<Histogram['get']> {
    await this.refresh();
    const values: HistogramExport['values'] = [];
    for (const [slot, counters] of slotsOf(this.metrics)) {
      if (counters.requests === 0) continue;
      LATENCY_BUCKETS_SECONDS.forEach((bound, index) => {
        values.push({
          metricName: `${LATENCY_NAME}_bucket`,
          labels: { le: bound, slot },
          value: counters.latencyBuckets[index]!,
        });
      });
      values.push(
        { metricName: `${LATENCY_NAME}_bucket`, labels: { le: '+Inf', slot }, value: counters.requests },
        { metricName: `${LATENCY_NAME}_sum`, labels: { slot }, value: counters.latencySecondsSum },
        { metricName: `${LATENCY_NAME}_count`, labels: { slot }, value: counters.requests },
      );
    }
    // The shape prom-client's Histogram returns (its typings add a `collect` it never sets).
    const exported = { name: LATENCY_NAME, help: LATENCY_HELP, type: 'histogram', values, aggregator: 'sum' };
    return exported as unknown as HistogramExport;
  }
}
