/**
 * Where two JSON documents differ, ignoring the configured paths: the locations of the first
 * differing nodes (a differing object reports the member that differs, not itself). Iterative,
 * with an explicit stack: the depth of a hostile body cannot exhaust the call stack.
 */
import { formatLocation, segmentMatches, type JsonPath } from './json-path.js';
import { JsonNumber, numbersEqual, type JsonValue } from './json-value.js';

/** Locations reported at most; `more` says some were left out. */
export const MAX_REPORTED_PATHS = 20;
/** A location printed longer than this is cut at its start (a deeply nested node). */
const MAX_LOCATION_CHARS = 200;

export interface JsonDifference {
  readonly paths: readonly string[];
  readonly more: boolean;
}

/** A node's place: its step from its parent, linked, so a deep walk stores one step per node. */
interface Place {
  readonly parent: Place | undefined;
  readonly step: string | number;
}

interface Pending {
  readonly live: JsonValue | undefined;
  readonly shadow: JsonValue | undefined;
  readonly place: Place | undefined;
  readonly depth: number;
  /** The ignored paths whose steps so far all match this node's place. */
  readonly alive: readonly number[];
}

/** undefined when the documents are equal outside the ignored paths. */
export function diffJson(
  live: JsonValue,
  shadow: JsonValue,
  ignored: readonly JsonPath[],
): JsonDifference | undefined {
  const paths: string[] = [];
  let more = false;
  const stack: Pending[] = [
    { live, shadow, place: undefined, depth: 0, alive: ignored.map((_path, index) => index) },
  ];
  const report = (place: Place | undefined): void => {
    if (paths.length >= MAX_REPORTED_PATHS) more = true;
    else paths.push(describePlace(place));
  };
  while (stack.length > 0 && !more) {
    const node = stack.pop()!;
    if (node.alive.some((index) => ignored[index]!.length === node.depth)) continue;
    const { live: a, shadow: b } = node;
    const child = (step: string | number, x: JsonValue | undefined, y: JsonValue | undefined): Pending => ({
      live: x,
      shadow: y,
      place: { parent: node.place, step },
      depth: node.depth + 1,
      alive: node.alive.filter((index) => {
        const segment = ignored[index]![node.depth];
        return segment !== undefined && segmentMatches(segment, step);
      }),
    });
    if (a === undefined || b === undefined) {
      report(node.place);
    } else if (a instanceof Map && b instanceof Map) {
      const children: Pending[] = [];
      for (const [key, value] of a) children.push(child(key, value, b.get(key)));
      for (const [key, value] of b) if (!a.has(key)) children.push(child(key, undefined, value));
      // Reversed onto the stack: reported in document order.
      for (let i = children.length - 1; i >= 0; i -= 1) stack.push(children[i]!);
    } else if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = Math.max(a.length, b.length) - 1; i >= 0; i -= 1) stack.push(child(i, a[i], b[i]));
    } else if (!sameLeaf(a, b)) {
      report(node.place);
    }
  }
  return paths.length === 0 ? undefined : { paths, more };
}

function sameLeaf(a: JsonValue, b: JsonValue): boolean {
  if (a instanceof JsonNumber && b instanceof JsonNumber) return numbersEqual(a, b);
  // Strings, booleans and null compare by value; a leaf against a container differs.
  return (typeof a !== 'object' || a === null) && a === b;
}

function describePlace(place: Place | undefined): string {
  const steps: Array<string | number> = [];
  for (let at = place; at !== undefined; at = at.parent) steps.push(at.step);
  steps.reverse();
  const text = formatLocation(steps);
  return text.length <= MAX_LOCATION_CHARS ? text : `$…${text.slice(-MAX_LOCATION_CHARS)}`;
}
