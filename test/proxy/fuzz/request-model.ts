/**
 * Generates the fuzz test's HTTP/1.1 request streams with fast-check: requests built from the
 * grammar, then mutated where smuggling attacks live (duplicated and conflicting framing
 * fields, Connection naming fields, odd whitespace, chunk-size forms, obs-fold, bare CR/LF,
 * absolute-form targets, bodies that hold a request of their own), several pipelined on one
 * connection, sometimes cut by a reset at any byte.
 */
import fc from 'fast-check';

/** Written in place of a case's number when it is serialized: every request target names its case. */
export const CASE = '{case}';
const SMUGGLED = [
  `GET /c${CASE}-s HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n`,
  `POST /c${CASE}-s HTTP/1.1\r\nHost: a\r\nContent-Length: 150\r\n\r\n`,
  `0\r\n\r\nGET /c${CASE}-s HTTP/1.1\r\nHost: a\r\n\r\n`,
];

export interface Chunk {
  readonly data: string;
  /** How the size is written (hex case, leading zeros) and any extension. */
  readonly sizeForm: 'lower' | 'upper' | 'zeros' | 'overlong' | 'wrong';
  readonly extension: string;
}

export interface RequestSpec {
  readonly method: string;
  readonly version: '1.0' | '1.1' | '1.2' | '2.0';
  /** (No asterisk-form: every target carries its case's number, for the upstream to file it under.) */
  readonly targetForm: 'origin' | 'query' | 'absolute';
  readonly hosts: readonly string[];
  readonly body:
    | { readonly kind: 'none' }
    | { readonly kind: 'length'; readonly data: string; readonly lengthForms: readonly string[] }
    | {
        readonly kind: 'chunked';
        readonly chunks: readonly Chunk[];
        readonly trailers: readonly string[];
        readonly codings: readonly string[];
        /** A Content-Length beside Transfer-Encoding. */
        readonly alsoLength: boolean;
      };
  readonly fields: ReadonlyArray<readonly [string, string]>;
  readonly connection: string | undefined;
  /** How each field line separates name and value: `:` with spaces or tabs, or a space before the colon. */
  readonly separator: string;
  /** A line to fold (obs-fold) or end with a bare LF or CR, by index into the field lines. */
  readonly lineMutation:
    { readonly line: number; readonly kind: 'obs-fold' | 'bare-lf' | 'bare-cr' } | undefined;
}

export interface FuzzCase {
  readonly requests: readonly RequestSpec[];
  /** Bytes inserted into or removed from the serialized stream. */
  readonly byteMutations: ReadonlyArray<{
    readonly at: number;
    readonly insert: string;
    readonly remove: number;
  }>;
  /** Stop writing at this share of the stream and reset the connection. */
  readonly resetAt: number | undefined;
  /** Send the stream as several writes (at these shares of it). */
  readonly splits: readonly number[];
}

const bodyText = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', 'a', 'hello world', '0\r\n\r\n', 'x'.repeat(100)) },
  { weight: 3, arbitrary: fc.constantFrom(...SMUGGLED) },
  {
    weight: 2,
    arbitrary: fc.string({ unit: fc.constantFrom('a', '\r', '\n', '0', ' ', ':', 'G', '\0'), maxLength: 20 }),
  },
);

const chunk: fc.Arbitrary<Chunk> = fc.record({
  data: fc.oneof(
    fc.constantFrom('a', 'hello', '\r\n', ...SMUGGLED),
    fc.string({ minLength: 1, maxLength: 8 }),
  ),
  sizeForm: fc.constantFrom('lower', 'lower', 'upper', 'zeros', 'overlong', 'wrong'),
  extension: fc.constantFrom('', '', ';a=b', ';x', '; y="z"', ';\x01', ' ;a'),
});

const lengthForm = fc.constantFrom('n', 'n', 'n', '0n', 'n+1', 'n-1', '+n', 'n ', ' n', 'n, n', '0xn', '');

const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('length' as const),
      data: bodyText,
      lengthForms: fc.oneof(
        { weight: 4, arbitrary: fc.constant(['n']) },
        { weight: 1, arbitrary: fc.array(lengthForm, { minLength: 1, maxLength: 3 }) },
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('chunked' as const),
      chunks: fc.array(chunk, { maxLength: 3 }),
      trailers: fc.oneof(
        { weight: 4, arbitrary: fc.constant([]) },
        {
          weight: 1,
          arbitrary: fc.array(fc.constantFrom('X-T: 1', 'bad trailer', 'Content-Length: 5'), {
            maxLength: 2,
          }),
        },
      ),
      codings: fc.oneof(
        { weight: 6, arbitrary: fc.constant(['chunked']) },
        {
          weight: 2,
          arbitrary: fc.array(
            fc.constantFrom(
              'chunked',
              'Chunked',
              ' chunked ',
              'chunked, gzip',
              'gzip, chunked',
              'identity',
              'chunked,chunked',
              'xchunked',
            ),
            {
              minLength: 1,
              maxLength: 2,
            },
          ),
        },
      ),
      alsoLength: fc.boolean(),
    }),
  },
);

const fieldName = fc.constantFrom(
  'X-A',
  'Cookie',
  'Authorization',
  'X-Forwarded-For',
  'X-Forwarded-Host',
  'X-Request-Id',
  'Keep-Alive',
  'TE',
  'Trailer',
  'Proxy-Connection',
  'Upgrade',
  'Expect',
  'Accept',
  'X-Cutover-Preview',
);
const fieldValue = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.constantFrom(
      '1',
      'a b',
      '',
      'keep-alive',
      'trailers',
      'h2c',
      '100-continue',
      'sid=1',
      '10.0.0.1',
      'é',
    ),
  },
  { weight: 1, arbitrary: fc.constant('x\x01y') },
);

const connectionTokens = fc
  .array(
    fc.constantFrom(
      'keep-alive',
      'close',
      'Content-Length',
      'transfer-encoding',
      'host',
      'x-a',
      'upgrade',
      'X-Forwarded-For',
      'te',
      'cookie',
    ),
    { minLength: 1, maxLength: 3 },
  )
  .map((tokens) => tokens.join(', '));

export const requestSpec: fc.Arbitrary<RequestSpec> = fc.record({
  method: fc.constantFrom('GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'),
  version: fc.oneof(
    { weight: 12, arbitrary: fc.constant('1.1' as const) },
    { weight: 2, arbitrary: fc.constant('1.0' as const) },
    { weight: 1, arbitrary: fc.constantFrom('1.2' as const, '2.0' as const) },
  ),
  targetForm: fc.constantFrom('origin', 'origin', 'origin', 'query', 'absolute'),
  hosts: fc.oneof(
    { weight: 10, arbitrary: fc.constantFrom(['a'], ['app.example:8080']) },
    { weight: 1, arbitrary: fc.constantFrom([], ['a', 'b'], ['a', 'a']) },
  ),
  body,
  fields: fc.array(fc.tuple(fieldName, fieldValue), { maxLength: 3 }),
  connection: fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: connectionTokens },
  ),
  separator: fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom(': ', ':', ':\t', ':  ') },
    { weight: 1, arbitrary: fc.constant(' : ') },
  ),
  lineMutation: fc.oneof(
    { weight: 10, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.record({
        line: fc.nat(6),
        kind: fc.constantFrom('obs-fold' as const, 'bare-lf' as const, 'bare-cr' as const),
      }),
    },
  ),
});

/** Requests every strict server reads the same way: a stream of them must be answered in full. */
const wellFormedSpec: fc.Arbitrary<RequestSpec> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE'),
  version: fc.constant('1.1' as const),
  targetForm: fc.constantFrom('origin' as const, 'query' as const, 'absolute' as const),
  hosts: fc.constantFrom(['a'], ['app.example:8080']),
  body: fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.record({ kind: fc.constant('length' as const), data: bodyText, lengthForms: fc.constant(['n']) }),
    fc.record({
      kind: fc.constant('chunked' as const),
      chunks: fc.array(
        fc.record({
          data: fc.constantFrom('a', 'hello', ...SMUGGLED),
          sizeForm: fc.constantFrom(
            'lower' as const,
            'upper' as const,
            'zeros' as const,
            'overlong' as const,
          ),
          extension: fc.constantFrom('', ';a=b'),
        }),
        { maxLength: 3 },
      ),
      trailers: fc.constantFrom([], ['X-T: 1']),
      codings: fc.constantFrom(['chunked'], ['Chunked']),
      alsoLength: fc.constant(false),
    }),
  ),
  fields: fc.array(
    fc.tuple(
      fc.constantFrom('X-A', 'Cookie', 'X-Forwarded-For', 'Keep-Alive', 'TE'),
      fc.constantFrom('1', 'a b', 'sid=1'),
    ),
    {
      maxLength: 3,
    },
  ),
  connection: fc.constantFrom(
    undefined,
    'keep-alive',
    'Content-Length',
    'keep-alive, Transfer-Encoding, Host',
    'x-a, X-Forwarded-For',
  ),
  separator: fc.constantFrom(': ', ':', ':\t'),
  lineMutation: fc.constant(undefined),
});

const mutatedCase: fc.Arbitrary<FuzzCase> = fc.record({
  requests: fc.array(requestSpec, { minLength: 1, maxLength: 4 }),
  byteMutations: fc.oneof(
    { weight: 6, arbitrary: fc.constant([]) },
    {
      weight: 1,
      arbitrary: fc.array(
        fc.record({
          at: fc.nat(400),
          insert: fc.constantFrom('', '\r', '\n', '\r\n', '\0', ' ', '\t', ':', '0', 'a'),
          remove: fc.nat(2),
        }),
        { minLength: 1, maxLength: 2 },
      ),
    },
  ),
  resetAt: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  ),
  splits: fc.oneof(
    { weight: 4, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }) },
  ),
});

/** A quarter of the cases are well-formed streams (which must be answered in full), the rest mutated. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc.oneof(
  { weight: 3, arbitrary: mutatedCase },
  {
    weight: 1,
    arbitrary: fc.record({
      requests: fc.array(wellFormedSpec, { minLength: 1, maxLength: 4 }),
      byteMutations: fc.constant([]),
      resetAt: fc.constant(undefined),
      splits: fc.oneof(
        fc.constant([]),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 3 }),
      ),
    }),
  },
);

function chunkSize(size: number, form: Chunk['sizeForm']): string {
  const hex = size.toString(16);
  switch (form) {
    case 'lower':
      return hex;
    case 'upper':
      return hex.toUpperCase();
    case 'zeros':
      return `000${hex}`;
    case 'overlong':
      return hex.padStart(16, '0');
    case 'wrong':
      return (size + 1).toString(16);
  }
}

function lengthValue(form: string, n: number): string {
  return form
    .replace('n+1', String(n + 1))
    .replace('n-1', String(Math.max(0, n - 1)))
    .replace(/n/g, String(n));
}

/** The request's bytes (latin1); `caseNumber` goes into its target and any request in its body. */
export function serializeRequest(spec: RequestSpec, caseNumber: number, index: number): string {
  const id = `/c${caseNumber}-${index}`;
  const target =
    spec.targetForm === 'absolute' ? `http://a${id}` : spec.targetForm === 'query' ? `${id}?q=1&r=%20` : id;
  const fields: string[] = spec.hosts.map((host) => `Host${spec.separator}${host}`);
  for (const [name, value] of spec.fields) fields.push(`${name}${spec.separator}${value}`);
  if (spec.connection !== undefined) fields.push(`Connection${spec.separator}${spec.connection}`);
  let bodyBytes = '';
  const bodySpec = spec.body;
  if (bodySpec.kind === 'length') {
    for (const form of bodySpec.lengthForms)
      fields.push(`Content-Length${spec.separator}${lengthValue(form, bodySpec.data.length)}`);
    bodyBytes = bodySpec.data;
  } else if (bodySpec.kind === 'chunked') {
    for (const coding of bodySpec.codings) fields.push(`Transfer-Encoding${spec.separator}${coding}`);
    for (const piece of bodySpec.chunks)
      bodyBytes += `${chunkSize(piece.data.length, piece.sizeForm)}${piece.extension}\r\n${piece.data}\r\n`;
    bodyBytes += `0\r\n${bodySpec.trailers.map((line) => `${line}\r\n`).join('')}\r\n`;
    if (bodySpec.alsoLength) fields.push(`Content-Length: ${bodyBytes.length}`);
  }
  let head = `${spec.method} ${target} HTTP/${spec.version}`;
  const mutation = spec.lineMutation;
  fields.forEach((line, i) => {
    const mutated = mutation !== undefined && mutation.line % fields.length === i;
    if (mutated && mutation.kind === 'obs-fold') head += `\r\n${line}\r\n folded`;
    // The line before this one ends in a bare LF or a bare CR.
    else if (mutated) head += `${mutation.kind === 'bare-lf' ? '\n' : '\r'}${line}`;
    else head += `\r\n${line}`;
  });
  return `${head}\r\n\r\n${bodyBytes}`.replaceAll(CASE, String(caseNumber));
}

/** The whole stream of a case, byte mutations applied. */
export function serializeCase(fuzz: FuzzCase, caseNumber: number): string {
  let text = fuzz.requests.map((spec, index) => serializeRequest(spec, caseNumber, index)).join('');
  for (const { at, insert, remove } of fuzz.byteMutations) {
    let position = text.length === 0 ? 0 : at % text.length;
    // Case numbers in targets stay readable: the upstream files what it reads under them.
    for (const id of text.matchAll(/c\d+-\w/g))
      if (position >= id.index - remove && position < id.index + id[0].length)
        position = id.index + id[0].length;
    text = text.slice(0, position) + insert + text.slice(position + remove);
  }
  return text;
}
