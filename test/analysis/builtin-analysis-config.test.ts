/**
 * The `builtin` analysis provider's entry: defaults, percentages, and the cross-check that it
 * only goes with a router that keeps per-slot counters (builtin, haproxy), naming the file, line
 * and key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configErrorOf, parseConfig } from '../support/config-text.js';

const BASE = 'app: web\nplatform: { kind: process, command: node }\n';
const parse = parseConfig;
const builtin = (extra = '', router = ''): string =>
  `${BASE}${router}analysis:\n  providers:\n    - kind: builtin\n${extra}`;

void describe('builtin analysis config', () => {
  void test('Defaults_FiftyRequests_OnePercentErrors_TwentyPercentP99_25msFloor', () => {
    const config = parse(builtin());
    assert.deepEqual(config.analysis?.providers[0], {
      kind: 'builtin',
      minRequests: 50,
      maxErrorRate: 0.01,
      maxP99Increase: 0.2,
      minLatencyIncrease: 25,
    });
  });

  void test('Percentages_AreReadAsShares', () => {
    const config = parse(
      builtin('      maxErrorRate: 2.5%\n      maxErrorRateIncrease: "0.5%"\n      maxP50Increase: 10%\n'),
    );
    const provider = config.analysis?.providers[0];
    assert.ok(provider?.kind === 'builtin');
    assert.equal(provider.maxErrorRate, 0.025);
    assert.equal(provider.maxErrorRateIncrease, 0.005);
    assert.equal(provider.maxP50Increase, 0.1);
  });

  void test('APercentageWithoutItsSign_OrAbove100_IsRefusedNamingTheKey', () => {
    for (const value of ['0.01', '"1"', '150%', '-1%', '1%%', '"%"', `"${'9'.repeat(5000)}%"`]) {
      const message = configErrorOf(builtin(`      maxErrorRate: ${value}\n`));
      assert.match(message, /cutover\.yml:6/, value);
      assert.match(message, /analysis\.providers\[0\]\.maxErrorRate/, value);
    }
  });

  void test('MinRequests_BelowOne_Oversized_OrNotAnInteger_IsRefused', () => {
    for (const value of ['0', '1.5', '-3', '1e12', '"50"']) {
      assert.match(configErrorOf(builtin(`      minRequests: ${value}\n`)), /providers\[0\]\.minRequests/);
    }
  });

  void test('WithARouterWithoutSlotCounters_IsRefused_NamingTheProviderKindAndTheRouter', () => {
    const router = 'router: { kind: nginx, configFile: /tmp/x.conf, includeFile: /tmp/u.conf }\n';
    const message = configErrorOf(builtin('', router));
    assert.match(message, /cutover\.yml:6/);
    assert.match(message, /analysis\.providers\[0\]\.kind/);
    assert.match(message, /routers builtin and haproxy keep, and router\.kind is "nginx"/);
  });

  void test('WithHaproxy_IsAccepted_ItReadsShowStat', () => {
    const router = 'router: { kind: haproxy, socket: /tmp/h.sock, configFile: /tmp/h.cfg }\n';
    assert.equal(parse(builtin('', router)).analysis?.providers[0]?.kind, 'builtin');
  });
});
