/**
 * The smoke-test recipe the init template documents, run as the engine runs a smoke hook
 * (/bin/sh, real curl, the environment smokeHookEnv builds from the router's preview route)
 * against every router's real data plane: it reaches the idle slot and only the idle slot.
 * And the other side: a wrong or missing preview token never reaches the idle slot on any
 * router; every router answers such a request from the live slot (none refuses it).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { initTemplate } from '../../src/config/init-template.js';
import { runHook } from '../../src/engine/hook-runner.js';
import { silentLogger } from '../../src/shared/logger.js';
import { smokeHookEnv } from '../../src/engine/preview-env.js';
import { weightsAllOn, type SlotTargets } from '../../src/shared/slot.js';
import { createBuiltinRouter } from '../../src/routers/builtin/builtin-router.js';
import { builtinRouterConfig } from '../../src/routers/builtin/config.js';
import type { PreviewRoute, Router } from '../../src/shared/router.js';
import { startVersionBackend, type VersionBackend } from '../support/backend.js';
import { startCaddyHarness } from '../support/daemons/caddy.js';
import { requireBinary } from '../support/daemons/common.js';
import { startHaproxyHarness } from '../support/daemons/haproxy.js';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { startVarnishHarness } from '../support/daemons/varnish.js';

const CASE_TIMEOUT_MS = 60_000;
const PREVIEW_HEADER = 'x-cutover-preview';
/** Each request of the recipe must land on the idle slot; a few in a row show it is not luck. */
const RECIPE_RUNS = 5;

/** The smoke command exactly as the init template shows it. */
function documentedRecipe(): string {
  const line = /^\s*# smoke: (.+)$/m.exec(initTemplate({ app: 'recipe' }))?.[1];
  if (line === undefined) throw new Error('the init template shows no smoke recipe');
  return line;
}

interface RecipeHarness {
  readonly router: Router;
  readonly previewToken: string;
  /** Where live traffic enters (after open()): wrong tokens are sent here. */
  readonly publicUrl: string;
  teardown(): Promise<void>;
}

/** The builtin router, with or without its preview listener (where PREVIEW_HEADER is empty). */
function builtin(previewListen?: string): () => Promise<RecipeHarness> {
  return () => {
    const previewToken = randomBytes(32).toString('base64url');
    const router = createBuiltinRouter(
      builtinRouterConfig.parse({ kind: 'builtin', listen: '127.0.0.1:0', previewListen }),
      {
        logger: silentLogger,
        previewToken,
      },
    );
    return Promise.resolve({
      router,
      previewToken,
      get publicUrl() {
        return `http://127.0.0.1:${router.address().live.port}/`;
      },
      teardown: () => router.close(),
    });
  };
}

const ROUTERS: Record<string, () => Promise<RecipeHarness>> = {
  builtin: builtin(),
  'builtin with previewListen': builtin('127.0.0.1:0'),
  nginx: startNginxHarness,
  haproxy: () => startHaproxyHarness(),
  varnish: () => startVarnishHarness(),
  caddy: () => startCaddyHarness(),
};

for (const [kind, start] of Object.entries(ROUTERS)) {
  void describe(`preview recipe: ${kind}`, () => {
    let harness: RecipeHarness | undefined;
    let route: PreviewRoute;
    const backends: VersionBackend[] = [];

    before(async () => {
      requireBinary('curl', 'curl');
      for (const version of ['blue-1', 'green-1']) backends.push(await startVersionBackend(version));
      const targets: SlotTargets = {
        blue: [{ id: 'blue-1', host: '127.0.0.1', port: backends[0]!.port }],
        green: [{ id: 'green-1', host: '127.0.0.1', port: backends[1]!.port }],
      };
      harness = await start();
      await harness.router.open();
      await harness.router.prepare(targets);
      await harness.router.setWeights(weightsAllOn('blue'));
      route = await harness.router.preview('green');
    });

    after(async () => {
      if (harness !== undefined) {
        await harness.router.close();
        await harness.teardown();
      }
      await Promise.all(backends.map((backend) => backend.close()));
    });

    /** Runs `command` the way the engine runs the smoke hook, with the smoke hook's env plus `extra`. */
    const shell = (command: string, extra: Record<string, string> = {}) =>
      runHook({
        name: 'smoke',
        command,
        cwd: process.cwd(),
        env: { ...smokeHookEnv(route), ...extra },
        timeoutMs: 20_000,
        killGraceMs: 0,
      });

    void it(
      'the documented smoke recipe reaches the idle slot, and only it',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const recipe = documentedRecipe();
        assert.match(recipe, /\$PREVIEW_HEADER\b/);
        for (let run = 0; run < RECIPE_RUNS; run += 1) {
          assert.equal((await shell(recipe)).trim(), 'green-1', `run ${run + 1} of the recipe`);
        }
        const { PREVIEW_HEADER: sent } = smokeHookEnv(route);
        if (Object.keys(route.headers).length === 0) {
          // The preview listener: a URL of its own, an empty header that curl ignores.
          assert.equal(sent, '');
          assert.notEqual(route.url.replace(/\/$/, ''), harness!.publicUrl.replace(/\/$/, ''));
        } else {
          // The header the recipe sent carries the app's preview token.
          assert.ok(sent.includes(harness!.previewToken), sent);
        }
      },
    );

    void it(
      'PREVIEW_CURL_ARGS spliced into curl reaches the idle slot too',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        assert.equal((await shell('curl -fsS $PREVIEW_CURL_ARGS "$PREVIEW_URL/healthz"')).trim(), 'green-1');
      },
    );

    void it(
      'a missing or wrong preview token never reaches the idle slot: the live slot answers',
      { timeout: CASE_TIMEOUT_MS },
      async () => {
        const token = harness!.previewToken;
        // The header the route uses; the preview listener needs none, its live listener this one.
        const [name, value] = Object.entries(route.headers)[0] ?? [PREVIEW_HEADER, token];
        const flipped = `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
        const wrongValues = [
          'green',
          'blue',
          '1',
          'true',
          'green:',
          `green:${randomBytes(32).toString('base64url')}`,
          randomBytes(32).toString('base64url'),
          flipped,
          value.toUpperCase(),
          value.toLowerCase(),
          `${value}x`,
          `x${value}`,
          value.slice(0, -1),
          // Varnish and Caddy want `<slot>:<token>`: the bare token is a wrong value there.
          ...(value === token ? [] : [token]),
        ].filter((wrong) => wrong !== value);
        const publicUrl = harness!.publicUrl.replace(/\/$/, '');
        assert.equal(
          (await shell('curl -fsS "$PUBLIC_URL/healthz"', { PUBLIC_URL: publicUrl })).trim(),
          'blue-1',
          'no preview header',
        );
        for (const wrong of wrongValues) {
          const answer = await shell('curl -fsS -H "$WRONG_HEADER" "$PUBLIC_URL/healthz"', {
            PUBLIC_URL: publicUrl,
            WRONG_HEADER: `${name}: ${wrong}`,
          });
          assert.equal(answer.trim(), 'blue-1', `preview header value "${wrong}"`);
        }
      },
    );
  });
}
