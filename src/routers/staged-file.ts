import { rm } from 'node:fs/promises';
import { commitTempFile, writeTempFile } from '../shared/atomic-write.js';

/**
 * A candidate for `file`, written and fsynced next to it so it can be validated in place and
 * then swapped in with one rename (a crash leaves the old file or the new one, never half).
 */
export interface StagedFile {
  /** Where the candidate lives until commit. */
  readonly tempPath: string;
  /** Rename over the target and fsync the directory. */
  commit(): Promise<void>;
  /** Remove the candidate (after a rejection). Safe after commit. */
  discard(): Promise<void>;
}

/** `mode` is set with fchmod, so the umask cannot widen it (0600 for a file holding a secret). */
export function stageFile(file: string, content: string, mode = 0o644): StagedFile {
  const tempPath = writeTempFile(file, content, { mode });
  let committed = false;
  return {
    tempPath,
    commit: () => {
      commitTempFile(tempPath, file);
      committed = true;
      return Promise.resolve();
    },
    discard: async () => {
      if (!committed) await rm(tempPath, { force: true });
    },
  };
}
