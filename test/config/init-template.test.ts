import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_SCHEMA_PATH, initTemplate, toAppName } from '../../src/config/init-template.js';
import { loadConfig } from '../../src/config/load.js';
import { isCutoverError } from '../../src/shared/errors.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-init-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

void test('the init template loads as it stands, with the defaults written out', async () => {
  const file = path.join(dir, 'cutover.yml');
  await writeFile(file, initTemplate({ app: 'shop-api' }));
  const config = loadConfig(file);
  assert.equal(config.app, 'shop-api');
  assert.equal(config.router.kind, 'builtin');
  assert.equal(config.platform.kind, 'process');
  assert.deepEqual(config.platform.args, ['server.js', '--port', '${PORT}']);
  assert.equal(config.platform.cwd, 'releases/${RELEASE}');
  assert.deepEqual(config.strategy, { kind: 'switch', promotion: 'auto' });
  assert.equal(config.rollbackWindow, 15 * 60_000);
  assert.equal(config.router.kind === 'builtin' && config.router.clientIdleTimeout, 75_000);
});

void test('the first line points editors at the JSON Schema', () => {
  const first = initTemplate({ app: 'web' }).split('\n')[0];
  assert.equal(first, `# yaml-language-server: $schema=${DEFAULT_SCHEMA_PATH}`);
  assert.equal(
    initTemplate({ app: 'web', schemaPath: '../schema/cutover.schema.json' }).split('\n')[0],
    '# yaml-language-server: $schema=../schema/cutover.schema.json',
  );
});

void test('the template explains every section and placeholder', () => {
  const text = initTemplate({ app: 'web' });
  for (const word of [
    'router:',
    'platform:',
    'health:',
    'strategy:',
    'drain:',
    'rollbackWindow:',
    'hooks:',
    'admin:',
    'allowRemote',
    '${PORT}',
    '${RELEASE}',
    '${SLOT}',
    '${INSTANCE}',
    'switch',
    'shift',
    'nginx',
    'haproxy',
    'varnish',
    'caddy',
  ]) {
    assert.ok(text.includes(word), `template does not mention ${word}`);
  }
});

void test('its commented examples are valid once uncommented', async () => {
  // The shift strategy example: uncomment the block after "# For example:" under strategy.
  const text = initTemplate({ app: 'web' });
  const lines = text.split('\n');
  const start = lines.indexOf('# strategy:');
  assert.ok(start > 0, 'the template shows a shift example');
  const example: string[] = [];
  for (let i = start; i < lines.length && lines[i]!.startsWith('#'); i++) example.push(lines[i]!.slice(2));
  const withoutStrategy = text.replace(/^strategy:\n(?: {2}.*\n)+/m, '');
  const file = path.join(dir, 'shift.yml');
  await writeFile(file, `${withoutStrategy}\n${example.join('\n')}\n`);
  const config = loadConfig(file);
  assert.equal(config.strategy.kind, 'shift');
});

void test('an invalid app name is refused with a suggestion', () => {
  assert.throws(
    () => initTemplate({ app: 'My App' }),
    (error: unknown) => isCutoverError(error, 'CUTOVER_E_USAGE') && error.message.includes('e.g. "my-app"'),
  );
});

void test('toAppName turns folder names into valid app names', () => {
  assert.equal(toAppName('My_Web App'), 'my-web-app');
  assert.equal(toAppName('--shop--'), 'shop');
  assert.equal(toAppName('日本'), 'app');
  assert.equal(toAppName('x'.repeat(80)).length, 63);
});
