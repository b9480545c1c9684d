import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { CutoverHarness } from './harness.js';

describe('bad input gets a one-line actionable error and loses nothing', () => {
  let harness: CutoverHarness;
  let goodConfig: string;

  before(async () => {
    harness = await CutoverHarness.create({
      releases: { v1: {}, crashing: { files: { EXIT_AT_ONCE: '1' } } },
    });
    goodConfig = readFileSync(harness.configFile, 'utf8');
    await harness.startServer();
    assert.equal((await harness.cli(['deploy', 'v1'])).code, 0);
  });
  after(() => harness.teardown());

  const broken: Array<[string, (yaml: string) => string, RegExp]> = [
    ['a YAML syntax error', (y) => `${y}\nhealth: [unclosed`, /cutover\.yml:\d+:\d+: YAML syntax error/],
    ['an unknown key', (y) => `${y}\nbogus: 1`, /cutover\.yml:\d+:1: bogus: unknown key/],
    [
      'a wrong type',
      (y) => y.replace(/instances: \d+/, 'instances: two'),
      /cutover\.yml:\d+:\d+: platform\.instances: /,
    ],
    [
      'a bad duration',
      (y) => y.replace('interval: 50ms', 'interval: 5x'),
      /cutover\.yml:\d+:\d+: health\.interval: "5x" is not a duration/,
    ],
  ];
  for (const [name, breakIt, expected] of broken) {
    it(`${name} in cutover.yml: exit 2, file:line:key in one line`, async () => {
      writeFileSync(harness.configFile, breakIt(goodConfig));
      try {
        const result = await harness.cli(['deploy', 'v1']);
        assert.equal(result.code, 2, result.stderr);
        assert.match(result.stderr, expected);
        assert.equal(result.stdout, '');
      } finally {
        writeFileSync(harness.configFile, goodConfig);
      }
    });
  }

  it('an unknown release: exit 2, nothing written to the store', async () => {
    const before = await deploymentsInStore(harness);
    const result = await harness.cli(['deploy', 'v9']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /release "v9" not found/);
    assert.equal(await deploymentsInStore(harness), before);
  });

  it('an app command that exits at once: exit 1, reason quotes its log, traffic stays on v1', async () => {
    const result = await harness.cli(['deploy', 'crashing']);
    assert.equal(result.code, 1, result.stderr + result.stdout);
    assert.match(result.stdout, /aborted: .*exited with code 1/);
    assert.match(result.stdout, /EXIT_AT_ONCE/);
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v1');
  });

  it('a port already in use: the server refuses to start with a message naming the key', async () => {
    await harness.stopServer();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(harness.trafficPort, '127.0.0.1', resolve));
    try {
      const result = await harness.cli(['server']);
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(
          `port 127\\.0\\.0\\.1:${harness.trafficPort} is already in use \\(router\\.listen in cutover\\.yml\\)`,
        ),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    await harness.startServer();
    assert.equal(await (await fetch(harness.trafficUrl)).text(), 'v1', 'the live slot kept serving');
  });
});

async function deploymentsInStore(harness: CutoverHarness): Promise<number> {
  const store = openSqliteStore(path.join(harness.stateDir, 'cutover.db'));
  try {
    return (await store.listDeployments('e2e')).length;
  } finally {
    await store.close();
  }
}
