/**
 * Where the VCL files cutover loads live. They hold the preview token, so they are not world
 * readable: mode 0640, group = the group of their folder. varnishd's VCL compiler runs as the
 * jail's user (Debian: vcache, group varnish), not as root, and reads them through that group;
 * varnishd's workdir is root:varnish, so a vclDir cutover makes in it gets group varnish too.
 * An operator who puts vclDir elsewhere gives it the group varnishd reads with
 * (`install -d -g varnish -m 0750 DIR`, docs/routers.md).
 */
import { chmodSync, chownSync, fchownSync, fstatSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../shared/atomic-write.js';
import { CutoverError } from '../../shared/errors.js';

const VCL_DIR_MODE = 0o750;
const VCL_FILE_MODE = 0o640;

/**
 * Makes vclDir when it is missing: mode 0750 and, when cutover runs as root (who may give any
 * group), the group of the folder it is made in. Any other user's folder gets that user's group;
 * a varnishd that cannot read it then says so when the VCL is loaded.
 */
export function prepareVclDir(dir: string): void {
  const made = mkdirSync(dir, { recursive: true, mode: VCL_DIR_MODE });
  if (made === undefined) return;
  const asRoot = process.getuid?.() === 0;
  const target = path.resolve(dir);
  const levels: string[] = [];
  for (let level = target; ; level = path.dirname(level)) {
    levels.unshift(level);
    if (level === path.resolve(made) || level === path.dirname(level)) break;
  }
  for (const level of levels) {
    if (asRoot) chownSync(level, -1, statSync(path.dirname(level)).gid);
    chmodSync(level, VCL_DIR_MODE);
  }
}

/** Durable write (shared/atomic-write.ts) of a VCL file, mode 0640 with its folder's group. */
export function writeVclFile(file: string, vcl: string): void {
  const dir = path.dirname(file);
  const group = statSync(dir).gid;
  writeFileAtomic(file, vcl, {
    mode: VCL_FILE_MODE,
    prepare: (fd) => {
      if (fstatSync(fd).gid === group) return;
      try {
        fchownSync(fd, -1, group);
      } catch (error) {
        throw new CutoverError(
          'CUTOVER_E_ROUTER',
          `cannot give ${file} the group of ${dir} (gid ${group}), which varnishd reads VCL with: ${(error as Error).message}; run cutover as a member of that group`,
          { cause: error },
        );
      }
    },
  });
}
