/**
 * A JSON reader for response comparison. It differs from JSON.parse where comparing needs it:
 * - iterative, so a hostile body nested 30 000 deep cannot exhaust the stack (of the parser or of
 *   the comparison after it);
 * - numbers keep their source text, so two integers past 2^53 that JSON.parse would round to one
 *   double still compare as different (see numbersEqual);
 * - objects are Maps: a key such as `__proto__` is a key like any other; a repeated key keeps
 *   its last value, as JSON.parse does.
 */

/** A JSON number as written; compared by numbersEqual. */
export class JsonNumber {
  constructor(readonly text: string) {}
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonSyntaxError extends Error {}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/** Parses a whole JSON text; throws JsonSyntaxError for anything JSON.parse would refuse. */
export function parseJson(text: string): JsonValue {
  let at = 0;
  const skipSpace = (): void => {
    for (; at < text.length; at += 1) {
      const c = text.charCodeAt(at);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
    }
  };
  const fail = (what: string): never => {
    throw new JsonSyntaxError(`${what} at offset ${at}`);
  };
  const readString = (): string => {
    STRING.lastIndex = at;
    const match = STRING.exec(text);
    if (match === null) return fail('a malformed string');
    at = STRING.lastIndex;
    // A single string literal: JSON.parse unescapes it without recursion.
    return JSON.parse(match[0]) as string;
  };
  const readKey = (): string => {
    skipSpace();
    if (text[at] !== '"') fail('a key expected');
    const key = readString();
    skipSpace();
    if (text[at] !== ':') fail('":" expected');
    at += 1;
    return key;
  };

  /** Open containers, innermost last, each with the key its next value goes under. */
  const open: Array<{ readonly container: JsonValue[] | JsonObject; key: string }> = [];
  let root: JsonValue | undefined;
  const place = (value: JsonValue): void => {
    const parent = open.at(-1);
    if (parent === undefined) root = value;
    else if (Array.isArray(parent.container)) parent.container.push(value);
    else parent.container.set(parent.key, value);
  };

  for (;;) {
    // A value is expected here.
    skipSpace();
    const c = text[at];
    if (c === '{' || c === '[') {
      at += 1;
      const container: JsonValue[] | JsonObject = c === '{' ? new Map() : [];
      place(container);
      open.push({ container, key: '' });
      skipSpace();
      if (text[at] === (c === '{' ? '}' : ']')) {
        at += 1;
        open.pop();
      } else {
        if (c === '{') open.at(-1)!.key = readKey();
        continue;
      }
    } else if (c === '"') {
      place(readString());
    } else if (text.startsWith('true', at)) {
      at += 4;
      place(true);
    } else if (text.startsWith('false', at)) {
      at += 5;
      place(false);
    } else if (text.startsWith('null', at)) {
      at += 4;
      place(null);
    } else {
      NUMBER.lastIndex = at;
      const match = NUMBER.exec(text);
      if (match === null) fail('a value expected');
      at = NUMBER.lastIndex;
      place(new JsonNumber(match![0]));
    }
    // After a value: a separator, or the end of one or more containers.
    for (;;) {
      skipSpace();
      const parent = open.at(-1);
      if (parent === undefined) {
        if (at !== text.length) fail('text after the JSON value');
        return root!;
      }
      const isArray = Array.isArray(parent.container);
      if (text[at] === ',') {
        at += 1;
        if (!isArray) parent.key = readKey();
        break;
      }
      if (text[at] === (isArray ? ']' : '}')) {
        at += 1;
        open.pop();
        continue;
      }
      fail(isArray ? '"," or "]" expected' : '"," or "}" expected');
    }
  }
}

/**
 * Two JSON numbers are equal when they denote the same decimal value: `1.0` equals `1`, `1e2`
 * equals `100`. Compared as decimals, never as doubles, so 12345678901234567890 and
 * 12345678901234567891 (one double for JSON.parse) differ, and 1e400 differs from 2e400.
 */
export function numbersEqual(a: JsonNumber, b: JsonNumber): boolean {
  return a.text === b.text || normalizedDigits(a.text) === normalizedDigits(b.text);
}

/** Sign, significant digits and the place of the first one: `1.5e3` and `1500` give the same. */
function normalizedDigits(text: string): string {
  const negative = text.startsWith('-');
  const unsigned = negative ? text.slice(1) : text;
  const [mantissa = '', exponentText] = unsigned.split(/[eE]/);
  const [whole = '', fraction = ''] = mantissa.split('.');
  const digits = `${whole}${fraction}`;
  const leading = digits.length - digits.replace(/^0+/, '').length;
  const significant = digits.replace(/^0+/, '').replace(/0+$/, '');
  if (significant === '') return '0';
  // BigInt: an exponent of 400 digits is still compared exactly.
  const exponent = BigInt(exponentText ?? 0) + BigInt(whole.length - leading);
  return `${negative ? '-' : ''}${significant}e${exponent}`;
}
