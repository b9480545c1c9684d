/**
 * Structured logs: one JSON line per event. The dashboard, the SSE stream and `--json` reuse
 * the same records. Values under secret-looking keys are redacted before they are written.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface LogRecord {
  readonly time: string;
  readonly level: LogLevel;
  readonly event: string;
  readonly [key: string]: unknown;
}

export type LogSink = (record: LogRecord) => void;

const SECRET_KEY = /token|secret|password|passwd|authorization|api[_-]?key|credential|cookie/i;
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? '[redacted]' : redact(inner, depth + 1);
  }
  return out;
}

export class Logger {
  constructor(
    private readonly sink: LogSink,
    private readonly minLevel: LogLevel = 'info',
    private readonly fields: Record<string, unknown> = {},
  ) {}

  child(fields: Record<string, unknown>): Logger {
    return new Logger(this.sink, this.minLevel, { ...this.fields, ...fields });
  }

  debug(event: string, fields: Record<string, unknown> = {}): void {
    this.write('debug', event, fields);
  }
  info(event: string, fields: Record<string, unknown> = {}): void {
    this.write('info', event, fields);
  }
  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.write('warn', event, fields);
  }
  error(event: string, fields: Record<string, unknown> = {}): void {
    this.write('error', event, fields);
  }

  private write(level: LogLevel, event: string, fields: Record<string, unknown>): void {
    if (LEVELS[level] < LEVELS[this.minLevel]) return;
    const record = redact({ ...this.fields, ...fields }) as Record<string, unknown>;
    this.sink({ time: new Date().toISOString(), level, event, ...record });
  }
}

/** Writes JSON lines to a stream (stderr for the server, a file in tests). */
export function jsonLineSink(stream: NodeJS.WritableStream): LogSink {
  return (record) => {
    stream.write(`${JSON.stringify(record)}\n`);
  };
}

export const silentLogger = new Logger(() => undefined);
