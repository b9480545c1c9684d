import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import Database from 'better-sqlite3';

import { isCutoverError, type ErrorCode } from '../../src/shared/errors.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import type { Store } from '../../src/shared/store.js';

let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-store-err-'));
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function createOne(store: Store): Promise<void> {
  await store.createDeployment({
    id: 'd-1',
    app: 'shop',
    release: 'v2',
    fromSlot: 'blue',
    toSlot: 'green',
    fromRelease: 'v1',
    requestedBy: 'alice',
  });
}

interface ErrorCase {
  readonly name: string;
  /** Prepares the case's files and returns the store path to use. */
  readonly setup?: (caseDir: string) => string;
  readonly act: (file: string) => unknown;
  readonly code: ErrorCode;
  readonly message: RegExp;
}

/** Opens a store on `file`, runs `body`, closes it whatever happens. */
async function withStore(
  file: string,
  body: (store: Store) => Promise<unknown>,
  busyTimeoutMs?: number,
): Promise<void> {
  const store = openSqliteStore(file, busyTimeoutMs === undefined ? {} : { busyTimeoutMs });
  try {
    await body(store);
  } finally {
    await store.close();
  }
}

const CASES: readonly ErrorCase[] = [
  {
    name: 'parent of the store path is a file',
    setup: (caseDir) => {
      writeFileSync(join(caseDir, 'not-a-dir'), 'x');
      return join(caseDir, 'not-a-dir', 'state.db');
    },
    act: (file) => openSqliteStore(file),
    code: 'CUTOVER_E_STORE',
    message: /^cannot create the store's folder .*not-a-dir: .*(ENOTDIR|EEXIST)/,
  },
  {
    name: 'store path is a directory',
    setup: (caseDir) => {
      mkdirSync(join(caseDir, 'a-dir'));
      return join(caseDir, 'a-dir');
    },
    act: (file) => openSqliteStore(file),
    code: 'CUTOVER_E_STORE',
    message: /^cannot open the store: /,
  },
  {
    name: 'store path is not a SQLite file',
    setup: (caseDir) => {
      const file = join(caseDir, 'garbage.db');
      writeFileSync(file, 'this is not a database, just some text that is long enough '.repeat(20));
      return file;
    },
    act: (file) => openSqliteStore(file),
    code: 'CUTOVER_E_STORE',
    message: /^cannot open the store: file is not a database/,
  },
  {
    name: 'store written by a newer cutover',
    setup: (caseDir) => {
      const file = join(caseDir, 'newer.db');
      const raw = new Database(file);
      raw.pragma('user_version = 999');
      raw.close();
      return file;
    },
    act: (file) => openSqliteStore(file),
    code: 'CUTOVER_E_STORE',
    message: /schema version 999 is newer than this cutover understands .*: upgrade cutover/,
  },
  {
    name: 'another process holds the write lock past the busy timeout (nothing written)',
    act: (file) =>
      withStore(
        file,
        async (store) => {
          await createOne(store);
          const other = new Database(file);
          other.prepare('BEGIN IMMEDIATE').run();
          try {
            await store.transition('d-1', { expectedPhase: 'pending', to: 'provisioning' });
          } finally {
            other.prepare('ROLLBACK').run();
            other.close();
            assert.equal((await store.journal('d-1')).length, 1, 'the refused transition wrote nothing');
            assert.equal((await store.getDeployment('d-1'))?.phase, 'pending');
          }
        },
        50,
      ),
    code: 'CUTOVER_E_STORE',
    message: /^cannot move deployment d-1 from pending to provisioning: database is locked/,
  },
  {
    name: 'use after close',
    act: async (file) => {
      const store = openSqliteStore(file);
      await store.close();
      await store.listDeployments('shop');
    },
    code: 'CUTOVER_E_STORE',
    message: /^cannot list deployments of shop: the store is closed/,
  },
  {
    name: 'unknown deployment',
    act: (file) =>
      withStore(file, (store) => store.transition('d-404', { expectedPhase: 'pending', to: 'provisioning' })),
    code: 'CUTOVER_E_NOT_FOUND',
    message: /^deployment d-404 does not exist$/,
  },
  {
    name: 'a transition from a phase the record is not in',
    act: (file) =>
      withStore(file, async (store) => {
        await createOne(store);
        await store.transition('d-1', { expectedPhase: 'shifting', to: 'promoted' });
      }),
    code: 'CUTOVER_E_PHASE_CHANGED',
    message: /^deployment d-1 is pending, no longer shifting: not moved to promoted$/,
  },
  {
    name: 'a patch time that is not a time',
    act: (file) =>
      withStore(file, async (store) => {
        await createOne(store);
        await store.update('d-1', { standbyUntil: 'tomorrow-ish' });
      }),
    code: 'CUTOVER_E_INTERNAL',
    message: /^standbyUntil is not a valid time: "tomorrow-ish"$/,
  },
  {
    name: 'a negative busy timeout',
    act: (file) => openSqliteStore(file, { busyTimeoutMs: -1 }),
    code: 'CUTOVER_E_INTERNAL',
    message: /^busyTimeoutMs must be a whole number/,
  },
];

void describe('error mapping', () => {
  for (const [index, errorCase] of CASES.entries()) {
    void test(errorCase.name, async () => {
      const caseDir = join(dir, `case-${index}`);
      mkdirSync(caseDir);
      const file = errorCase.setup?.(caseDir) ?? join(caseDir, 'state.db');
      await assert.rejects(
        () => Promise.resolve().then(() => errorCase.act(file)),
        (error) => {
          assert.ok(isCutoverError(error), `a CutoverError, got ${String(error)}`);
          assert.equal(error.code, errorCase.code, error.message);
          assert.match(error.message, errorCase.message);
          assert.ok(!error.message.includes('\n'), 'one line');
          if (error.code === 'CUTOVER_E_STORE')
            assert.ok(error.message.endsWith(`(file ${file})`), error.message);
          return true;
        },
      );
    });
  }

  void test('store errors name the file and keep the SQLite error as cause', () => {
    const file = join(dir, 'cause', 'garbage.db');
    mkdirSync(join(dir, 'cause'));
    writeFileSync(file, 'not a database '.repeat(100));
    assert.throws(
      () => openSqliteStore(file),
      (error) =>
        isCutoverError(error, 'CUTOVER_E_STORE') &&
        error.message.endsWith(`(file ${file})`) &&
        error.details.file === file &&
        error.details.sqliteCode === 'SQLITE_NOTADB' &&
        error.cause instanceof Database.SqliteError,
    );
  });
});
