/**
 * A fixed-rate, open-loop load generator (what wrk2 does; wrk2 is not packaged here):
 * requests are started on a schedule whatever the answers do, and each latency is measured
 * from the instant the request was *due*, so a stall is not hidden (no coordinated omission).
 *
 * It speaks just enough HTTP/1.1 over raw keep-alive sockets (GET, Content-Length answers):
 * node's http client costs so much CPU per request that at these rates the generator, not the
 * path under test, would set the latency.
 *
 * The first `settleSeconds` run at the same rate but are not counted (like wrk2's calibration
 * period): connections open on demand, so the first few hundred milliseconds measure TCP
 * handshakes and a cold generator, not the path (seen: 3 % of a run's requests, up to 96 ms,
 * all in its first 300 ms).
 */
import net from 'node:net';

export interface OpenLoopResult {
  readonly rate: number;
  /** Requests sent in the counted period (after the settle period). */
  readonly sent: number;
  /** Requests sent in the settle period before it (not in the latencies). */
  readonly settled: number;
  /** Failed requests, those of the settle period included. */
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

const MAX_CONNECTIONS = 256;
const HEAD_END = '\r\n\r\n';
const CONTENT_LENGTH = /content-length:\s*(\d+)/i;

class Connection {
  readonly socket: net.Socket;
  private buffered = '';
  dueAt = 0;
  busy = false;

  constructor(
    port: number,
    private readonly request: string,
    private readonly done: (connection: Connection, latencyMs: number | undefined) => void,
  ) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => this.onData(chunk));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      if (this.busy) this.finish(undefined);
    });
  }

  send(dueAt: number): void {
    this.busy = true;
    this.dueAt = dueAt;
    this.socket.write(this.request, 'latin1');
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    const headEnd = this.buffered.indexOf(HEAD_END);
    if (headEnd === -1) return;
    const head = this.buffered.slice(0, headEnd);
    const length = Number(CONTENT_LENGTH.exec(head)?.[1] ?? 0);
    const total = headEnd + HEAD_END.length + length;
    if (this.buffered.length < total) return;
    this.buffered = this.buffered.slice(total);
    this.finish(head.startsWith('HTTP/1.1 200') ? performance.now() - this.dueAt : undefined);
  }

  private finish(latencyMs: number | undefined): void {
    this.busy = false;
    this.done(this, latencyMs);
  }
}

/**
 * `connections`: open exactly that many keep-alive connections first and send over them in
 * turn (a request due while all are busy waits for one, its latency counting from its due
 * time); without it, connections open on demand, up to MAX_CONNECTIONS.
 */
export async function runOpenLoop(
  url: string,
  rate: number,
  seconds: number,
  settleSeconds = 1,
  connections?: number,
): Promise<OpenLoopResult> {
  const target = new URL(url);
  const port = Number(target.port);
  const request = `GET ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\n\r\n`;
  const latencies: number[] = [];
  const idle: Connection[] = [];
  const all: Connection[] = [];
  const waiting: number[] = [];
  let failed = 0;
  let completed = 0;
  const settled = Math.round(rate * settleSeconds);
  const total = settled + Math.round(rate * seconds);
  let countFrom = Infinity; // the due time of the first counted request, once the clock starts

  const onDone = (connection: Connection, latencyMs: number | undefined): void => {
    completed += 1;
    if (latencyMs === undefined) failed += 1;
    else if (connection.dueAt >= countFrom) latencies.push(latencyMs);
    if (connection.socket.destroyed) return;
    const next = waiting.shift();
    if (next !== undefined) connection.send(next);
    else idle.push(connection);
  };
  if (connections !== undefined) {
    for (let i = 0; i < connections; i += 1) {
      const opened = new Connection(port, request, onDone);
      all.push(opened);
      idle.push(opened);
    }
  }
  const dispatch = (dueAt: number): void => {
    // A fixed pool is used in turn, so every connection carries its share.
    const connection = connections === undefined ? idle.pop() : idle.shift();
    if (connection !== undefined) connection.send(dueAt);
    else if (connections === undefined && all.length < MAX_CONNECTIONS) {
      const fresh = new Connection(port, request, onDone);
      all.push(fresh);
      fresh.send(dueAt);
    } else waiting.push(dueAt);
  };

  // Each request leaves at its own due time, not in a batch per timer tick: Node's timers
  // have 1 ms granularity, and a batch of rate/1000 requests sent together makes the path
  // under test queue them (at 14k req/s, 14 at once), which is the generator's artifact, not
  // the path's latency. Between due times the loop sleeps in Atomics.wait (µs resolution, no
  // busy loop) and lets the event loop read answers with setImmediate, like wrk2.
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const start = performance.now();
  countFrom = start + (settled / rate) * 1000;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
      while (sent < due) {
        const dueAt = start + (sent / rate) * 1000;
        if (dueAt > now) break;
        dispatch(dueAt);
        sent += 1;
      }
      if (sent >= total) {
        resolve();
        return;
      }
      const wait = start + (sent / rate) * 1000 - performance.now();
      if (wait > 0.02) Atomics.wait(sleeper, 0, 0, Math.min(wait, 1));
      setImmediate(tick);
    };
    tick();
  });
  const deadline = performance.now() + 10_000;
  while (completed < sent && performance.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  failed += sent - completed;
  for (const connection of all) connection.socket.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number): number =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    rate,
    sent: sent - settled,
    settled,
    failed,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    maxMs: latencies.at(-1) ?? NaN,
  };
}
