import { el, show } from './dom.js';

const number = (value, digits = 1) => (value === null || value === undefined ? '—' : value.toFixed(digits));
const percent = (value) => (value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)}%`);

// Per-slot request rate, error rate and latency, old and new side by side.
export function renderMetrics(container, sample) {
  if (!sample.available) {
    show(container, el('p', { class: 'muted' }, 'this router exports no request metrics to cutover'));
    return;
  }
  const row = (slot) => {
    const rates = sample.slots[slot];
    const failing = rates.errorRate !== null && rates.errorRate > 0.01;
    return el(
      'tr',
      { class: `slot-${slot}`, id: `metrics-${slot}` },
      el('th', { scope: 'row' }, el('span', { class: 'slot-swatch', 'aria-hidden': 'true' }), slot),
      el('td', {}, number(rates.requestsPerSecond)),
      el(
        'td',
        { class: failing ? 'bad' : '', 'data-error-rate': rates.errorRate ?? '' },
        percent(rates.errorRate),
        failing ? ' ⚠ errors' : '',
      ),
      el('td', {}, number(rates.p50Ms, 2)),
      el('td', {}, number(rates.p99Ms, 2)),
    );
  };
  show(
    container,
    el(
      'table',
      { class: 'metrics' },
      el('caption', {}, `last ${number(sample.windowSeconds, 0)} s, through the proxy`),
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, 'slot'),
          el('th', { scope: 'col' }, 'req/s'),
          el('th', { scope: 'col' }, 'errors'),
          el('th', { scope: 'col' }, 'p50 ms'),
          el('th', { scope: 'col' }, 'p99 ms'),
        ),
      ),
      el('tbody', {}, row('blue'), row('green')),
    ),
  );
}
