/** Durations in config and on the command line: `250ms`, `5s`, `2m`, `1h`, or a bare number of ms. */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

export type ParsedDuration = { ok: true; ms: number } | { ok: false; message: string };

export function parseDuration(value: unknown): ParsedDuration {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return { ok: true, ms: value };
  if (typeof value !== 'string') {
    return {
      ok: false,
      message: `expected a duration such as "5s" or "250ms", got ${JSON.stringify(value)}`,
    };
  }
  const match = DURATION.exec(value.trim());
  if (!match)
    return {
      ok: false,
      message: `"${value}" is not a duration; use a number with ms, s, m or h, e.g. "30s"`,
    };
  const unit = match[2] as keyof typeof UNIT_MS;
  return { ok: true, ms: Math.round(Number(match[1]) * UNIT_MS[unit]) };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
  return `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;
}
