/**
 * The control plane's end of one worker's control socket: numbered requests, one answer each,
 * and the worker's unasked metrics events. A request outstanding when the connection ends is
 * rejected with WorkerGoneError, which callers tell apart from a refusal.
 */
import net from 'node:net';
import { CutoverError } from '../../../shared/errors.js';
import { LineReader } from './line-reader.js';
import {
  MAX_LINE_BYTES,
  WORKER_PROTOCOL_VERSION,
  countsEvent,
  metricsEvent,
  shadowEvent,
  type ShadowEvent,
  workerAnswer,
  type HelloAnswer,
  type WorkerCountsReport,
  type WorkerCommand,
} from './protocol.js';

/** The worker's connection ended before it answered (it died, or retired). */
export class WorkerGoneError extends CutoverError {
  constructor(socketPath: string) {
    super('CUTOVER_E_ROUTER', `the proxy worker behind ${socketPath} went away before it answered`);
  }
}

/** A worker that answers nothing within this is treated as hung (its connection is closed). */
const ANSWER_TIMEOUT_MS = 10_000;
/** A fork answers once the sibling process has started and taken its sockets: a slower step. */
const FORK_ANSWER_TIMEOUT_MS = 30_000;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closedError: Error | undefined;
  private readonly closeListeners: Array<() => void> = [];

  private constructor(
    private readonly socket: net.Socket,
    readonly socketPath: string,
    private readonly onMetrics: (event: WorkerCountsReport) => void,
    private readonly onShadow: ((event: ShadowEvent) => void) | undefined,
  ) {
    const reader = new LineReader(
      MAX_LINE_BYTES,
      (line) => this.onLine(line),
      () =>
        this.fail(
          new CutoverError(
            'CUTOVER_E_ROUTER',
            `the proxy worker behind ${socketPath} sent an oversized line`,
          ),
        ),
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new WorkerGoneError(socketPath)));
  }

  /** Connects and says hello; refuses a worker of another protocol version with its message. */
  static async connect(
    socketPath: string,
    onMetrics: (event: WorkerCountsReport) => void,
    onShadow?: (event: ShadowEvent) => void,
  ): Promise<{ client: ControlClient; hello: HelloAnswer }> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const connecting = net.connect(socketPath);
      connecting.once('connect', () => {
        connecting.off('error', reject);
        resolve(connecting);
      });
      connecting.once('error', reject);
    });
    const client = new ControlClient(socket, socketPath, onMetrics, onShadow);
    try {
      const hello = (await client.request({ op: 'hello', version: WORKER_PROTOCOL_VERSION })) as HelloAnswer;
      return { client, hello };
    } catch (error) {
      client.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  onClose(listener: () => void): void {
    if (this.closedError !== undefined) listener();
    else this.closeListeners.push(listener);
  }

  request(command: WorkerCommand): Promise<unknown> {
    if (this.closedError !== undefined) return Promise.reject(this.closedError);
    const id = this.nextId++;
    const timeoutMs = command.op === 'fork' ? FORK_ANSWER_TIMEOUT_MS : ANSWER_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(
          new CutoverError(
            'CUTOVER_E_ROUTER',
            `the proxy worker behind ${this.socketPath} did not answer ${command.op} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ ...command, id })}\n`);
    });
  }

  close(): void {
    this.fail(new WorkerGoneError(this.socketPath));
  }

  private onLine(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.fail(
        new CutoverError(
          'CUTOVER_E_ROUTER',
          `the proxy worker behind ${this.socketPath} sent a line that is not JSON`,
        ),
      );
      return;
    }
    const counts = countsEvent.safeParse(parsed);
    if (counts.success) {
      this.onMetrics(counts.data);
      return;
    }
    const metrics = metricsEvent.safeParse(parsed);
    if (metrics.success) {
      this.onMetrics(metrics.data);
      return;
    }
    const shadow = shadowEvent.safeParse(parsed);
    if (shadow.success) {
      this.onShadow?.(shadow.data);
      return;
    }
    // An event a newer worker pushes (one this control plane does not know) is not an answer.
    if (isUnknownEvent(parsed)) return;
    const answer = workerAnswer.safeParse(parsed);
    if (!answer.success) {
      this.fail(
        new CutoverError(
          'CUTOVER_E_ROUTER',
          `the proxy worker behind ${this.socketPath} sent an unknown message`,
        ),
      );
      return;
    }
    const pending = this.pending.get(answer.data.id);
    if (pending === undefined) return;
    this.pending.delete(answer.data.id);
    clearTimeout(pending.timer);
    if (answer.data.ok) pending.resolve(answer.data.result);
    else
      pending.reject(
        new CutoverError('CUTOVER_E_ROUTER', answer.data.message, {
          details: { workerCode: answer.data.code },
        }),
      );
  }

  private fail(error: Error): void {
    if (this.closedError !== undefined) return;
    this.closedError = error;
    this.socket.destroy();
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
    for (const listener of this.closeListeners.splice(0)) listener();
  }
}

const KNOWN_EVENTS: ReadonlySet<unknown> = new Set(['counts', 'metrics', 'shadow']);

/** A line with an `event` name this control plane does not know (a known one that fails its schema is not). */
function isUnknownEvent(parsed: unknown): boolean {
  if (typeof parsed !== 'object' || parsed === null || !('event' in parsed)) return false;
  return typeof parsed.event === 'string' && !KNOWN_EVENTS.has(parsed.event);
}
