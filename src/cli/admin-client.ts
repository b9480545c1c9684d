import { CutoverError, type ErrorCode } from '../shared/errors.js';
import type { DeploymentEvent } from '../shared/events.js';
import type { CutoverConfig } from '../config/schema.js';
import { readAdminToken } from '../server/admin-token.js';
import { readServerInfo } from '../server/server-info.js';

/** Talks to a running `cutover server` over its admin API. */
export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** Finds the server of this config: server.json first (ports may be chosen at run time), then admin.listen. */
  static forConfig(config: CutoverConfig): AdminClient {
    const info = readServerInfo(config.stateDirPath);
    const host = config.admin.listen.host.includes(':')
      ? `[${config.admin.listen.host}]`
      : config.admin.listen.host;
    const baseUrl =
      process.env.CUTOVER_ADMIN_URL ?? info?.adminUrl ?? `http://${host}:${config.admin.listen.port}`;
    const token = process.env.CUTOVER_ADMIN_TOKEN ?? readAdminToken(config.stateDirPath);
    if (!token) {
      throw new CutoverError(
        'CUTOVER_E_SERVER_UNREACHABLE',
        `no admin token in ${config.stateDirPath}: start the server with \`cutover server -c ${config.file}\` (or set CUTOVER_ADMIN_TOKEN)`,
      );
    }
    return new AdminClient(baseUrl, token);
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CutoverError(
        'CUTOVER_E_SERVER_UNREACHABLE',
        `cannot reach the cutover server at ${this.baseUrl}: is \`cutover server\` running? (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message})`,
        { cause: error },
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch (error) {
      throw new CutoverError(
        'CUTOVER_E_INTERNAL',
        `the server answered ${response.status} with a body that is not JSON`,
        { cause: error },
      );
    }
    if (!response.ok) {
      const failure = (
        parsed as { error?: { code?: ErrorCode; message?: string; details?: Record<string, unknown> } }
      ).error;
      throw new CutoverError(
        failure?.code ?? 'CUTOVER_E_INTERNAL',
        failure?.message ?? `HTTP ${response.status}`,
        {
          details: failure?.details ?? {},
        },
      );
    }
    return parsed as T;
  }

  /** Follows the SSE stream, calling `onEvent` until it returns true (done) or the stream ends. */
  async follow(deploymentId: string, onEvent: (event: DeploymentEvent) => boolean): Promise<void> {
    const controller = new AbortController();
    let response: Response;
    try {
      response = await fetch(
        new URL(`/v1/events?deployment=${encodeURIComponent(deploymentId)}`, this.baseUrl),
        {
          headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream' },
          signal: controller.signal,
        },
      );
    } catch (error) {
      throw new CutoverError(
        'CUTOVER_E_SERVER_UNREACHABLE',
        `lost the cutover server at ${this.baseUrl}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (!response.ok || !response.body)
      throw new CutoverError('CUTOVER_E_INTERNAL', `event stream answered HTTP ${response.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const data = frame
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (data && onEvent(JSON.parse(data) as DeploymentEvent)) {
            controller.abort();
            return;
          }
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      throw new CutoverError(
        'CUTOVER_E_SERVER_UNREACHABLE',
        `lost the event stream from ${this.baseUrl}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /**
   * Follows an NDJSON stream (`/v1/logs/follow`), calling `onItem` for each line until the
   * stream ends or `signal` aborts (then it returns quietly). An error answer throws as
   * request() does.
   */
  async followLines(path: string, onItem: (item: unknown) => void, signal: AbortSignal): Promise<void> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.baseUrl), {
        headers: { authorization: `Bearer ${this.token}`, accept: 'application/x-ndjson' },
        signal,
      });
    } catch (error) {
      if (signal.aborted) return;
      throw new CutoverError(
        'CUTOVER_E_SERVER_UNREACHABLE',
        `cannot reach the cutover server at ${this.baseUrl}: is \`cutover server\` running? (${(error as Error).message})`,
        { cause: error },
      );
    }
    if (!response.ok || !response.body) {
      const failure = (
        (await response.json().catch((error: unknown) => ({ parseError: error }))) as {
          error?: { code?: ErrorCode; message?: string };
        }
      ).error;
      throw new CutoverError(
        failure?.code ?? 'CUTOVER_E_INTERNAL',
        failure?.message ?? `HTTP ${response.status}`,
      );
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.trim() !== '') onItem(JSON.parse(line));
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      throw new CutoverError(
        'CUTOVER_E_SERVER_UNREACHABLE',
        `lost the stream from ${this.baseUrl}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}
