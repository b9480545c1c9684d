import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Store } from '../../src/shared/store.js';
import { openSqliteStore } from '../../src/store/sqlite-store.js';
import { runStoreContract } from './contract.js';

runStoreContract({
  name: 'sqlite',
  setup: async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cutover-store-contract-'));
    const opened: Store[] = [];
    return {
      // One file per name, in a folder of its own that the store creates: the same name is
      // another connection to the same database, as a second cutover process would open.
      open: (name, options = {}) => {
        const store = openSqliteStore(join(dir, name, 'state.db'), options.now ? { now: options.now } : {});
        opened.push(store);
        return Promise.resolve(store);
      },
      teardown: async () => {
        for (const store of opened) await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});
