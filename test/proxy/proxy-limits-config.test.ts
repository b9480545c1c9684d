import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { DEFAULTS } from '../../src/config/defaults.js';
import { isCutoverError } from '../../src/shared/errors.js';

const BASE = ['app: web', 'platform:', '  kind: process', '  command: node', 'router:', '  kind: builtin'];

void describe('builtin router limits in cutover.yml', () => {
  let dir: string;
  let counter = 0;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-limits-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  async function write(routerLines: string[]): Promise<string> {
    const file = path.join(dir, `cutover-${++counter}.yml`);
    await writeFile(file, [...BASE, ...routerLines, ''].join('\n'));
    return file;
  }

  void it('defaults the body limits and the connection cap, and leaves buffering and mirroring off', async () => {
    const config = loadConfig(await write([]));
    assert.equal(config.router.kind, 'builtin');
    if (config.router.kind !== 'builtin') return;
    assert.equal(config.router.bodyTimeout, DEFAULTS.bodyTimeoutMs);
    assert.equal(config.router.bodyMinRate, DEFAULTS.bodyMinBytesPerSecond);
    assert.equal(config.router.bodyRateWindow, DEFAULTS.bodyRateWindowMs);
    assert.equal(config.router.maxConnections, DEFAULTS.maxClientConnections);
    assert.equal(config.router.requestBuffering, undefined);
    assert.equal(config.router.mirror, undefined);
  });

  const broken = [
    { lines: ['  bodyRateWindow: 500ms'], line: 7, key: 'router.bodyRateWindow', says: /at least 1s/ },
    { lines: ['  maxConnections: 0'], line: 7, key: 'router.maxConnections', says: /at least 1/ },
    { lines: ['  bodyMinRate: fast'], line: 7, key: 'router.bodyMinRate', says: /number/ },
    {
      lines: ['  requestBuffering:', '    maxBodyBytes: -1'],
      line: 8,
      key: 'router.requestBuffering.maxBodyBytes',
      says: /at least 1/,
    },
  ];
  for (const entry of broken) {
    void it(`names file, line and key for a bad ${entry.key}`, async () => {
      const file = await write(entry.lines);
      assert.throws(
        () => loadConfig(file),
        (error: unknown) => {
          assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'));
          const first = error.message.split('\n')[0]!;
          assert.ok(first.startsWith(`${file}:${entry.line}:`), first);
          assert.ok(first.includes(`${entry.key}:`), first);
          assert.match(first, entry.says);
          return true;
        },
      );
    });
  }
});
