/**
 * Header fields kept as text: CRLF-terminated `name: value` lines as they came off the wire.
 * The proxy passes most fields on in this form; these helpers read one value, or split the
 * lines into a [name, value, …] list for the code that needs one.
 */

/** The value between `start` and `end` of `text` without surrounding spaces and tabs. */
export function fieldValue(text: string, start: number, end: number): string {
  let from = start;
  let to = end;
  while (from < to && isWhitespace(text.charCodeAt(from))) from += 1;
  while (to > from && isWhitespace(text.charCodeAt(to - 1))) to -= 1;
  return text.slice(from, to);
}

/** `fields` (already validated lines) as a flat [name, value, …] list, values trimmed. */
export function splitFields(fields: string): string[] {
  const list: string[] = [];
  for (let start = 0; start < fields.length;) {
    const end = fields.indexOf('\r\n', start);
    const colon = fields.indexOf(':', start);
    list.push(fields.slice(start, colon), fieldValue(fields, colon + 1, end));
    start = end + 2;
  }
  return list;
}

/**
 * The shapes (length and first character, either case) of a few field names, to skip every
 * field whose name cannot be one of them before making a lower-cased copy of it: two array
 * reads per test, no string made and no hashing. Most fields that share a length with a
 * watched name (User-Agent with Connection, Accept with Cookie) differ in their first letter.
 */
export class NameShapes {
  /** Per length, one bit per first character: its code with the ASCII case bit set, modulo 32. */
  private readonly masks: Uint32Array;

  constructor(names: Iterable<string>) {
    const list = [...names];
    this.masks = new Uint32Array(Math.max(0, ...list.map((name) => name.length)) + 1);
    for (const name of list) this.masks[name.length]! |= firstCharacterBit(name.charCodeAt(0));
  }

  /** Whether a name of `length` characters starting with `firstCode` may be one of the names. */
  has(length: number, firstCode: number): boolean {
    return length < this.masks.length && (this.masks[length]! & firstCharacterBit(firstCode)) !== 0;
  }
}

/** Letters in either case give the same bit; other characters may share one (a false maybe). */
function firstCharacterBit(code: number): number {
  return 1 << ((code | 0x20) & 31);
}

/** Longest Content-Length read: 15 digits stay exact in a double. */
const MAX_DIGITS = 15;

/**
 * `text` as a Content-Length: 1 to 15 ASCII digits and nothing else, else -1. By character
 * codes: a regex test and Number() per message cost more than the loop.
 */
export function contentLengthValue(text: string): number {
  const length = text.length;
  if (length === 0 || length > MAX_DIGITS) return -1;
  let value = 0;
  for (let i = 0; i < length; i += 1) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9;
}

/** tchar (RFC 9110 §5.6.2) by character code: what a field name may hold. */
const TOKEN = new Uint8Array(128);
for (const character of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
  TOKEN[character.charCodeAt(0)] = 1;

/** What checkFieldLine found wrong with a line (its colon's index when nothing). */
export const FIELD_NAME_INVALID = -1;
export const FIELD_VALUE_CONTROL = -2;
export const FIELD_VALUE_LF = -3;

/**
 * Checks the field line `text[start, end)` (without its line end) by character codes, in the
 * one pass that finds its colon: the name must be a non-empty token, the value may hold no
 * control character but HTAB (a bare CR, NUL, DEL …; FIELD_VALUE_LF for a LF, which a caller
 * tolerant of bare-LF line ends reads as one). Returns the colon's index, or one of the
 * negative codes above.
 */
export function checkFieldLine(text: string, start: number, end: number): number {
  let colon = start;
  for (; colon < end; colon += 1) {
    const code = text.charCodeAt(colon);
    if (code === 58) break;
    if (code >= 128 || TOKEN[code] === 0) return code === 10 ? FIELD_VALUE_LF : FIELD_NAME_INVALID;
  }
  if (colon === start || colon === end) return FIELD_NAME_INVALID;
  for (let i = colon + 1; i < end; i += 1) {
    const code = text.charCodeAt(i);
    if ((code < 32 && code !== 9) || code === 127) return code === 10 ? FIELD_VALUE_LF : FIELD_VALUE_CONTROL;
  }
  return colon;
}

/** Whether `value` holds a control character other than HTAB (a field value no message may carry). */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i += 1) {
    const code = value.charCodeAt(i);
    if ((code < 32 && code !== 9) || code === 127) return true;
  }
  return false;
}
