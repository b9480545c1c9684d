/** The verdict of a set of CloudWatch alarm states (what DescribeAlarms returned), hostile text included. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alarmVerdict } from '../../src/analysis/cloudwatch-alarms/alarm-verdict.js';

const asked = (names: string[], prefix?: string) => ({ names, prefix });

void describe('cloudwatch alarm verdict', () => {
  void test('AnyAlarmInALARM_Fails_NamingTheFirstByName_WithItsReason_AndCountsTheOthers', () => {
    const finding = alarmVerdict(
      'alarms',
      [
        { name: 'z-latency', state: 'ALARM', reason: 'p99 high' },
        { name: 'a-5xx', state: 'ALARM', reason: 'Threshold Crossed' },
        { name: 'm-ok', state: 'OK', reason: '' },
      ],
      asked(['z-latency', 'a-5xx', 'm-ok']),
    );
    assert.equal(finding.verdict, 'fail');
    assert.equal(finding.subject, 'a-5xx');
    assert.equal(finding.observed, 'ALARM');
    assert.equal(finding.reason, 'alarm a-5xx is in ALARM: Threshold Crossed (and 1 more in ALARM)');
  });

  void test('OkAndInsufficientData_Pass', () => {
    const finding = alarmVerdict(
      'alarms',
      [
        { name: 'a', state: 'OK', reason: '' },
        { name: 'b', state: 'INSUFFICIENT_DATA', reason: '' },
      ],
      asked(['a', 'b']),
    );
    assert.equal(finding.verdict, 'pass');
    assert.equal(finding.observed, 'INSUFFICIENT_DATA, OK');
  });

  void test('ANamedAlarmThatDoesNotExist_IsInconclusive_NotAPass', () => {
    const finding = alarmVerdict('alarms', [{ name: 'a', state: 'OK', reason: '' }], asked(['a', 'typo']));
    assert.equal(finding.verdict, 'inconclusive');
    assert.equal(finding.subject, 'typo');
  });

  void test('APrefixMatchingNothing_IsInconclusive', () => {
    const finding = alarmVerdict('alarms', [], asked([], 'shop-'));
    assert.equal(finding.verdict, 'inconclusive');
    assert.match(finding.reason, /shop-/);
  });

  void test('AHostileStateReason_IsOneBoundedLine', () => {
    const reason = `line one\n\u001b[31mred\u0000${'x'.repeat(10_000)}`;
    const finding = alarmVerdict('alarms', [{ name: 'a\nb', state: 'ALARM', reason }], asked([], 'a'));
    assert.equal(finding.verdict, 'fail');
    assert.doesNotMatch(finding.reason, /[\u0000-\u001f]/);
    assert.ok(finding.reason.length < 800, `bounded: ${finding.reason.length}`);
    assert.equal(finding.subject, 'a b');
  });
});
