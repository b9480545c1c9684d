/**
 * The dashboard in real Chromium (Debian's, driven by playwright-core): one browser and one
 * cutover server shared by every case, run in order — log in, watch a deploy shift and stop at
 * its manual gate, promote, roll back, abort a release whose error rate rises, refuse what an
 * attacker's page would send. Screenshots go to docs/images/. The live-view lag is measured
 * (event time → DOM change) and printed, not asserted.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { CutoverHarness } from '../e2e/harness.js';
import { launchChromium } from '../support/chromium.js';
import { startLoad, type RunningLoad } from '../support/load.js';
import { startDashboardServer } from './dashboard-server.js';

const IMAGES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/images');
/** Generous: two cores shared with other test files. Every wait is for an event, not a sleep. */
const WAIT_MS = 60_000;

describe('dashboard in Chromium', () => {
  let harness: CutoverHarness;
  let browser: Browser;
  let page: Page;
  const requestedUrls: string[] = [];
  /** Event time → DOM time of each phase the page showed, in ms (recorded inside the page). */
  const lags: number[] = [];

  before(async () => {
    mkdirSync(IMAGES, { recursive: true });
    browser = await launchChromium();
    harness = await startDashboardServer();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    page.on('request', (request) => requestedUrls.push(request.url()));
    // Lag probe: each phase element's first appearance, against the engine time it carries.
    await page.exposeFunction('reportLag', (ms: number) => lags.push(ms));
    await page.addInitScript(() => {
      // Phases that happened before this page loaded are history, not lag.
      const loadedAt = Date.now();
      const seen = new Set<string>();
      const splits: string[] = [];
      (window as unknown as { seenSplits: string[] }).seenSplits = splits;
      const observer = new MutationObserver(() => {
        const now = Date.now();
        const green = document.querySelector<HTMLElement>('#split-bar')?.dataset.green;
        if (green !== undefined && splits.at(-1) !== green) splits.push(green);
        for (const item of document.querySelectorAll<HTMLElement>('#timeline li[data-phase]')) {
          const key = `${document.querySelector('#deployment code')?.textContent ?? ''}:${item.dataset.phase}`;
          if (seen.has(key) || !item.dataset.at) continue;
          seen.add(key);
          if (Date.parse(item.dataset.at) < loadedAt) continue;
          (window as unknown as { reportLag(ms: number): void }).reportLag(now - Date.parse(item.dataset.at));
        }
      });
      document.addEventListener('DOMContentLoaded', () =>
        observer.observe(document.body, { childList: true, subtree: true }),
      );
    });
  });

  after(async () => {
    await browser?.close();
    await harness?.teardown();
  });

  it('logs in with the admin token and sees both slots', async () => {
    await page.goto(`${harness.adminUrl}/`);
    await page.waitForURL(`${harness.adminUrl}/login`);
    await page.fill('#user', 'alice');
    await page.fill('#secret', harness.token());
    const [response] = await Promise.all([
      page.waitForResponse(
        (candidate) => candidate.url().endsWith('/login') && candidate.request().method() === 'POST',
      ),
      page.click('button[type=submit]'),
    ]);
    console.log('login response', response.status(), response.headers());
    await page.waitForURL(`${harness.adminUrl}/`);
    await page.waitForSelector('#connection[data-state=live]');
    await page.waitForSelector('#slot-blue [data-release=blue]:text("v1")');
    await page.waitForSelector('#slot-green');
    const cookies = await page.context().cookies();
    const session = cookies.find((cookie) => cookie.name === 'cutover_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.textContent('#user-name'), 'alice');
  });

  it('watches a deploy of v2 move through its phases and the split bar, and promotes it at the manual gate', async () => {
    const { body } = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
      release: 'v2',
      requestedBy: 'ci',
    });
    await page.waitForSelector(`#deployment code:text("${body.deployment.id}")`);
    await page.waitForSelector('#timeline li[data-phase=provisioning]');
    await page.waitForSelector('#timeline li[data-phase=verifying]');
    await page.waitForSelector('#timeline li[data-phase=shifting]');
    await page.waitForSelector('#split-bar[data-green="50"]');
    await page.waitForSelector('#gate');
    await page.waitForSelector('#slot-green #health-green:text("health 1/1 passing")');
    const splits = await page.evaluate(() => (window as unknown as { seenSplits: string[] }).seenSplits);
    assert.deepEqual(
      splits.slice(-3),
      ['0', '25', '50'],
      `the bar moved 0 → 25 → 50 (saw ${splits.join(', ')})`,
    );
    await page.screenshot({ path: path.join(IMAGES, 'dashboard-shift-gate.png'), fullPage: true });

    // By keyboard: focus the button, Enter opens the confirmation, Tab to Confirm, Enter.
    await page.focus('#action-promote');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open]');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#deployment-phase[data-phase=standby]');
    await page.waitForSelector('#split-bar[data-green="100"]');
    assert.equal(await harness.phaseOf(body.deployment.id), 'standby');
    await page.waitForSelector('#audit tr[data-action=promote] .actor:text("api:dashboard:alice")');
    await page.screenshot({ path: path.join(IMAGES, 'dashboard-standby.png'), fullPage: true });
  });

  it('rolls back from the browser', async () => {
    await confirmClick(page, '#action-rollback');
    await page.waitForSelector('#deployment-phase[data-phase=rolled-back]');
    await page.waitForSelector('#split-bar[data-blue="100"]');
    await page.waitForSelector('#audit tr[data-action=rollback] .actor:text("api:dashboard:alice")');
    const status = await harness.api<{ routing: { liveSlot: string } }>('GET', '/v1/status');
    assert.equal(status.body.routing.liveSlot, 'blue');
  });

  it("shows a failing release's error rate rising during the shift, and aborts it", async () => {
    let load: RunningLoad | undefined = startLoad({
      url: harness.trafficUrl,
      connections: 4,
      maxDurationMs: 120_000,
    });
    try {
      const { body } = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
        release: 'v3',
        requestedBy: 'ci',
      });
      await page.waitForSelector(`#deployment code:text("${body.deployment.id}")`);
      await page.waitForSelector('#gate');
      await page.waitForFunction(
        () =>
          Number(document.querySelector<HTMLElement>('#metrics-green [data-error-rate]')?.dataset.errorRate) >
          0.2,
      );
      const blueRate = await page.getAttribute('#metrics-blue [data-error-rate]', 'data-error-rate');
      assert.equal(Number(blueRate), 0, 'the old release answers without errors');
      await page.screenshot({ path: path.join(IMAGES, 'dashboard-failing-release.png'), fullPage: true });
      await confirmClick(page, '#action-abort');
      await page.waitForSelector('#deployment-phase[data-phase=aborted]');
      await page.waitForSelector('#failure-reason');
      await page.waitForSelector('#split-bar[data-blue="100"]');
      const stats = await load.stop();
      load = undefined;
      assert.ok(stats.non2xx > 0, `the failing release did take traffic: ${JSON.stringify(stats)}`);
      await page.waitForSelector('#audit tr[data-action=abort] .actor:text("api:dashboard:alice")');
    } finally {
      await load?.stop();
    }
  });

  it('deploys a known release from the browser', async () => {
    await page.selectOption('#deploy-release', 'v2');
    await confirmClick(page, '#action-deploy');
    await page.waitForSelector(
      '#deployment-release:text("v2") >> xpath=..  >> #deployment-phase[data-phase=shifting]',
    );
    await page.waitForSelector('#gate');
    const audit = await harness.api<{ audit: Array<{ action: string; actor: string; target: string }> }>(
      'GET',
      '/v1/audit',
    );
    const deploys = audit.body.audit.filter((entry) => entry.action === 'deploy' && entry.target === 'v2');
    assert.ok(
      deploys.some((entry) => entry.actor === 'api:dashboard:alice'),
      `a deploy of v2 audited as the browser user: ${JSON.stringify(deploys)}`,
    );
    await confirmClick(page, '#action-abort');
    await page.waitForSelector('#deployment-phase[data-phase=aborted]');
  });

  it('refuses a state-changing request without the CSRF token', async () => {
    const answer = await page.evaluate(async () => {
      const response = await fetch('/v1/abort', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      return { status: response.status, body: (await response.json()) as { error: { code: string } } };
    });
    assert.equal(answer.status, 403);
    assert.equal(answer.body.error.code, 'CUTOVER_E_FORBIDDEN');
  });

  it("refuses a POST from another origin's page, even one that carries the session cookie", async () => {
    // Another port on 127.0.0.1 is another origin but the same site: the SameSite=Strict cookie
    // goes along, so only the Origin check (and the missing CSRF token) stands in the way.
    const evil = http.createServer((request, response) => {
      if (request.url === '/evil.js') {
        response.writeHead(200, { 'content-type': 'text/javascript' });
        response.end('document.forms[0].submit();');
        return;
      }
      response.writeHead(200, { 'content-type': 'text/html' });
      // A text/plain form whose body is JSON: a "simple" request, so no CORS preflight protects it.
      response.end(
        `<!doctype html><title>evil</title><form method="post" enctype="text/plain" action="${harness.adminUrl}/v1/deployments"><input name='{"release":"v1","x":"' value='"}'></form><script src="/evil.js"></script>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const attacker = await page.context().newPage();
    try {
      const before = await harness.api<{ deployments: unknown[] }>('GET', '/v1/deployments');
      const [response] = await Promise.all([
        attacker.waitForResponse((candidate) => candidate.url() === `${harness.adminUrl}/v1/deployments`),
        attacker.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`),
      ]);
      assert.equal(response.status(), 403);
      const sent = await response.request().allHeaders();
      assert.match(sent.cookie ?? '', /cutover_session=/, 'the browser did send the session cookie');
      const afterwards = await harness.api<{ deployments: unknown[] }>('GET', '/v1/deployments');
      assert.equal(
        afterwards.body.deployments.length,
        before.body.deployments.length,
        'no deployment started',
      );
    } finally {
      await attacker.close();
      evil.closeAllConnections();
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  it('measures the live view lag (engine event time to DOM change), median of at least 20', async () => {
    while (lags.length < 20) {
      const { body } = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
        release: 'v2',
        requestedBy: 'lag-probe',
      });
      await harness.waitForPhase(body.deployment.id, ['shifting']);
      await page.waitForSelector('#gate');
      await harness.api('POST', `/v1/deployments/${body.deployment.id}/abort`, { requestedBy: 'lag-probe' });
      await harness.waitForPhase(body.deployment.id, ['aborted']);
      await page.waitForSelector(`#deployment-phase[data-phase=aborted]`);
    }
    const sorted = [...lags].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `dashboard live-view lag: median ${median} ms over ${sorted.length} phase changes (min ${sorted[0]} ms, max ${sorted.at(-1)} ms)`,
    );
    assert.ok(sorted.length >= 20);
  });

  it('never puts the admin token in a URL or the server log; screenshots of the main views', async () => {
    const token = harness.token();
    assert.ok(requestedUrls.length > 0);
    for (const url of requestedUrls) assert.ok(!url.includes(token), `the token is in ${url}`);
    assert.ok(!harness.serverLog.includes(token), 'the token is in the server log');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(IMAGES, 'dashboard-phone.png'), fullPage: true });
    const login = await browser.newPage();
    await login.goto(`${harness.adminUrl}/login`);
    await login.screenshot({ path: path.join(IMAGES, 'dashboard-login.png') });
    await login.close();
  });
});

/** Clicks an action button and confirms its dialog. */
async function confirmClick(page: Page, selector: string): Promise<void> {
  await page.click(selector);
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => !document.querySelector<HTMLDialogElement>('#confirm')?.open);
}
