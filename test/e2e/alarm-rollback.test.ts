/**
 * The bake period with a CloudWatch alarm, end to end in one-shot mode: the process platform, a
 * real nginx, and moto for CloudWatch. moto never evaluates an alarm from data: the test drives
 * its state with SetAlarmState, as an operator's alarm would change on a real 5xx rate.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  PutMetricAlarmCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../support/daemons/moto.js';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { CutoverHarness, type CliResult } from './harness.js';
import { sample, startCli } from './oneshot-scenario.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';

const ALARM = 'e2e-5xx';
const REGION = 'us-east-1';

interface DeploymentOutput {
  ok: boolean;
  deployment: {
    id: string;
    phase: string;
    bakeUntil: string | null;
    reason: { code: string; message: string; analysis?: Record<string, unknown> } | null;
  };
}

void describe('bake period with a CloudWatch alarm (one-shot, nginx, moto)', () => {
  let moto: MotoServer | undefined;
  let daemon: RouterDaemon | undefined;
  let harness: CutoverHarness | undefined;
  let cloudwatch: CloudWatchClient | undefined;
  let baseConfig = '';
  const h = (): CutoverHarness => {
    assert.ok(harness, 'the harness did not start');
    return harness;
  };
  const cw = (): CloudWatchClient => {
    assert.ok(cloudwatch, 'moto did not start');
    return cloudwatch;
  };
  const setAlarm = async (state: 'OK' | 'ALARM', reason: string): Promise<void> => {
    await cw().send(new SetAlarmStateCommand({ AlarmName: ALARM, StateValue: state, StateReason: reason }));
  };
  const analysisYaml = (endpoint: string, bake: string, extra: string[] = []): string =>
    [
      'analysis:',
      `  bake: ${bake}`,
      '  interval: 200ms',
      '  providers:',
      '    - kind: cloudwatch-alarms',
      `      alarms: [${ALARM}]`,
      `      region: ${REGION}`,
      `      endpoint: ${endpoint}`,
      '      maxAttempts: 1',
      ...extra,
    ].join('\n');
  const env = {
    AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey,
  };
  const json = (result: CliResult): DeploymentOutput => {
    try {
      return JSON.parse(result.stdout) as DeploymentOutput;
    } catch {
      assert.fail(`not JSON (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
    }
  };

  before(async () => {
    // The CLI children inherit them (startCli passes no environment of its own); moto's, never real ones.
    Object.assign(process.env, env);
    moto = await startMoto();
    cloudwatch = new CloudWatchClient({
      region: REGION,
      endpoint: moto.endpoint,
      credentials: MOTO_CREDENTIALS,
      maxAttempts: 1,
    });
    await cw().send(
      new PutMetricAlarmCommand({
        AlarmName: ALARM,
        Namespace: 'e2e',
        MetricName: 'http_5xx',
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanThreshold',
      }),
    );
    await setAlarm('OK', 'quiet');
    daemon = await daemonFrom(startNginxHarness, { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: { v1: {}, v2: {}, v3: {} },
      router: { config: daemon.config, url: daemon.url },
      healthDeadline: '4s',
      extraYaml: analysisYaml(moto.endpoint, '4s'),
    });
    baseConfig = readFileSync(h().configFile, 'utf8');
  });
  after(async () => {
    cloudwatch?.destroy();
    try {
      await harness?.teardown();
    } finally {
      try {
        await daemon?.teardown();
      } finally {
        await moto?.stop();
      }
    }
  });

  void it('an alarm in ALARM during the bake rolls back and exits 1 naming the alarm; traffic is back on the old release', async () => {
    const first = await h().cli(['deploy', 'v1', '--json'], env);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(
      json(first).deployment.bakeUntil,
      null,
      'a first deploy has nothing to roll back to: no bake',
    );

    const second = startCli(h(), ['deploy', 'v2']);
    await second.waitForLine(/baking v2 until/);
    assert.deepEqual(await sample(h().trafficUrl, 10), ['v2'], 'v2 is live during its bake');
    await setAlarm('ALARM', 'Threshold Crossed: 3 datapoints were greater than the threshold (1.0)');
    const done = await second.result;
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(
      done.stdout,
      /rolled-back: rolled back automatically during the bake: .*alarm e2e-5xx is in ALARM: Threshold Crossed/,
    );
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v1']);

    const history = await h().cli(['history', '--json'], env);
    assert.equal(history.code, 0, history.stderr);
    const [latest] = (JSON.parse(history.stdout) as { deployments: DeploymentOutput['deployment'][] })
      .deployments;
    assert.equal(latest?.phase, 'rolled-back');
    assert.equal(latest?.reason?.code, 'CUTOVER_E_ANALYSIS');
    assert.deepEqual(latest?.reason?.analysis, {
      verdict: 'fail',
      provider: 'cloudwatch-alarms',
      measure: 'alarm state',
      observed: 'ALARM',
      threshold: 'not ALARM',
      subject: ALARM,
      reason: `alarm ${ALARM} is in ALARM: Threshold Crossed: 3 datapoints were greater than the threshold (1.0)`,
    });
    const text = await h().cli(['history'], env);
    assert.match(
      text.stdout,
      /rolled-back {2}rolled back automatically during the bake: cloudwatch-alarms: alarm e2e-5xx/,
    );
  });

  void it('the same alarm in ALARM after the bake changes nothing', async () => {
    await setAlarm('OK', 'quiet again');
    const deploy = await h().cli(['deploy', 'v2'], env);
    assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
    assert.match(deploy.stdout, /the bake of v2 passed/);
    await setAlarm('ALARM', 'Threshold Crossed: after the bake');
    const alarm = await cw().send(new DescribeAlarmsCommand({ AlarmNames: [ALARM] }));
    assert.equal(alarm.MetricAlarms?.[0]?.StateValue, 'ALARM');
    // A later command resumes whatever is unfinished: the deployment rests in standby, untouched.
    const status = await h().cli(['status', '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    const parsed = JSON.parse(status.stdout) as {
      routing: { liveSlot: string };
      active: { phase: string }[];
    };
    assert.deepEqual(
      parsed.active.map((deployment) => deployment.phase),
      ['standby'],
    );
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v2']);
  });

  void it('a deploy stopped by SIGTERM during the bake resumes the same bake at the next command, which still rolls back', async () => {
    await setAlarm('OK', 'quiet');
    const stopped = startCli(h(), ['deploy', 'v3']);
    await stopped.waitForLine(/baking v3 until/);
    stopped.child.kill('SIGTERM');
    const interrupted = await stopped.result;
    assert.notEqual(interrupted.code, 0, interrupted.stdout + interrupted.stderr);
    const history = await h().cli(['history', '--json'], env);
    const [baking] = (JSON.parse(history.stdout) as { deployments: DeploymentOutput['deployment'][] })
      .deployments;
    assert.equal(baking?.phase, 'promoted', 'journaled where it stopped');
    assert.ok(baking?.bakeUntil, 'the bake’s end is in the record');

    await setAlarm('ALARM', 'Threshold Crossed: while nobody watched');
    // The next one-shot command resumes the unfinished deployment first: its bake, to the same end.
    const next = await h().cli(['deploy', 'v3'], env);
    assert.match(next.stdout + next.stderr, new RegExp(`resuming the bake of v3 until ${baking.bakeUntil}`));
    const after = (await h().cli(['history', '--json'], env)).stdout;
    const resumed = (JSON.parse(after) as { deployments: DeploymentOutput['deployment'][] }).deployments.find(
      (deployment) => deployment.id === baking.id,
    );
    assert.equal(resumed?.phase, 'rolled-back');
    assert.equal(resumed?.reason?.analysis?.subject, ALARM);
    // The new deploy of v3 bakes under the same alarm: rolled back too, exit 1; v2 serves throughout.
    assert.equal(next.code, 1, next.stdout + next.stderr);
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v2']);
    await setAlarm('OK', 'quiet again');
  });

  void it(
    'a CloudWatch endpoint that accepts and never answers is inconclusive, not a rollback: the bake ends at a gate',
    { timeout: 90_000 },
    async () => {
      const held = new Set<net.Socket>();
      // Holds every connection and answers nothing.
      const hanging = net.createServer((socket) => {
        held.add(socket);
        socket.on('close', () => held.delete(socket));
      });
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
      const port = (hanging.address() as net.AddressInfo).port;
      try {
        // Retire the standby first (the next deploy would do it too), then point the provider at the hanging endpoint.
        writeFileSync(
          h().configFile,
          baseConfig.replace(
            analysisYaml(moto!.endpoint, '4s'),
            analysisYaml(`http://127.0.0.1:${port}`, '1s', ['      callTimeout: 300ms']),
          ),
        );
        const deploy = await h().cli(['deploy', 'v3'], env);
        assert.equal(deploy.code, 0, deploy.stdout + deploy.stderr);
        assert.match(
          deploy.stdout,
          /analysis inconclusive after the bake of v3: cloudwatch-alarms: cloudwatch-alarms could not answer: DescribeAlarms failed/,
        );
        assert.match(deploy.stdout, /waiting for promotion/);
        assert.deepEqual(
          await sample(h().trafficUrl, 10),
          ['v3'],
          'an inconclusive bake leaves the new release live',
        );

        const promote = await h().cli(['promote', '--json'], env);
        assert.equal(promote.code, 0, promote.stdout + promote.stderr);
        assert.equal(json(promote).deployment.phase, 'standby');
      } finally {
        for (const socket of held) socket.destroy();
        await new Promise<void>((resolve) => hanging.close(() => resolve()));
      }
    },
  );
  void it('an alarm in ALARM during a shift step’s pause aborts the shift; traffic goes back to the old release', async () => {
    await setAlarm('OK', 'quiet');
    writeFileSync(
      h().configFile,
      `${baseConfig}\nstrategy:\n  kind: shift\n  steps:\n    - { weight: 50, pause: 20s }\n`,
    );
    const shifting = startCli(h(), ['deploy', 'v1']);
    await shifting.waitForLine(/analysis pass \(step 1\)/);
    await setAlarm('ALARM', 'Threshold Crossed: at half the traffic');
    const done = await shifting.result;
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(
      done.stdout,
      /aborted: analysis failed at shift step 1 \(50% on v1\): cloudwatch-alarms: alarm e2e-5xx is in ALARM: Threshold Crossed: at half the traffic/,
    );
    assert.deepEqual(await sample(h().trafficUrl, 20), ['v3']);
    const history = JSON.parse((await h().cli(['history', '--json'], env)).stdout) as {
      deployments: DeploymentOutput['deployment'][];
    };
    assert.equal(history.deployments[0]?.reason?.analysis?.subject, ALARM);
  });
});
