import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type DurableWriteOptions,
  writeFileAtomic,
  writeFileAtomicAsync,
} from '../../src/shared/atomic-write.js';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./fixtures/durable-write-child.ts', import.meta.url));

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cutover-durable-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const dir = path.join(root, `case-${++counter}`);
  await mkdir(dir);
  return dir;
}

const temps = async (dir: string): Promise<string[]> =>
  (await readdir(dir)).filter((name) => name.endsWith('.tmp'));

/** Runs the child writer; resolves with how it ended (a SIGKILL is not a failure here). */
async function child(args: string[], prefix: string[] = []): Promise<{ signal: string | null }> {
  const argv = [...prefix, process.execPath, '--import', 'tsx', CHILD, ...args];
  try {
    await run(argv[0]!, argv.slice(1), { cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    return { signal: null };
  } catch (error) {
    const failed = error as { signal?: string | null; stderr?: string };
    if (failed.signal) return { signal: failed.signal };
    throw error;
  }
}

const variants = [
  {
    name: 'writeFileAtomic',
    // A throw becomes a rejection, as with the async variant.
    write: (file: string, content: string, options: DurableWriteOptions = {}) =>
      new Promise<void>((resolve) => {
        writeFileAtomic(file, content, options);
        resolve();
      }),
  },
  { name: 'writeFileAtomicAsync', write: writeFileAtomicAsync },
] as const;

for (const { name, write } of variants) {
  void describe(name, () => {
    void it('replaces the content and leaves no temp file', async () => {
      const dir = await freshDir();
      const file = path.join(dir, 'state.json');
      await write(file, 'one\n');
      await write(file, 'two\n');
      assert.equal(await readFile(file, 'utf8'), 'two\n');
      assert.deepEqual(await temps(dir), []);
    });

    void it('gives the file exactly the mode asked under umask 000', async () => {
      const dir = await freshDir();
      const previous = process.umask(0o000);
      try {
        await write(path.join(dir, 'default'), 'x');
        await write(path.join(dir, 'private'), 'x', { mode: 0o600 });
        await write(path.join(dir, 'group'), 'x', { mode: 0o640 });
      } finally {
        process.umask(previous);
      }
      assert.equal((await stat(path.join(dir, 'default'))).mode & 0o777, 0o644);
      assert.equal((await stat(path.join(dir, 'private'))).mode & 0o777, 0o600);
      assert.equal((await stat(path.join(dir, 'group'))).mode & 0o777, 0o640);
    });

    void it('narrows an existing wider file to the mode asked', async () => {
      const dir = await freshDir();
      const file = path.join(dir, 'token');
      await writeFile(file, 'old', { mode: 0o666 });
      await write(file, 'new', { mode: 0o600 });
      assert.equal((await stat(file)).mode & 0o777, 0o600);
    });

    void it('leaves the target unchanged and removes the temp file when preparing the temp fails', async () => {
      const dir = await freshDir();
      const file = path.join(dir, 'state.json');
      await write(file, 'old');
      await assert.rejects(
        write(file, 'new', {
          prepare: () => {
            throw new Error('no group for you');
          },
        }),
        /no group for you/,
      );
      assert.equal(await readFile(file, 'utf8'), 'old');
      assert.deepEqual(await temps(dir), []);
    });

    void it('leaves the target unchanged and removes the temp file when the rename fails', async () => {
      const dir = await freshDir();
      // A non-empty directory cannot be renamed over: the swap fails after the temp is written.
      const target = path.join(dir, 'occupied');
      await mkdir(target);
      await writeFile(path.join(target, 'inside'), 'kept');
      await assert.rejects(write(target, 'new'), { code: 'EISDIR' });
      assert.equal(await readFile(path.join(target, 'inside'), 'utf8'), 'kept');
      assert.deepEqual(await temps(dir), []);
    });

    void it('makes the directory when it is missing', async () => {
      const dir = await freshDir();
      const file = path.join(dir, 'a', 'b', 'state.json');
      await write(file, 'x');
      assert.equal(await readFile(file, 'utf8'), 'x');
    });
  });
}

void describe('durable writes across processes', () => {
  void it('a writer killed before the rename leaves the old content, and its leftover temp does not break the next write', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'state.json');
    writeFileAtomic(file, 'old');
    const crashed = await child([file, 'half', 'crash-after-written']);
    assert.equal(crashed.signal, 'SIGKILL');
    assert.equal(await readFile(file, 'utf8'), 'old');
    const [leftover] = await temps(dir);
    assert.ok(leftover, 'the killed writer left its synced temp file');
    assert.equal(await readFile(path.join(dir, leftover), 'utf8'), 'half');

    writeFileAtomic(file, 'next');
    await writeFileAtomicAsync(file, 'after');
    assert.equal(await readFile(file, 'utf8'), 'after');
    assert.deepEqual(await temps(dir), [leftover], 'only the dead writer’s temp file is left');
  });

  void it('fsyncs the directory after the rename (seen with strace)', async () => {
    const dir = await freshDir();
    const file = path.join(dir, 'state.json');
    const trace = path.join(dir, '..', `strace-${counter}.txt`);
    const strace = await run('sh', ['-c', 'command -v strace']).catch(() => undefined);
    assert.ok(strace, 'strace is missing: run scripts/install-test-deps.sh (apt-get install -y strace)');
    await child(
      [file, 'content', 'write'],
      ['strace', '-f', '-qq', '-e', 'trace=openat,rename,renameat,renameat2,fsync', '-o', trace],
    );
    const lines = (await readFile(trace, 'utf8')).split('\n');
    const renamed = lines.findIndex((line) => /rename/.test(line) && line.includes(`"${file}"`));
    assert.ok(renamed >= 0, `no rename onto ${file} in the trace`);
    const opened = lines.findIndex(
      (line, index) => index > renamed && line.includes('openat(') && line.includes(`"${dir}"`),
    );
    assert.ok(opened > renamed, `the directory ${dir} is not opened after the rename`);
    const fd = /= (\d+)\s*$/.exec(lines[opened]!)?.[1];
    assert.ok(fd !== undefined, `cannot read the descriptor from: ${lines[opened]}`);
    assert.ok(
      lines.slice(opened + 1).some((line) => new RegExp(`fsync\\(${fd}\\)\\s+= 0`).test(line)),
      `the directory descriptor ${fd} is never fsynced`,
    );
  });
});
