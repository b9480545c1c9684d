/**
 * The paths a JSON comparison ignores (`mirror.compare.ignore`), in a small syntax:
 *
 *   $                  the whole body
 *   .name  ["name"]    a member (`.name` for names of letters, digits, `_`, `-`, `$`; the
 *                      bracket form for any other, in double or single quotes, no escapes)
 *   [3]                an array element, 0-based
 *   [*]  .*            every element or member
 *
 * e.g. `$.timestamp`, `$.items[*].id`, `$["x-trace"]`. A path names nodes at one depth: there
 * is no recursive descent (`..`), so an ignored path cannot hide more than it says.
 */

export type PathSegment =
  | { readonly kind: 'member'; readonly name: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'any' };

export type JsonPath = readonly PathSegment[];

export class JsonPathError extends Error {}

const NAME = /[A-Za-z0-9_$-]+/y;
const INDEX = /\[(0|[1-9][0-9]{0,8})\]/y;
const QUOTED = /\[(?:"([^"]*)"|'([^']*)')\]/y;
/** A path longer than this is refused: no real body is compared that deep by a person's config. */
const MAX_SEGMENTS = 64;

/** Parses one path; throws JsonPathError naming what is wrong and where. */
export function parseJsonPath(text: string): JsonPath {
  if (!text.startsWith('$')) throw new JsonPathError('a path starts with "$", e.g. $.items[*].id');
  const segments: PathSegment[] = [];
  let at = 1;
  while (at < text.length) {
    if (segments.length >= MAX_SEGMENTS) throw new JsonPathError(`more than ${MAX_SEGMENTS} steps`);
    if (text.startsWith('.*', at)) {
      segments.push({ kind: 'any' });
      at += 2;
      continue;
    }
    if (text.startsWith('[*]', at)) {
      segments.push({ kind: 'any' });
      at += 3;
      continue;
    }
    if (text[at] === '.') {
      NAME.lastIndex = at + 1;
      const match = NAME.exec(text);
      if (match === null)
        throw new JsonPathError(
          `a member name expected after "." at offset ${at} (use ["…"] for other names)`,
        );
      segments.push({ kind: 'member', name: match[0] });
      at = NAME.lastIndex;
      continue;
    }
    INDEX.lastIndex = at;
    const index = INDEX.exec(text);
    if (index !== null) {
      segments.push({ kind: 'index', index: Number(index[1]) });
      at = INDEX.lastIndex;
      continue;
    }
    QUOTED.lastIndex = at;
    const quoted = QUOTED.exec(text);
    if (quoted !== null) {
      segments.push({ kind: 'member', name: quoted[1] ?? quoted[2] ?? '' });
      at = QUOTED.lastIndex;
      continue;
    }
    throw new JsonPathError(
      `unexpected "${text.slice(at, at + 10)}" at offset ${at}: use .name, ["name"], [N] or [*]`,
    );
  }
  return segments;
}

/** Whether a path step matches one step of a node's location (a member name or an index). */
export function segmentMatches(segment: PathSegment, step: string | number): boolean {
  switch (segment.kind) {
    case 'any':
      return true;
    case 'member':
      return typeof step === 'string' && step === segment.name;
    case 'index':
      return typeof step === 'number' && step === segment.index;
  }
}

/** A node's location as people read it: `$.items[2].id`, `$["odd key"]`. */
export function formatLocation(steps: readonly (string | number)[]): string {
  let text = '$';
  for (const step of steps) {
    if (typeof step === 'number') text += `[${step}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(step)) text += `.${step}`;
    else text += `[${JSON.stringify(step)}]`;
  }
  return text;
}
