/**
 * The `analysis:` section: defaults, old configs without it, and hostile or mistaken entries
 * refused with the file, line and key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configErrorOf, parseConfig } from '../support/config-text.js';

const BASE = 'app: web\nplatform: { kind: process, command: node }\n';
const parse = parseConfig;

const alarms = (extra = ''): string =>
  `${BASE}analysis:\n  providers:\n    - kind: cloudwatch-alarms\n      region: us-east-1\n${extra}`;

void describe('analysis config', () => {
  void test('AConfigWithoutAnalysis_StillLoads_WithNoBake', () => {
    assert.equal(parse(BASE).analysis, undefined);
  });

  void test('Defaults_NoBake_ThirtySecondInterval_CheckedDuringShift_InconclusiveGates', () => {
    const config = parse(alarms('      alarms: [api-5xx]\n'));
    assert.ok(config.analysis);
    assert.equal(config.analysis.bake, 0);
    assert.equal(config.analysis.interval, 30_000);
    assert.equal(config.analysis.duringShift, true);
    assert.equal(config.analysis.onInconclusive, 'gate');
    assert.deepEqual(config.analysis.providers[0], {
      kind: 'cloudwatch-alarms',
      region: 'us-east-1',
      alarms: ['api-5xx'],
      maxAttempts: 3,
      callTimeout: 30_000,
    });
  });

  void test('CloudwatchAlarms_WithNeitherAlarmsNorPrefix_IsRefusedNamingTheKey', () => {
    const message = configErrorOf(alarms());
    assert.match(message, /cutover\.yml:\d+/);
    assert.match(message, /analysis\.providers\[0\]\.alarms/);
    assert.match(message, /alarmPrefix/);
  });

  void test('AnUnknownProviderKind_IsRefused_NamingFileAndLine', () => {
    const message = configErrorOf(`${BASE}analysis:\n  providers:\n    - kind: datadog\n`);
    assert.match(message, /cutover\.yml:5/);
    assert.match(message, /cloudwatch-alarms/);
  });

  void test('NoProviders_ATooShortInterval_TwoProvidersWithOneName_AreRefused', () => {
    assert.match(configErrorOf(`${BASE}analysis:\n  bake: 5m\n  providers: []\n`), /analysis\.providers/);
    assert.match(
      configErrorOf(alarms('      alarms: [a]\n  interval: 10ms\n')),
      /analysis\.interval.*at least 100ms/s,
    );
    const twice = `${alarms('      alarms: [a]\n')}    - kind: cloudwatch-alarms\n      region: us-east-1\n      alarms: [b]\n`;
    assert.match(configErrorOf(twice), /analysis\.providers\[1\]\.name.*distinct name/s);
  });

  void test('HostileValues_AreRefused_NotPassedToAws', () => {
    assert.match(configErrorOf(alarms(`      alarms: ["${'x'.repeat(256)}"]\n`)), /alarms\[0\]/);
    assert.match(configErrorOf(alarms('      alarms: [""]\n')), /alarms\[0\]/);
    const many = Array.from({ length: 101 }, (_, i) => `a${i}`).join(', ');
    assert.match(configErrorOf(alarms(`      alarms: [${many}]\n`)), /alarms/);
    assert.match(configErrorOf(alarms('      alarms: [a]\n      endpoint: "http://x/path?q"\n')), /endpoint/);
    assert.match(configErrorOf(alarms('      alarms: [a]\n      name: "../../etc"\n')), /name/);
    assert.match(configErrorOf(alarms('      alarms: [a]\n      secretKey: abc\n')), /secretKey/);
    assert.match(configErrorOf(`${BASE}analysis:\n  bake: soon\n  providers: []\n`), /bake/);
  });
});
