/**
 * WebSocket load for tests and benches: N clients, each holding one WebSocket and pinging
 * through it continuously (a message, its echo, the next message `intervalMs` later), against an app that greets
 * with its version and echoes "<version>:<message>" (test/e2e/apps/e2e-app.js). Every socket's
 * life is recorded — when it opened, on which version, when and how it closed — so a test can
 * hold each close against the deadline that allows it (see closedBeforeDeadline). A client whose
 * socket closed opens a new one, so N stay open through the whole run.
 */
import { WebSocket } from 'ws';

export interface WebSocketRecord {
  /** Date.now() when the greeting arrived. */
  readonly openedAt: number;
  /** The version that greeted it: the slot it is tunnelled to. */
  readonly version: string;
  /** Echoes received on it. */
  echoes: number;
  closedAt?: number;
  code?: number;
  /** Closed by stop(), not by the other side. */
  closedByClient?: boolean;
  /** A ping was sent and not yet echoed when it closed. */
  echoLost?: boolean;
}

export interface WebSocketStats {
  readonly open: number;
  readonly opened: number;
  readonly echoes: number;
  /** Opening handshakes that failed (refused, reset, an answer other than 101). */
  readonly openErrors: number;
  /** Echoes that did not answer the ping sent (wrong text, out of order). */
  readonly badEchoes: number;
  readonly firstErrors: readonly string[];
}

export interface WebSocketPingers {
  readonly records: readonly WebSocketRecord[];
  stats(): WebSocketStats;
  /** Stops reopening and closes every socket (those closes are marked closedByClient). */
  stop(): Promise<WebSocketStats>;
}

export interface WebSocketPingersOptions {
  readonly url: string;
  readonly sockets: number;
  /** Safety stop so a forgotten load never runs forever. */
  readonly maxDurationMs?: number;
  /** Pause between an echo and the next ping (default 100 ms: 200 sockets send 2,000 a second). */
  readonly intervalMs?: number;
  /** Pause after a failed opening before the next try. */
  readonly retryMs?: number;
}

const MAX_ERRORS_KEPT = 20;

export function startWebSocketPingers(options: WebSocketPingersOptions): WebSocketPingers {
  const records: WebSocketRecord[] = [];
  const live = new Set<WebSocket>();
  const firstErrors: string[] = [];
  let opened = 0;
  let echoes = 0;
  let openErrors = 0;
  let badEchoes = 0;
  let running = true;
  const safety = setTimeout(() => {
    running = false;
  }, options.maxDurationMs ?? 120_000);
  const noteError = (message: string): void => {
    if (firstErrors.length < MAX_ERRORS_KEPT) firstErrors.push(message);
  };

  /** One socket's life; resolves when it has closed. */
  const hold = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = new WebSocket(options.url);
      live.add(socket);
      let record: WebSocketRecord | undefined;
      let sequence = 0;
      let awaiting: string | undefined;
      const ping = (): void => {
        if (record === undefined || socket.readyState !== WebSocket.OPEN) return;
        sequence += 1;
        awaiting = `${record.version}:${sequence}`;
        socket.send(String(sequence));
      };
      socket.on('message', (data: Buffer) => {
        const text = data.toString();
        if (record === undefined) {
          record = { openedAt: Date.now(), version: text, echoes: 0 };
          records.push(record);
          opened += 1;
          ping();
          return;
        }
        if (text !== awaiting) {
          badEchoes += 1;
          noteError(`echo "${text.slice(0, 64)}" for "${awaiting ?? 'nothing'}"`);
        }
        awaiting = undefined;
        record.echoes += 1;
        echoes += 1;
        setTimeout(ping, options.intervalMs ?? 100);
      });
      socket.on('unexpected-response', (_request, response) => {
        openErrors += 1;
        noteError(`WebSocket handshake answered ${response.statusCode ?? 0}`);
        socket.terminate();
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (record === undefined) {
          openErrors += 1;
          noteError(`WebSocket open: ${error.code ?? error.message}`);
        } else noteError(`WebSocket ${record.version}: ${error.code ?? error.message}`);
      });
      socket.on('close', (code: number) => {
        live.delete(socket);
        if (record !== undefined) {
          record.closedAt = Date.now();
          record.code = code;
          record.closedByClient = !running;
          record.echoLost = awaiting !== undefined;
        }
        resolve();
      });
    });

  const clients = Array.from({ length: options.sockets }, async () => {
    while (running) {
      const before = opened;
      await hold();
      if (opened === before && running)
        await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 100));
    }
  });
  const done = Promise.all(clients);
  const stats = (): WebSocketStats => ({
    open: live.size,
    opened,
    echoes,
    openErrors,
    badEchoes,
    firstErrors: [...firstErrors],
  });
  return {
    records,
    stats,
    stop: async () => {
      running = false;
      clearTimeout(safety);
      for (const socket of live) socket.terminate();
      await done;
      return stats();
    },
  };
}

/** A moment at which some WebSockets may be closed with 1001 (a drain or a retirement deadline). */
export interface CloseDeadline {
  /** Date.now() of the deadline. */
  readonly at: number;
  /** Which sockets it closes (those tunnelled to the drained slot, those held by old workers …). */
  readonly covers: (record: WebSocketRecord) => boolean;
  readonly what: string;
}

/**
 * Timer and clock rounding: the proxy arms its deadline timer from Date.now() in whole
 * milliseconds and libuv fires timers on its own millisecond clock, so a close at the deadline
 * can read up to a millisecond or two before it here.
 */
const DEADLINE_ROUNDING_MS = 2;

/**
 * The closes the other side made before their deadline. A close is on time only when it is a
 * 1001 (Going Away) at or after a deadline that covers the socket and fell while it was open;
 * any other close — another code, no deadline, a deadline still ahead — is early.
 */
export function closedBeforeDeadline(
  records: readonly WebSocketRecord[],
  deadlines: readonly CloseDeadline[],
): WebSocketRecord[] {
  return records.filter((record) => {
    if (record.closedAt === undefined || record.closedByClient === true) return false;
    const closedAt = record.closedAt;
    const allowed = deadlines.some(
      (deadline) =>
        record.code === 1001 &&
        deadline.covers(record) &&
        record.openedAt < deadline.at &&
        closedAt >= deadline.at - DEADLINE_ROUNDING_MS,
    );
    return !allowed;
  });
}

/** One line per early close, for an assertion message. */
export function describeCloses(records: readonly WebSocketRecord[]): string {
  return records
    .slice(0, 10)
    .map(
      (record) =>
        `${record.version} socket opened ${new Date(record.openedAt).toISOString()} closed ` +
        `${new Date(record.closedAt ?? 0).toISOString()} with ${record.code ?? '?'} after ${record.echoes} echoes`,
    )
    .join('; ');
}
