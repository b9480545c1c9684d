/**
 * Shadow comparison of two captured answers: ignored JSON paths, arrays, numbers past double
 * precision, non-JSON and binary bodies, bodies over the cap, and hostile JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CapturedResponse } from '../../../src/proxy/shadow/captured-response.js';
import { compareResponses, type ComparisonRules } from '../../../src/proxy/shadow/compare-responses.js';
import { diffJson } from '../../../src/proxy/shadow/json-diff.js';
import { parseJsonPath, JsonPathError } from '../../../src/proxy/shadow/json-path.js';
import {
  numbersEqual,
  JsonNumber,
  JsonSyntaxError,
  parseJson,
} from '../../../src/proxy/shadow/json-value.js';
import { UpstreamHead } from '../../../src/proxy/upstream-head.js';

const JSON_TYPE = 'Content-Type: application/json\r\n';

function captured(
  status: number,
  fields: string,
  body: string | Buffer,
  { maxBodyBytes = 65_536, headers = ['content-type'], pieces = 1 } = {},
): CapturedResponse {
  const capture = new CapturedResponse(maxBodyBytes, new Set(headers));
  capture.onHead(new UpstreamHead(status, 1, fields));
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const size = Math.ceil(bytes.length / pieces);
  for (let at = 0; at < bytes.length; at += size) capture.onBody(bytes.subarray(at, at + size));
  capture.onEnd();
  return capture;
}

const rules = (ignore: string[] = [], headers = ['content-type']): ComparisonRules => ({
  headers,
  ignore: ignore.map(parseJsonPath),
});

void describe('shadow comparison of two answers', () => {
  void it('JSON differing only in ignored paths is alike; another field is named by its path', () => {
    const live = captured(
      200,
      JSON_TYPE,
      '{"id":1,"timestamp":"10:00","items":[{"id":"a","n":1},{"id":"b","n":2}]}',
    );
    const same = captured(
      200,
      JSON_TYPE,
      '{"timestamp":"10:01","id":1,"items":[{"n":1,"id":"x"},{"n":2,"id":"y"}]}',
    );
    assert.equal(compareResponses(live, same, rules(['$.timestamp', '$.items[*].id'])), undefined);
    const other = captured(
      200,
      JSON_TYPE,
      '{"id":1,"timestamp":"10:01","items":[{"id":"x","n":1},{"id":"y","n":3}]}',
    );
    assert.deepEqual(compareResponses(live, other, rules(['$.timestamp', '$.items[*].id'])), {
      status: false,
      headers: [],
      body: { kind: 'json', paths: ['$.items[1].n'], more: false },
    });
    // Without the ignored paths, every one of them differs, in document order.
    assert.deepEqual(compareResponses(live, other, rules())?.body, {
      kind: 'json',
      paths: ['$.timestamp', '$.items[0].id', '$.items[1].id', '$.items[1].n'],
      more: false,
    });
  });

  void it('a missing member, an extra member, a longer array and a changed type are each reported', () => {
    const live = captured(200, JSON_TYPE, '{"a":1,"b":[1,2],"c":{"d":true}}');
    const shadow = captured(200, JSON_TYPE, '{"b":[1,2,3],"c":{"d":"true"},"e":null}');
    assert.deepEqual(compareResponses(live, shadow, rules())?.body, {
      kind: 'json',
      paths: ['$.a', '$.b[2]', '$.c.d', '$.e'],
      more: false,
    });
  });

  void it('an index path ignores that element only; [*] and .* ignore every element or member', () => {
    const a = parseJson('{"list":[1,2,3],"map":{"x":1,"y":2}}');
    const b = parseJson('{"list":[9,2,8],"map":{"x":5,"y":6}}');
    assert.deepEqual(diffJson(a, b, ['$.list[0]', '$.map.*'].map(parseJsonPath))?.paths, ['$.list[2]']);
    assert.equal(diffJson(a, b, ['$.list[*]', '$["map"]'].map(parseJsonPath)), undefined);
    assert.equal(diffJson(a, b, ['$'].map(parseJsonPath)), undefined);
  });

  void it('status and compared header fields are compared; other fields are not', () => {
    const headers = ['content-type', 'cache-control'];
    const live = captured(200, `${JSON_TYPE}X-Version: 1\r\nCache-Control: no-store\r\n`, '{}', { headers });
    const shadow = captured(201, `${JSON_TYPE}X-Version: 2\r\nCache-Control: max-age=60\r\n`, '{}', {
      headers,
    });
    assert.deepEqual(compareResponses(live, shadow, rules([], ['content-type', 'cache-control'])), {
      status: true,
      headers: ['cache-control'],
      body: undefined,
    });
  });

  void it('numbers compare as decimals: 1.0 is 1, but integers past 2^53 that JSON.parse would merge differ', () => {
    assert.ok(numbersEqual(new JsonNumber('1.0'), new JsonNumber('1')));
    assert.ok(numbersEqual(new JsonNumber('1e2'), new JsonNumber('100')));
    assert.ok(numbersEqual(new JsonNumber('-0.50'), new JsonNumber('-5e-1')));
    assert.ok(!numbersEqual(new JsonNumber('12345678901234567890'), new JsonNumber('12345678901234567891')));
    assert.equal(
      JSON.parse('12345678901234567890'),
      JSON.parse('12345678901234567891'),
      'JSON.parse merges them',
    );
    assert.ok(!numbersEqual(new JsonNumber('1e400'), new JsonNumber('2e400')), 'both Infinity as doubles');
    assert.ok(numbersEqual(new JsonNumber('1e400'), new JsonNumber('10e399')));
    assert.ok(!numbersEqual(new JsonNumber('1'), new JsonNumber('-1')));
    assert.ok(numbersEqual(new JsonNumber('0'), new JsonNumber('-0.0')));
    const live = captured(200, JSON_TYPE, '{"big":12345678901234567890}');
    const shadow = captured(200, JSON_TYPE, '{"big":12345678901234567891}');
    assert.deepEqual(compareResponses(live, shadow, rules())?.body, {
      kind: 'json',
      paths: ['$.big'],
      more: false,
    });
  });

  void it('hostile JSON: 100 000 levels of nesting is parsed and compared without exhausting the stack', () => {
    const depth = 100_000;
    const deep = (leaf: string): string => `${'['.repeat(depth)}${leaf}${']'.repeat(depth)}`;
    const live = captured(200, JSON_TYPE, deep('1'), { maxBodyBytes: 1_000_000 });
    const shadow = captured(200, JSON_TYPE, deep('2'), { maxBodyBytes: 1_000_000 });
    const difference = compareResponses(live, shadow, rules());
    assert.equal(difference?.body?.kind, 'json');
    const [path] = difference?.body?.kind === 'json' ? difference.body.paths : [];
    assert.ok(
      path !== undefined && path.startsWith('$…') && path.endsWith('[0][0]'),
      'a deep path is cut at its start',
    );
    assert.equal(
      compareResponses(live, captured(200, JSON_TYPE, deep('1'), { maxBodyBytes: 1_000_000 }), rules()),
      undefined,
    );
  });

  void it('hostile JSON: malformed text, trailing garbage, __proto__ keys and duplicate keys', () => {
    for (const text of ['{', '{"a":}', '[1,]', '{"a":1}x', '01', '"\u0001"', 'nul', '', '{"a" 1}', '[1 2]'])
      assert.throws(() => parseJson(text), JsonSyntaxError, text);
    const a = parseJson('{"__proto__":{"x":1},"constructor":1}');
    const b = parseJson('{"__proto__":{"x":2},"constructor":1}');
    assert.deepEqual(diffJson(a, b, [])?.paths, ['$.__proto__.x']);
    assert.equal(({} as Record<string, unknown>).x, undefined, 'nothing was set on Object.prototype');
    // A repeated key keeps its last value, as JSON.parse does.
    assert.equal(diffJson(parseJson('{"a":1,"a":2}'), parseJson('{"a":2}'), []), undefined);
  });

  void it('more than 20 differing paths: the first 20 and `more`', () => {
    const live = captured(200, JSON_TYPE, JSON.stringify(Array.from({ length: 30 }, (_, i) => i)));
    const shadow = captured(200, JSON_TYPE, JSON.stringify(Array.from({ length: 30 }, (_, i) => i + 1)));
    const body = compareResponses(live, shadow, rules())?.body;
    assert.ok(body?.kind === 'json');
    assert.equal(body.paths.length, 20);
    assert.equal(body.paths[0], '$[0]');
    assert.equal(body.more, true);
  });

  void it('a body that is not JSON (or not valid JSON under a JSON type) is compared byte by byte', () => {
    const live = captured(200, 'Content-Type: text/plain\r\n', 'line one\nline two\n', { pieces: 3 });
    const shadow = captured(200, 'Content-Type: text/plain\r\n', 'line one\nline 2\n');
    assert.deepEqual(compareResponses(live, shadow, rules())?.body, { kind: 'bytes', offset: 14, line: 2 });
    const notJson = captured(200, JSON_TYPE, '{"a":1} trailing');
    assert.deepEqual(compareResponses(notJson, captured(200, JSON_TYPE, '{"a":1}'), rules())?.body, {
      kind: 'bytes',
      offset: 7,
      line: 1,
    });
    // A text body is not JSON even when it looks like it: compared exactly.
    const spaced = captured(200, 'Content-Type: text/plain\r\n', '{"a": 1}');
    assert.equal(
      compareResponses(spaced, captured(200, 'Content-Type: text/plain\r\n', '{"a":1}'), rules())?.body?.kind,
      'bytes',
    );
    // The same JSON written differently is alike under a JSON type.
    assert.equal(
      compareResponses(captured(200, JSON_TYPE, '{"a": 1}'), captured(200, JSON_TYPE, '{"a":1}'), rules()),
      undefined,
    );
  });

  void it('binary bodies are compared byte by byte, and JSON types holding invalid UTF-8 too', () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 3]);
    const other = Buffer.from([0, 1, 2, 0xff, 0xfd, 3]);
    const type = 'Content-Type: application/octet-stream\r\n';
    assert.equal(
      compareResponses(captured(200, type, bytes), captured(200, type, Buffer.from(bytes)), rules()),
      undefined,
    );
    assert.deepEqual(
      compareResponses(captured(200, type, bytes), captured(200, type, other), rules())?.body,
      {
        kind: 'bytes',
        offset: 4,
        line: 1,
      },
    );
    assert.equal(
      compareResponses(captured(200, JSON_TYPE, bytes), captured(200, JSON_TYPE, other), rules())?.body?.kind,
      'bytes',
    );
  });

  void it('over maxBodyBytes: compared by the SHA-256 of the whole body, ignored paths not applied', () => {
    const big = (tail: string): string => `{"pad":"${'x'.repeat(200)}","t":"${tail}"}`;
    const options = { maxBodyBytes: 100, pieces: 7 };
    const live = captured(200, JSON_TYPE, big('1'), options);
    assert.equal(live.truncated, true);
    assert.equal(live.body().length, 100, 'only maxBodyBytes are kept');
    assert.equal(
      compareResponses(live, captured(200, JSON_TYPE, big('1'), options), rules(['$.t'])),
      undefined,
    );
    assert.deepEqual(
      compareResponses(live, captured(200, JSON_TYPE, big('2'), options), rules(['$.t']))?.body,
      {
        kind: 'hash',
        liveBytes: big('1').length,
        shadowBytes: big('2').length,
      },
    );
    // One side over the cap, the other not: they differ (and say so by size).
    assert.equal(
      compareResponses(live, captured(200, JSON_TYPE, '{}', options), rules())?.body?.kind,
      'hash',
    );
  });
});

void describe('ignored path syntax', () => {
  void it('reads members, quoted members, indexes and wildcards', () => {
    assert.deepEqual(parseJsonPath('$.items[*].id'), [
      { kind: 'member', name: 'items' },
      { kind: 'any' },
      { kind: 'member', name: 'id' },
    ]);
    assert.deepEqual(parseJsonPath(`$["a b"]['c.d'][3].*`), [
      { kind: 'member', name: 'a b' },
      { kind: 'member', name: 'c.d' },
      { kind: 'index', index: 3 },
      { kind: 'any' },
    ]);
    assert.deepEqual(parseJsonPath('$'), []);
  });

  void it('refuses what it does not read, saying where', () => {
    for (const text of [
      'items',
      '$..id',
      '$.',
      '$[',
      '$[-1]',
      '$[01]',
      '$.a[b]',
      '$["unclosed]',
      '$ .a',
      `$${'.a'.repeat(65)}`,
    ])
      assert.throws(() => parseJsonPath(text), JsonPathError, text);
    assert.throws(() => parseJsonPath('$.a..b'), /offset 3/);
  });
});
