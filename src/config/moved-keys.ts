/**
 * Settings that moved under the plug-in that reads them. A config that still uses the old
 * place loads and behaves the same, with a deprecation that names the file, line, old key and
 * new key; the old and the new place both set is an error naming both, and the old key under
 * a plug-in that never read it is an error too (it would silently do nothing).
 */
import type { ExplainedIssue } from './issue-messages.js';

export interface MovedKey {
  /** Where the key was (top level of the file). */
  readonly from: readonly [string];
  /** Where it lives now, under its plug-in's section. */
  readonly to: readonly [section: 'router' | 'platform', key: string];
  /** The plug-in kind that reads it: the move applies only when the config uses that kind. */
  readonly kind: string;
}

export const MOVED_KEYS = [
  // Only the builtin router binds a listener of its own; external routers listen where their daemon does.
  { from: ['listen'], to: ['router', 'listen'], kind: 'builtin' },
] as const satisfies readonly MovedKey[];

/** The top-level keys that are only read to be moved (absent from a loaded config). */
export type MovedTopLevelKey = (typeof MOVED_KEYS)[number]['from'][0];

/** A section's kind when the file leaves it out (`router:` defaults to the builtin router). */
const DEFAULT_KIND: Readonly<Record<MovedKey['to'][0], string | undefined>> = {
  router: 'builtin',
  platform: undefined,
};

export interface MovedKeysCheck {
  /** The moves that apply to this file: each is a deprecation to report. */
  readonly moves: readonly MovedKey[];
  /** Old and new both set, or the old key where its plug-in is not used. */
  readonly problems: readonly ExplainedIssue[];
}

export const keyName = (path: readonly string[]): string => path.join('.');

/** Reads the file as written (before defaults), so "set" means the user wrote it. */
export function checkMovedKeys(data: unknown): MovedKeysCheck {
  const moves: MovedKey[] = [];
  const problems: ExplainedIssue[] = [];
  if (!isRecord(data)) return { moves, problems };
  for (const moved of MOVED_KEYS as readonly MovedKey[]) {
    if (data[moved.from[0]] === undefined) continue;
    const [sectionName, key] = moved.to;
    const section = data[sectionName];
    const kind = (isRecord(section) ? section.kind : undefined) ?? DEFAULT_KIND[sectionName];
    // A missing or malformed kind is the schema's to report; the move waits for a valid one.
    if (typeof kind !== 'string') continue;
    const oldKey = keyName(moved.from);
    const newKey = keyName(moved.to);
    if (kind !== moved.kind) {
      problems.push({
        path: moved.from,
        pointAt: 'key',
        message:
          `\`${oldKey}\` is deprecated and belongs to ${sectionName} kind ${moved.kind} (now \`${newKey}\`); ` +
          `${sectionName} kind ${kind} does not read it: remove it`,
      });
      continue;
    }
    if (isRecord(section) && section[key] !== undefined) {
      problems.push({
        path: moved.from,
        pointAt: 'key',
        message: `\`${oldKey}\` (deprecated) and \`${newKey}\` are both set; keep only \`${newKey}\``,
      });
      continue;
    }
    moves.push(moved);
  }
  return { moves, problems };
}

/** The parsed config with each moved value in its new place and gone from the old one. */
export function applyMovedKeys<T extends Record<string, unknown>>(
  parsed: T,
  moves: readonly MovedKey[],
): Omit<T, MovedTopLevelKey> {
  const result: Record<string, unknown> = { ...parsed };
  for (const moved of moves) {
    const [sectionName, key] = moved.to;
    const section = result[sectionName];
    result[sectionName] = { ...(isRecord(section) ? section : {}), [key]: result[moved.from[0]] };
  }
  for (const moved of MOVED_KEYS) delete result[moved.from[0]];
  return result as Omit<T, MovedTopLevelKey>;
}

/** "`listen` is deprecated; use `router.listen` (router kind builtin)" */
export function deprecationMessage(moved: MovedKey): string {
  return `\`${keyName(moved.from)}\` is deprecated; use \`${keyName(moved.to)}\` (${moved.to[0]} kind ${moved.kind})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
