/**
 * One real `cutover server` for the dashboard tests: the e2e app, a shift strategy that stops
 * at a manual gate at 50 %, v1 live on blue. Also a login helper that speaks to it like a
 * browser does (form post with the listener's own Origin).
 */
import { CutoverHarness } from '../e2e/harness.js';

export const SHIFT_YAML = [
  'strategy:',
  '  kind: shift',
  '  steps:',
  '    - { weight: 25, pause: 300ms }',
  '    - { weight: 50, gate: manual }',
  '    - { weight: 100 }',
].join('\n');

export async function startDashboardServer(): Promise<CutoverHarness> {
  const harness = await CutoverHarness.create({
    releases: { v1: {}, v2: {}, v3: { files: { FAIL_REQUESTS: '1' } } },
    extraYaml: SHIFT_YAML,
    instances: 1,
  });
  try {
    await harness.startServer();
    const { body } = await harness.api<{ deployment: { id: string } }>('POST', '/v1/deployments', {
      release: 'v1',
      requestedBy: 'setup',
    });
    await harness.waitForPhase(body.deployment.id, ['awaiting-promotion', 'shifting', 'standby', 'retired']);
    // The first deploy has no old slot: a gate there is opened by the setup, not the test.
    const reached = await harness.phaseOf(body.deployment.id);
    if (reached === 'awaiting-promotion' || reached === 'shifting') {
      await harness.api('POST', `/v1/deployments/${body.deployment.id}/promote`, { requestedBy: 'setup' });
    }
    await harness.waitForPhase(body.deployment.id, ['standby', 'retired']);
    return harness;
  } catch (error) {
    await harness.teardown();
    throw error;
  }
}

/** Logs in with a form post as a browser on the dashboard's own page would; returns the session cookie. */
export async function logIn(
  harness: CutoverHarness,
  user: string,
  secret: string,
): Promise<{
  status: number;
  cookie: string | undefined;
  setCookie: string | null;
  location: string | null;
}> {
  const response = await fetch(`${harness.adminUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: harness.adminUrl },
    body: new URLSearchParams({ user, secret }).toString(),
  });
  await response.arrayBuffer();
  const setCookie = response.headers.get('set-cookie');
  return {
    status: response.status,
    cookie: setCookie?.split(';')[0],
    setCookie,
    location: response.headers.get('location'),
  };
}

/** The CSRF token the page gets in its HTML. */
export async function csrfTokenOf(harness: CutoverHarness, cookie: string): Promise<string> {
  const html = await (await fetch(`${harness.adminUrl}/`, { headers: { cookie } })).text();
  const match = /<meta name="csrf-token" content="([^"]+)">/.exec(html);
  if (!match) throw new Error(`no CSRF token in the page:\n${html.slice(0, 500)}`);
  return match[1]!;
}
