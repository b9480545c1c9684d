/**
 * One SSH connection to one host (through a jump host if configured), checked against
 * known_hosts, that runs commands. Key material stays in this process: it is handed to ssh2
 * only, never to a log, an environment or a URL.
 */
import type { Readable } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';
import { CutoverError, asCutoverError } from '../../shared/errors.js';
import { checkHostKey, hostKeyError, type HostKeyVerdict } from './known-hosts.js';

export interface SshCredentials {
  readonly user: string;
  /** Private key text; absent: the agent. */
  readonly privateKey?: Buffer;
  readonly passphrase?: string;
  readonly agent?: string;
}

export interface HostKeyPolicy {
  /** undefined: checking is off. */
  readonly check?: (host: string, port: number, key: Buffer) => HostKeyVerdict;
  readonly file: string;
}

export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  readonly jump?: { readonly host: string; readonly port: number; readonly user: string };
}

export interface ExecResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  /** Sent to the command's stdin, then closed. */
  readonly stdin?: Readable | string;
  /** Each complete output line, as it comes. */
  readonly onLine?: (line: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * Commands open at once on one connection: below OpenSSH's default `MaxSessions 10`, so a busy
 * host is queued here rather than refused by the server.
 */
const MAX_OPEN_CHANNELS = 8;

/** Output kept per stream of one command (what errors show: the last lines). */
const MAX_OUTPUT_BYTES = 256 * 1024;

export class SshConnection {
  private closed = false;
  private openChannels = 0;
  private readonly waiting: (() => void)[] = [];
  private constructor(
    readonly name: string,
    private readonly client: Client,
    private readonly jumpClient: Client | undefined,
  ) {
    client.on('close', () => (this.closed = true));
    client.on('error', () => (this.closed = true));
  }

  get usable(): boolean {
    return !this.closed;
  }

  static async open(
    target: ConnectTarget,
    credentials: SshCredentials,
    hostKeys: HostKeyPolicy,
    timeoutMs: number,
  ): Promise<SshConnection> {
    const name = `${target.host}:${target.port}`;
    let jumpClient: Client | undefined;
    let sock: NodeJS.ReadableStream | undefined;
    if (target.jump) {
      const jump = target.jump;
      jumpClient = await connectClient(
        jump.host,
        jump.port,
        { ...credentials, user: jump.user },
        hostKeys,
        timeoutMs,
      );
      sock = await new Promise<NodeJS.ReadableStream>((resolve, reject) => {
        jumpClient!.forwardOut('127.0.0.1', 0, target.host, target.port, (error, stream) =>
          error
            ? reject(
                new CutoverError(
                  'CUTOVER_E_SSH_CONNECT',
                  `${name}: the jump host ${jump.host} could not reach it: ${error.message}`,
                  {
                    details: { host: target.host, port: target.port },
                  },
                ),
              )
            : resolve(stream),
        );
      }).catch((error: unknown) => {
        jumpClient!.end();
        throw error;
      });
    }
    try {
      const client = await connectClient(target.host, target.port, credentials, hostKeys, timeoutMs, sock);
      return new SshConnection(name, client, jumpClient);
    } catch (error) {
      jumpClient?.end();
      throw error;
    }
  }

  /** Runs `command` through the login shell; resolves with its exit code and output. */
  async exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    if (this.openChannels >= MAX_OPEN_CHANNELS)
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.openChannels += 1;
    try {
      return await this.execNow(command, options);
    } finally {
      this.openChannels -= 1;
      this.waiting.shift()?.();
    }
  }

  private execNow(command: string, options: ExecOptions): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (options.signal?.aborted) {
        reject(asCutoverError(options.signal.reason, 'CUTOVER_E_ABORTED'));
        return;
      }
      if (this.closed) {
        reject(new CutoverError('CUTOVER_E_SSH_CONNECT', `${this.name}: the connection is closed`));
        return;
      }
      this.client.exec(command, (error, channel) => {
        if (error) {
          reject(
            new CutoverError('CUTOVER_E_SSH_CONNECT', `${this.name}: ${error.message}`, { cause: error }),
          );
          return;
        }
        const stdout = new OutputBuffer(options.onLine);
        const stderr = new OutputBuffer(options.onLine);
        const onAbort = () => channel.close();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        let code = -1;
        channel.on('exit', (exitCode: number | null, signalName?: string) => {
          code = exitCode ?? (signalName ? 128 : -1);
        });
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        channel.on('close', () => {
          options.signal?.removeEventListener('abort', onAbort);
          stdout.flush();
          stderr.flush();
          if (options.signal?.aborted) {
            reject(
              new CutoverError(
                'CUTOVER_E_ABORTED',
                `${this.name}: stopped: ${String(options.signal.reason ?? 'aborted')}`,
              ),
            );
            return;
          }
          if (code === -1 && this.closed) {
            reject(new CutoverError('CUTOVER_E_SSH_CONNECT', `${this.name}: the connection was lost`));
            return;
          }
          resolve({ code, stdout: stdout.text(), stderr: stderr.text() });
        });
        channel.on('error', (channelError: Error) =>
          reject(new CutoverError('CUTOVER_E_SSH_CONNECT', `${this.name}: ${channelError.message}`)),
        );
        if (typeof options.stdin === 'string') channel.end(options.stdin);
        else if (options.stdin) {
          options.stdin.on('error', () => channel.close());
          options.stdin.pipe(channel);
        } else channel.end();
      });
    });
  }

  close(): void {
    this.closed = true;
    this.client.end();
    this.jumpClient?.end();
  }
}

/** Keeps the tail of a command's output and hands complete lines to a listener. */
class OutputBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private partial = '';
  constructor(private readonly onLine?: (line: string) => void) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > MAX_OUTPUT_BYTES && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
    if (!this.onLine) return;
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > 4096) this.partial = this.partial.slice(-4096);
    for (const line of lines) this.onLine(line);
  }

  flush(): void {
    if (this.onLine && this.partial !== '') this.onLine(this.partial);
    this.partial = '';
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

function connectClient(
  host: string,
  port: number,
  credentials: SshCredentials,
  hostKeys: HostKeyPolicy,
  timeoutMs: number,
  sock?: NodeJS.ReadableStream,
): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let refused: CutoverError | undefined;
    let settled = false;
    const fail = (error: CutoverError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      reject(error);
    };
    // ssh2's readyTimeout covers the handshake only; this one covers the TCP connect too.
    const timer = setTimeout(
      () =>
        fail(
          new CutoverError(
            'CUTOVER_E_SSH_CONNECT',
            `${host}:${port}: no SSH session within ${timeoutMs} ms`,
            { details: { host, port } },
          ),
        ),
      timeoutMs,
    );
    const config: ConnectConfig = {
      host,
      port,
      username: credentials.user,
      readyTimeout: timeoutMs,
      // A host that vanished mid-connection is noticed within about 15 s, not at the TCP timeout.
      keepaliveInterval: 5_000,
      keepaliveCountMax: 3,
      ...(sock ? { sock: sock as ConnectConfig['sock'] } : {}),
      ...(credentials.privateKey
        ? { privateKey: credentials.privateKey, passphrase: credentials.passphrase }
        : { agent: credentials.agent }),
      hostVerifier: (key: Buffer) => {
        if (!hostKeys.check) return true;
        const verdict = hostKeys.check(host, port, key);
        if (verdict.ok) return true;
        refused = hostKeyError(host, port, key, verdict.reason, hostKeys.file);
        return false;
      },
    };
    client.once('ready', () => {
      if (settled) {
        client.end();
        return;
      }
      settled = true;
      clearTimeout(timer);
      resolve(client);
    });
    client.once('error', (error: Error & { level?: string }) => {
      const reason =
        error.level === 'client-authentication' ? 'the login was refused (key or user)' : error.message;
      fail(
        refused ??
          new CutoverError('CUTOVER_E_SSH_CONNECT', `${host}:${port}: ${reason}`, {
            details: { host, port },
          }),
      );
    });
    client.once('close', () =>
      fail(
        refused ??
          new CutoverError(
            'CUTOVER_E_SSH_CONNECT',
            `${host}:${port}: the connection closed during the handshake`,
            { details: { host, port } },
          ),
      ),
    );
    try {
      client.connect(config);
    } catch (error) {
      // ssh2 throws here for a key it cannot use (encrypted without a passphrase, unknown format).
      fail(
        new CutoverError(
          'CUTOVER_E_SSH_CONNECT',
          `${host}:${port}: the identity cannot be used: ${(error as Error).message}`,
          {
            details: { host, port },
          },
        ),
      );
    }
  });
}

/** Wraps checkHostKey for a fixed list. */
export function hostKeyChecker(entries: Parameters<typeof checkHostKey>[0]): HostKeyPolicy['check'] {
  return (host, port, key) => checkHostKey(entries, host, port, key);
}
