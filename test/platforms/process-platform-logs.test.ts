/**
 * Instance logs are bounded on disk (rotated past platform.logs.maxBytes, at most
 * platform.logs.keep rotated files) and in memory (a tail reads at most LOG_TAIL_MAX_BYTES,
 * even from a file with no newline at all).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Logger, type LogRecord } from '../../src/shared/logger.js';
import { createProcessPlatform } from '../../src/platforms/process/process-platform.js';
import { CUT_LINE_MARK, LOG_TAIL_MAX_BYTES, tailLines } from '../../src/platforms/process/log-tail.js';
import { waitFor } from '../support/load.js';
import { makeProcessFixture, type ProcessFixture } from './process-fixture.js';

/** Listens on PORT and writes 1 KiB lines to stdout without pause: a log that grows fast. */
const CHATTY_APP = `
const http = require('node:http');
let n = 0;
setInterval(() => {
  for (let i = 0; i < 8; i += 1) process.stdout.write('line ' + String(n++).padStart(8, '0') + ' ' + 'x'.repeat(1000) + '\\n');
}, 5);
http.createServer((req, res) => res.end('chatty')).listen(Number(process.env.PORT), '127.0.0.1');
`;

const FIFTY_MB = 50 * 1024 * 1024;

/** Writes `bytes` bytes of 'a' (no newline) to `file`, ending with a known suffix. */
async function writeNewlineFree(file: string, bytes: number, suffix: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const block = Buffer.alloc(1024 * 1024, 'a');
    let left = bytes - suffix.length;
    while (left > 0) {
      const { bytesWritten } = await handle.write(block, 0, Math.min(block.length, left));
      left -= bytesWritten;
    }
    await handle.write(suffix);
  } finally {
    await handle.close();
  }
}

void describe('process platform: instance logs are bounded', () => {
  let fixture: ProcessFixture;
  before(async () => {
    fixture = await makeProcessFixture(['v1']);
    await writeFile(join(fixture.baseDir, 'chatty.cjs'), CHATTY_APP);
  });
  after(async () => {
    await fixture.cleanup();
  });

  void it('an instance writing more than logs.maxBytes gets rotated files, at most logs.keep of them', async () => {
    const events: LogRecord[] = [];
    const platform = createProcessPlatform(
      fixture.config({
        args: [join(fixture.baseDir, 'chatty.cjs')],
        logs: { maxBytes: 64 * 1024, keep: 2 },
        stopGrace: '1s',
      }),
      {
        app: 'test',
        baseDir: fixture.baseDir,
        stateDir: fixture.stateDir,
        logger: new Logger((record) => events.push(record)),
      },
    );
    try {
      const [instance] = await platform.provision('blue', 'v1');
      const file = instance!.logFile!;
      const rotations = () => events.filter((event) => event.event === 'process.log.rotated').length;
      // Four rotations: the oldest file has been dropped at least twice by then.
      await waitFor(() => rotations() >= 4, { timeoutMs: 30_000, what: 'four log rotations' });

      const logDir = join(fixture.stateDir, 'logs');
      const files = (await readdir(logDir)).filter((name) => name.startsWith('blue-0.log')).sort();
      assert.deepEqual(files, ['blue-0.log', 'blue-0.log.1', 'blue-0.log.2']);
      assert.equal(existsSync(`${file}.3`), false);
      // Rotated files hold whole lines of the app's output, in order.
      for (const rotated of [`${file}.2`, `${file}.1`]) {
        const lines = (await readFile(rotated, 'utf8')).split('\n').filter((line) => line !== '');
        assert.ok(lines.length > 0);
        const numbers = lines
          .filter((line) => line.startsWith('line '))
          .map((line) => Number(line.slice(5, 13)));
        assert.deepEqual(
          numbers,
          numbers.map((_n, i) => numbers[0]! + i),
        );
      }
      // logs() reads on into the rotated file when the current one is short of lines.
      const tail = await platform.logs('blue', { tail: 200 });
      assert.equal(tail.length, 200);
    } finally {
      await platform.destroy('blue');
      await platform.close();
    }
    const left = (await readdir(join(fixture.stateDir, 'logs'))).filter((name) => name.startsWith('blue-'));
    assert.deepEqual(left, [], 'destroy removes the rotated files too');
  });

  void it('a 50 MB log with no newline is tailed reading at most LOG_TAIL_MAX_BYTES of it', async () => {
    const file = join(fixture.baseDir, 'no-newline.log');
    await writeNewlineFree(file, FIFTY_MB, 'THE-END');

    const tail = await tailLines(file, 100);

    assert.ok(tail.bytesRead <= LOG_TAIL_MAX_BYTES, `read ${tail.bytesRead} bytes`);
    assert.equal(tail.lines.length, 1);
    const [line] = tail.lines;
    assert.ok(line!.startsWith(CUT_LINE_MARK));
    assert.ok(line!.endsWith('aaaaTHE-END'));
    assert.equal(line!.length, CUT_LINE_MARK.length + tail.bytesRead);
  });

  void it('logs() of an instance whose 50 MB log has no newline returns a bounded line', async () => {
    const logDir = join(fixture.stateDir, 'logs');
    await mkdir(logDir, { recursive: true });
    await writeNewlineFree(join(logDir, 'green-0.log'), FIFTY_MB, 'TAIL');
    const platform = fixture.platform();

    const lines = await platform.logs('green', { tail: 10 });

    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.line.length <= CUT_LINE_MARK.length + LOG_TAIL_MAX_BYTES);
    assert.ok(lines[0]!.line.endsWith('TAIL'));
    await platform.destroy('green');
  });

  void it('a tail stops at whole lines and cuts only a line longer than the byte budget', async () => {
    const file = join(fixture.baseDir, 'lines.log');
    await writeFile(file, ['first', 'second', 'é'.repeat(100), 'last'].join('\n') + '\n');

    assert.deepEqual((await tailLines(file, 2)).lines, ['é'.repeat(100), 'last']);
    // 107 bytes from the end: 'last\n', the é line's '\n' and 101 bytes of it, which start
    // mid-character (é is 2 bytes): the half character is skipped, the line marked as cut.
    const cut = await tailLines(file, 3, 107);
    assert.deepEqual(cut.lines, [`${CUT_LINE_MARK}${'é'.repeat(50)}`, 'last']);
    assert.equal(cut.bytesRead, 107);
  });
});
