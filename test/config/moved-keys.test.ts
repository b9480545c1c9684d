/**
 * Settings that moved under the plug-in that reads them (src/config/moved-keys.ts): the old
 * place still loads and behaves the same with a deprecation naming file, line, old and new
 * key; both places set, or the old key where its plug-in is not used, is an error.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { parseConfigText } from '../../src/config/load.js';
import { startControlServer } from '../../src/server/control-server.js';
import { isCutoverError } from '../../src/shared/errors.js';
import { Logger } from '../../src/shared/logger.js';
import { freePort } from '../support/daemons/common.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BASE = 'app: web\nplatform: { kind: process, command: node }\n';

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-moved-keys-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const parse = (text: string) => parseConfigText(text, path.join(dir, 'cutover.yml'), 'cutover.yml');

function configErrorOf(text: string): string {
  try {
    parse(text);
  } catch (error) {
    assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), String(error));
    return error.message;
  }
  assert.fail('the config loaded, but it should not have');
}

void describe('listen moved to router.listen (router kind builtin)', () => {
  void test('TheOldListen_LoadsAsRouterListen_WithADeprecationNamingFileLineOldAndNewKey', () => {
    const config = parse(`${BASE}listen: 127.0.0.1:9080\n`);
    assert.equal(config.router.kind, 'builtin');
    assert.deepEqual(config.router.listen, { host: '127.0.0.1', port: 9080 });
    assert.equal('listen' in config, false, 'the old key is gone from the loaded config');
    assert.deepEqual(config.deprecations, [
      {
        line: 3,
        column: 1,
        oldKey: 'listen',
        newKey: 'router.listen',
        message: 'cutover.yml:3: `listen` is deprecated; use `router.listen` (router kind builtin)',
      },
    ]);
  });

  void test('TheOldListen_KeepsTheOtherBuiltinRouterSettings', () => {
    const config = parse(
      `listen: ":9081"\n${BASE}router:\n  kind: builtin\n  previewListen: 127.0.0.1:9082\n`,
    );
    assert.equal(config.router.kind, 'builtin');
    assert.deepEqual(config.router.listen, { host: '127.0.0.1', port: 9081 });
    assert.deepEqual(config.router.previewListen, { host: '127.0.0.1', port: 9082 });
    assert.equal(config.deprecations[0]?.line, 1);
  });

  void test('RouterListen_Loads_WithoutADeprecation', () => {
    const config = parse(`${BASE}router:\n  kind: builtin\n  listen: 0.0.0.0:9083\n`);
    assert.equal(config.router.kind, 'builtin');
    assert.deepEqual(config.router.listen, { host: '0.0.0.0', port: 9083 });
    assert.deepEqual(config.deprecations, []);
  });

  void test('ListenAndRouterListenBothSet_IsAConfigErrorNamingBoth', () => {
    const message = configErrorOf(`${BASE}listen: :9084\nrouter:\n  kind: builtin\n  listen: :9085\n`);
    assert.equal(
      message,
      'cutover.yml:3:1: listen: `listen` (deprecated) and `router.listen` are both set; keep only `router.listen`',
    );
  });

  void test('ListenWithANonBuiltinRouter_IsAClearConfigError', () => {
    const message = configErrorOf(
      `${BASE}listen: :9086\nrouter:\n  kind: nginx\n  config: /etc/nginx/nginx.conf\n  upstreamsFile: /etc/nginx/cutover.conf\n`,
    );
    assert.match(
      message,
      /^cutover\.yml:3:1: listen: `listen` is deprecated and belongs to router kind builtin \(now `router\.listen`\); router kind nginx does not read it: remove it/m,
    );
  });

  void test('AnInvalidOldListen_IsReportedAtTheOldKey', () => {
    const message = configErrorOf(`${BASE}listen: 8080\n`);
    assert.match(message, /^cutover\.yml:3:9: listen: expected host:port/);
  });

  void test('TheJsonSchema_MarksTheOldListenDeprecated_AndDescribesRouterListen', async () => {
    const schema = configJsonSchema() as {
      properties: { listen: Record<string, unknown>; router: { anyOf?: unknown[]; oneOf?: unknown[] } };
    };
    assert.equal(schema.properties.listen.deprecated, true);
    assert.match(String(schema.properties.listen.description), /use router\.listen/);
    const options = (schema.properties.router.oneOf ?? schema.properties.router.anyOf ?? []) as {
      properties: { kind: { const?: string }; listen?: Record<string, unknown> };
    }[];
    const builtin = options.find((option) => option.properties.kind.const === 'builtin');
    assert.ok(builtin?.properties.listen, 'router kind builtin has listen');
    assert.equal(builtin.properties.listen.deprecated, undefined);
    // The file editors read is the same schema.
    const onDisk = JSON.parse(await readFile(path.join(ROOT, 'schema/cutover.schema.json'), 'utf8')) as {
      properties: { listen: { deprecated?: boolean } };
    };
    assert.equal(onDisk.properties.listen.deprecated, true);
  });
});

void describe('a config with the old listen behaves the same', () => {
  void test('TheServer_TakesLiveTrafficOnTheOldListenAddress_AndLogsTheDeprecation', async () => {
    const folder = await mkdtemp(path.join(dir, 'server-'));
    const port = await freePort();
    const adminPort = await freePort();
    const file = path.join(folder, 'cutover.yml');
    await writeFile(
      file,
      `app: web\nlisten: 127.0.0.1:${port}\nadmin:\n  listen: 127.0.0.1:${adminPort}\nplatform: { kind: process, command: node }\n`,
    );
    const records: Record<string, unknown>[] = [];
    const logger = new Logger((record) => records.push(record), 'debug');
    const server = await startControlServer({ configFile: file, logger });
    try {
      assert.equal(server.trafficUrl, `http://127.0.0.1:${port}`);
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => {
          socket.destroy();
          resolve();
        });
        socket.on('error', reject);
      });
    } finally {
      await server.close();
    }
    const warning = records.find((record) => record.event === 'config.deprecated');
    assert.ok(warning, 'the server logs config.deprecated');
    assert.equal(warning.level, 'warn');
    assert.equal(warning.oldKey, 'listen');
    assert.equal(warning.newKey, 'router.listen');
    assert.equal(warning.line, 2);
    assert.equal(
      warning.message,
      `${file}:2: \`listen\` is deprecated; use \`router.listen\` (router kind builtin)`,
    );
  });

  void test('TheCli_PrintsTheDeprecationOnStderr', async () => {
    const folder = await mkdtemp(path.join(dir, 'cli-'));
    const file = path.join(folder, 'cutover.yml');
    await writeFile(
      file,
      `app: web\nlisten: 127.0.0.1:1\nadmin:\n  listen: 127.0.0.1:2\nplatform: { kind: process, command: node }\n`,
    );
    // No server runs: the verb fails after loading the config, and the warning is already out.
    const { stderr } = await new Promise<{ stderr: string }>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'history', '--json', '-c', file],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let text = '';
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.on('error', reject);
      child.on('close', () => resolve({ stderr: text }));
    });
    assert.ok(
      stderr.includes(
        `cutover: warning: ${file}:2: \`listen\` is deprecated; use \`router.listen\` (router kind builtin)\n`,
      ),
      stderr,
    );
  });
});
