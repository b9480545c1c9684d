import { connect } from 'node:net';
import { formatDuration } from '../shared/duration.js';
import type { Target } from '../shared/slot.js';
import { errorDetail, settleOnce, type ProbeOptions, type ProbeResult } from './probe-result.js';

/** Healthy when a TCP connection is accepted within the timeout. */
export function tcpProbe(target: Target, options: ProbeOptions): Promise<ProbeResult> {
  return settleOnce(options, `no connection within ${formatDuration(options.timeoutMs)}`, (finish) => {
    const socket = connect({ host: target.host, port: target.port });
    socket.on('connect', () => finish({ healthy: true, detail: 'connected' }));
    socket.on('error', (error) => finish({ healthy: false, detail: errorDetail(error) }));
    return () => socket.destroy();
  });
}
