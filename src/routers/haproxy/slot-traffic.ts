/**
 * The traffic each slot served, from HAProxy's `show stat` server rows, for the builtin-style
 * analysis (analysis/builtin): requests, 5xx answers and connection failures, summed over the
 * servers of the live backends (the weighted one and each slot's own; the preview backend's
 * test requests are not users' traffic).
 *
 * What HAProxy counts per server, measured on 2.6: `req_tot` counts the requests a server
 * answered (at least the status line), `hrsp_5xx` the server's own 5xx, `econ` the requests
 * whose connection failed (HAProxy answered 503 itself; retries of one request count once) and
 * `eresp` the responses that broke off (reset or closed mid-way: HAProxy answered 502, or the
 * client got a cut body). So a slot's requests are req_tot + econ + eresp and its errors
 * hrsp_5xx + econ + eresp (a body cut after its status line counts twice as a request, once as
 * an error). HAProxy keeps averages of its response times, not a distribution: no p50/p99.
 */
import { SLOTS, type Slot } from '../../shared/slot.js';
import type { SlotTraffic } from '../../shared/slot-traffic.js';
import { slotOfServer } from './haproxy-files.js';
import type { StatRow } from './runtime-api.js';

export function slotTrafficFromStat(
  rows: readonly StatRow[],
  backends: ReadonlySet<string>,
): Record<Slot, SlotTraffic> {
  const totals = Object.fromEntries(
    SLOTS.map((slot) => [slot, { answered: 0, serverErrors: 0, failed: 0 }]),
  ) as Record<Slot, { answered: number; serverErrors: number; failed: number }>;
  for (const row of rows) {
    const slot = slotOfServer(row.svname ?? '');
    if (slot === undefined || !backends.has(row.pxname ?? '')) continue;
    totals[slot].answered += counter(row.req_tot);
    totals[slot].serverErrors += counter(row.hrsp_5xx);
    totals[slot].failed += counter(row.econ) + counter(row.eresp);
  }
  const traffic = (slot: Slot): SlotTraffic => {
    const { answered, serverErrors, failed } = totals[slot];
    return {
      requests: answered + failed,
      errors: serverErrors + failed,
      proxyErrors: failed,
      fineLatency: null,
    };
  };
  return { blue: traffic('blue'), green: traffic('green') };
}

/** A counter cell: empty for rows that do not keep it, never negative or fractional. */
function counter(cell: string | undefined): number {
  const value = Number(cell);
  return Number.isSafeInteger(value) && value > 0 ? value : 0;
}
