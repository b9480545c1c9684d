import { closeSync, fchmodSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

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
  const dir = path.dirname(file);
  const tempPath = path.join(
    dir,
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const fd = openSync(tempPath, 'w', mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  let committed = false;
  return {
    tempPath,
    commit: async () => {
      await rename(tempPath, file);
      committed = true;
      const dirFd = openSync(dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    },
    discard: async () => {
      if (!committed) await rm(tempPath, { force: true });
    },
  };
}
