import { Registry, collectDefaultMetrics, Gauge } from 'prom-client';
import type { DeploymentEngine } from '../engine/deployment-engine.js';
import { PHASES } from '../shared/phase.js';

/**
 * Prometheus metrics of the control process: deployment phase, traffic weights, and (when the
 * builtin proxy runs) per-slot requests, errors and latency from the data plane.
 */
export function createMetricsRegistry(engine: DeploymentEngine, app: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry, prefix: 'cutover_' });

  new Gauge({
    name: 'cutover_traffic_weight_percent',
    help: 'Share of new requests routed to each slot',
    labelNames: ['slot'],
    registers: [registry],
    async collect() {
      const { weights } = await engine.traffic.current();
      this.set({ slot: 'blue' }, weights.blue);
      this.set({ slot: 'green' }, weights.green);
    },
  });
  new Gauge({
    name: 'cutover_deployment_phase',
    help: '1 for the phase the newest unfinished deployment is in',
    labelNames: ['phase'],
    registers: [registry],
    // From the store only: a scrape during a deploy must not wait for the platform.
    async collect() {
      const active = await engine.activeDeployments();
      const phase = active[active.length - 1]?.phase;
      for (const name of PHASES) this.set({ phase: name }, name === phase ? 1 : 0);
    },
  });
  return registry;
}
