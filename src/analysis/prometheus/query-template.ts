/**
 * The query's placeholders: `{{slot}}`, `{{oldSlot}}`, `{{release}}`, `{{oldRelease}}` are
 * written inside PromQL string literals by the query's author (`{slot="{{slot}}"}`), so their
 * values are escaped for a PromQL string: a release named `x"} or vector(1) #` stays a string.
 * `{{window}}` is the window's length as a PromQL duration (`95s`), for a range selector.
 */
import type { AnalysisRequest } from '../../shared/analysis.js';

export const PLACEHOLDERS = ['slot', 'oldSlot', 'release', 'oldRelease', 'window'] as const;
const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** Placeholder names a query uses that do not exist (a typo must not reach Prometheus). */
export function unknownPlaceholders(query: string): string[] {
  const known = new Set<string>(PLACEHOLDERS);
  return [...query.matchAll(PLACEHOLDER)].map((match) => match[1]!).filter((name) => !known.has(name));
}

export function fillQuery(query: string, request: AnalysisRequest): string {
  const values: Record<(typeof PLACEHOLDERS)[number], string> = {
    slot: escapePromqlString(request.newSlot),
    oldSlot: escapePromqlString(request.oldSlot ?? ''),
    release: escapePromqlString(request.release),
    oldRelease: escapePromqlString(request.oldRelease ?? ''),
    window: promqlWindow(request.window),
  };
  return query.replace(PLACEHOLDER, (whole, name: string) =>
    name in values ? values[name as keyof typeof values] : whole,
  );
}

/**
 * The window's length in whole seconds, rounded up and at least 1s: PromQL refuses `[0s]`, and a
 * range one second longer than the window only reaches one scrape further back.
 */
export function promqlWindow(window: AnalysisRequest['window']): string {
  const ms = Date.parse(window.end) - Date.parse(window.start);
  const seconds = Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1;
  return `${seconds}s`;
}

/** Inside "…" or '…' alike: backslash, both quotes, and every control character escaped. */
export function escapePromqlString(value: string): string {
  return value.replace(/[\\"'\u0000-\u001f\u007f]/g, (char) => {
    switch (char) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case "'":
        return "\\'";
      case '\n':
        return '\\n';
      default:
        return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}
