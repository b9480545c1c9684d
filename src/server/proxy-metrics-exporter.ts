import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS, type ProxyMetrics } from '../proxy/metrics.js';

/** Feeds the builtin proxy's per-request observations into Prometheus series, per slot. */
export function exportProxyMetrics(metrics: ProxyMetrics, registry: Registry): void {
  const requests = new Counter({
    name: 'cutover_proxy_requests_total',
    help: 'Requests answered through the builtin proxy',
    labelNames: ['slot', 'code_class'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'cutover_proxy_errors_total',
    help: 'Requests answered 5xx, or that the proxy could not forward',
    labelNames: ['slot', 'kind'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'cutover_proxy_request_duration_seconds',
    help: 'Time from request to the end of the response, through the builtin proxy',
    labelNames: ['slot'],
    buckets: [...LATENCY_BUCKETS_SECONDS],
    registers: [registry],
  });
  new Counter({
    name: 'cutover_proxy_connections_refused_total',
    help: 'Client connections the builtin proxy closed at accept: the listener was at router.maxConnections',
    labelNames: ['listener'],
    registers: [registry],
    collect() {
      const refused = metrics.refusedConnections();
      this.reset();
      this.inc({ listener: 'live' }, refused.live);
      this.inc({ listener: 'preview' }, refused.preview);
    },
  });
  new Counter({
    name: 'cutover_proxy_worker_requests_total',
    help: 'Requests answered by each builtin proxy worker process (worker: its pid); the other series sum every worker',
    labelNames: ['worker', 'slot'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { worker, slot, requests } of metrics.perWorker()) this.inc({ worker, slot }, requests);
    },
  });
  new Counter({
    name: 'cutover_proxy_worker_errors_total',
    help: 'Requests answered 5xx by each builtin proxy worker process (worker: its pid)',
    labelNames: ['worker', 'slot'],
    registers: [registry],
    collect() {
      this.reset();
      for (const { worker, slot, errors } of metrics.perWorker()) this.inc({ worker, slot }, errors);
    },
  });
  const cut = new Counter({
    name: 'cutover_proxy_requests_cut_total',
    help: 'Requests the client cut short (client-closed, client-body-incomplete) or the proxy refused while their body arrived (refused)',
    labelNames: ['slot', 'reason'],
    registers: [registry],
  });
  metrics.setObserver(({ slot, status, durationSeconds, proxyError, cut: reason }) => {
    requests.inc({ slot, code_class: `${Math.floor(status / 100)}xx` });
    if (reason !== undefined) cut.inc({ slot, reason });
    if (proxyError) errors.inc({ slot, kind: 'proxy' });
    else if (status >= 500) errors.inc({ slot, kind: 'upstream' });
    latency.observe({ slot }, durationSeconds);
  });
}
