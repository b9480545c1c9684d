/**
 * Shadow comparison end to end: a real `cutover server` with the builtin router (its proxy in
 * worker processes, comparing mirrored copies) and the process platform running
 * test/e2e/apps/shadow-app.js, under keep-alive load on GET /api:
 * - a v2 whose JSON differs from v1's only in ignored paths ($.timestamp, $.items[*].id) passes
 *   the shadow stage and promotes;
 * - a v3 that answers one more field fails the shadow stage before promotion: aborted, traffic
 *   never having left the live release, the record naming the difference rate, and
 *   `cutover diff` showing the differing pairs (text and --json);
 * - POSTs sent to the live slot during a shadow stage never reach the new release;
 * - the dashboard (in Chromium) shows the failed stage's verdict and its differing pairs.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/chromium.js';
import { freePort } from '../support/daemons/common.js';
import { logIn } from '../dashboard/dashboard-server.js';
import { startLoad, type RunningLoad } from '../support/load.js';
import { latestDeployment } from './analysis-scenario.js';
import { CutoverHarness } from './harness.js';

const APP = path.join(path.dirname(fileURLToPath(import.meta.url)), 'apps/shadow-app.js');

function post(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    });
    request.on('error', reject);
    request.end('{"item":"tea"}');
  });
}

void describe('shadow comparison before promotion (server, builtin router, process platform)', () => {
  let harness: CutoverHarness | undefined;
  const h = (): CutoverHarness => {
    assert.ok(harness, 'the end-to-end harness did not start');
    return harness;
  };

  before(async () => {
    const port = await freePort();
    harness = await CutoverHarness.create({
      releases: {
        v1: {},
        v2: {},
        v3: { files: { EXTRA: 'yes' } },
      },
      router: {
        config: {
          kind: 'builtin',
          listen: `127.0.0.1:${port}`,
          workers: 2,
          mirror: { percent: 100, compare: { ignore: ['$.timestamp', '$.items[*].id'] } },
        },
        url: `http://127.0.0.1:${port}`,
      },
      platform: {
        kind: 'process',
        command: process.execPath,
        args: [APP],
        cwd: 'releases/${RELEASE}',
        env: { PORT: '${PORT}' },
        instances: 1,
        stopGrace: '2s',
      },
      extraYaml: [
        'analysis:',
        '  interval: 500ms',
        '  shadow: { duration: 3s, minCompared: 20, maxDifferenceRate: 1% }',
      ].join('\n'),
    });
    await h().startServer();
    const first = await h().cli(['deploy', 'v1']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.doesNotMatch(first.stdout, /comparing/, 'a first deploy has nothing to compare with');
  });
  after(async () => {
    await harness?.teardown();
  });

  const latest = () => latestDeployment(h());
  /** GETs under load on /api, and POSTs one after another, while `run` runs. */
  const underLoad = async <T>(run: () => Promise<T>): Promise<{ result: T; posts: string[] }> => {
    const load: RunningLoad = startLoad({ url: `${h().trafficUrl}/api`, connections: 10, errorBackoffMs: 5 });
    const posts: string[] = [];
    let posting = true;
    const poster = (async () => {
      while (posting) posts.push(await post(`${h().trafficUrl}/orders`));
    })();
    try {
      return { result: await run(), posts };
    } finally {
      posting = false;
      await poster;
      const stats = await load.stop();
      assert.equal(stats.failed, 0, `live requests failed: ${stats.firstErrors.join('; ')}`);
    }
  };
  const get = async (route: string): Promise<string> => (await fetch(`${h().trafficUrl}${route}`)).text();

  void it('a v2 differing only in ignored paths passes the shadow stage and promotes; no POST reached it meanwhile', async () => {
    const { result: done, posts } = await underLoad(() => h().cli(['deploy', 'v2']));
    assert.equal(done.code, 0, done.stdout + done.stderr);
    assert.match(done.stdout, /comparing v2's answers with v1's on mirrored requests for 3s/);
    assert.match(
      done.stdout,
      /analysis pass \(shadow\): shadow: \d+ mirrored requests compared on green, 0 differing, \d+ dropped \(difference rate: 0%, threshold 1%\)/,
    );
    const record = await latest();
    assert.ok(['promoted', 'draining', 'standby'].includes(record.phase), record.phase);
    assert.ok(posts.filter((body) => body === 'v1').length > 0, 'POSTs went to v1 during the shadow stage');
    // Every write v2 took was a live one it answered (after promotion): none came as a copy.
    const answeredByV2 = posts.filter((body) => body === 'v2').length;
    assert.equal(await get('/orders'), String(answeredByV2), 'v2 took no POST but those it answered live');
    const diff = await h().cli(['diff', '--json']);
    assert.equal(diff.code, 0, diff.stderr);
    const report = JSON.parse(diff.stdout) as { finding: { verdict: string }; samples: unknown[] };
    assert.equal(report.finding.verdict, 'pass');
    assert.deepEqual(report.samples, []);
  });

  void it('a v3 answering another field fails before promotion, traffic never leaving v2; cutover diff shows the pairs', async () => {
    const { result: done, posts } = await underLoad(() => h().cli(['deploy', 'v3']));
    assert.equal(done.code, 1, done.stdout + done.stderr);
    assert.match(
      done.stdout,
      /aborted: analysis failed in the shadow comparison before promotion: shadow: \d+ mirrored requests compared on blue, \d+ differing.*\(difference rate: 100%, threshold 1%\)/,
    );
    const record = await latest();
    assert.equal(record.phase, 'aborted');
    assert.equal(record.reason?.code, 'CUTOVER_E_ANALYSIS');
    assert.equal(record.reason?.analysis?.measure, 'difference rate');
    assert.equal(record.reason?.analysis?.observed, '100%');
    assert.ok(posts.length > 0 && posts.every((body) => body === 'v2'), 'every live request stayed on v2');

    const text = await h().cli(['diff', record.id]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /verdict: fail: shadow: /);
    assert.match(text.stdout, /GET \/api {2}\(/);
    assert.match(text.stdout, /status: live 200, shadow 200\n/);
    assert.match(text.stdout, /body \(JSON\) differs at: \$\.discount\n/);
    const json = await h().cli(['diff', '--json']);
    const report = JSON.parse(json.stdout) as {
      deployment: string;
      samples: Array<{ body: { kind: string; paths: string[] }; shadow: { body: string } }>;
    };
    assert.equal(report.deployment, record.id);
    assert.ok(report.samples.length > 0 && report.samples.length <= 20, `${report.samples.length} samples`);
    assert.deepEqual(report.samples[0]?.body, { kind: 'json', paths: ['$.discount'], more: false });
    assert.match(report.samples[0]?.shadow.body ?? '', /"discount":5/);
  });

  void it('the dashboard shows the aborted deployment’s shadow verdict and its differing pairs', async () => {
    const session = await logIn(h(), 'alice', h().token());
    assert.ok(session.cookie, `logged in (HTTP ${session.status})`);
    const [name, value] = session.cookie.split('=') as [string, string];
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      await context.addCookies([{ name, value, url: h().adminUrl }]);
      const page = await context.newPage();
      page.setDefaultTimeout(60_000);
      await page.goto(`${h().adminUrl}/`);
      await page.waitForSelector('#shadow-panel:not([hidden]) #shadow-verdict[data-verdict=fail]');
      assert.match((await page.textContent('#shadow-verdict')) ?? '', /difference rate: 100%, threshold 1%/);
      const first = page.locator('#shadow-samples .shadow-sample').first();
      assert.match(
        (await first.textContent()) ?? '',
        /GET \/api.*status: live 200, shadow 200.*body \(JSON\) differs at \$\.discount/s,
      );
      assert.match((await first.locator('.shadow-body').textContent()) ?? '', /"discount":5/);
    } finally {
      await browser.close();
    }
  });
});
