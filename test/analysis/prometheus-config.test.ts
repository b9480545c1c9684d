/**
 * The `prometheus` provider's entry: defaults, conditions in both forms parsed into an operator
 * and a number (never evaluated), and hostile or mistaken entries refused with file, line and key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configErrorOf, parseConfig } from '../support/config-text.js';

const BASE = 'app: web\nplatform: { kind: process, command: node }\n';
const parse = parseConfig;
const entry = (lines: string): string =>
  `${BASE}analysis:\n  providers:\n    - kind: prometheus\n${lines
    .split('\n')
    .map((line) => `      ${line}`)
    .join('\n')}\n`;
const GOOD = 'address: http://127.0.0.1:9090\nquery: \'sum(up{slot="{{slot}}"})\'';

void describe('prometheus analysis config', () => {
  void test('Defaults_ThirtySecondInterval_NoCount_LimitsZero_TenSecondTimeout', () => {
    const config = parse(entry(`${GOOD}\nsuccessCondition: "result < 0.02"`));
    assert.deepEqual(config.analysis?.providers[0], {
      kind: 'prometheus',
      address: 'http://127.0.0.1:9090',
      query: 'sum(up{slot="{{slot}}"})',
      successCondition: { op: '<', value: 0.02 },
      interval: 30_000,
      failureLimit: 0,
      inconclusiveLimit: 0,
      timeout: 10_000,
    });
  });

  void test('ConditionsInBothForms_AreAnOperatorAndANumber', () => {
    const config = parse(
      entry(`${GOOD}\nsuccessCondition: "  result>=1e-3 "\nfailureCondition: { op: "!=", value: -2.5 }`),
    );
    const provider = config.analysis?.providers[0];
    assert.ok(provider?.kind === 'prometheus');
    assert.deepEqual(provider.successCondition, { op: '>=', value: 0.001 });
    assert.deepEqual(provider.failureCondition, { op: '!=', value: -2.5 });
  });

  void test('AnExpressionThatIsNotResultOpNumber_IsRefused_NeverEvaluated', () => {
    for (const hostile of [
      'result < 0.02 && true',
      'process.exit(1) || result < 1',
      'result < Infinity',
      'result < 0x10',
      'result =< 1',
      'value < 1',
      'result < 1; require("fs")',
      '',
    ]) {
      const message = configErrorOf(entry(`${GOOD}\nsuccessCondition: ${JSON.stringify(hostile)}`));
      assert.match(message, /cutover\.yml:\d+/, hostile);
      assert.match(message, /analysis\.providers\[0\]\.successCondition/, hostile);
      assert.match(message, /result <op> <number>/, hostile);
    }
    const unknownOp = configErrorOf(entry(`${GOOD}\nfailureCondition: { op: "=~", value: 1 }`));
    assert.match(unknownOp, /analysis\.providers\[0\]\.failureCondition/);
  });

  void test('NeitherCondition_IsRefusedNamingTheKey', () => {
    const message = configErrorOf(entry(GOOD));
    assert.match(message, /analysis\.providers\[0\]\.successCondition/);
    assert.match(message, /successCondition, a failureCondition, or both/);
  });

  void test('AnUnknownPlaceholder_IsRefusedNamingItAndTheKnownOnes', () => {
    const message = configErrorOf(
      entry('address: http://127.0.0.1:9090\nquery: \'up{a="{{slots}}"}\'\nsuccessCondition: "result < 1"'),
    );
    assert.match(message, /analysis\.providers\[0\]\.query/);
    assert.match(message, /\{\{slots\}\}/);
    assert.match(message, /\{\{oldRelease\}\}/);
  });

  void test('AnAddressWithCredentialsOrAQuery_OrNotHttp_IsRefused', () => {
    const credentials = configErrorOf(
      entry('address: http://user:hunter2@127.0.0.1:9090\nquery: up\nsuccessCondition: "result < 1"'),
    );
    assert.match(credentials, /analysis\.providers\[0\]\.address/);
    assert.match(credentials, /tokenFile/);
    assert.doesNotMatch(credentials, /hunter2/, 'the refused password is not repeated');
    const query = configErrorOf(
      entry('address: "http://127.0.0.1:9090/?token=x"\nquery: up\nsuccessCondition: "result < 1"'),
    );
    assert.match(query, /no \?query/);
    const scheme = configErrorOf(
      entry('address: file:///etc/passwd\nquery: up\nsuccessCondition: "result < 1"'),
    );
    assert.match(scheme, /analysis\.providers\[0\]\.address/);
  });

  void test('LimitsAndDurations_OutOfRange_AreRefused', () => {
    for (const [line, key] of [
      ['interval: 10ms', 'interval'],
      ['timeout: 0', 'timeout'],
      ['count: 0', 'count'],
      ['failureLimit: -1', 'failureLimit'],
      ['inconclusiveLimit: 1.5', 'inconclusiveLimit'],
      ['region: us-east-1', 'region'],
    ] as const) {
      const message = configErrorOf(entry(`${GOOD}\nsuccessCondition: "result < 1"\n${line}`));
      assert.match(message, new RegExp(`analysis\\.providers\\[0\\]`), line);
      assert.match(message, new RegExp(key), line);
    }
  });
});
