/**
 * Preloaded by `node --import` (after tsx) when CUTOVER_MODULE_RECORD names a file: the URL of
 * every module the process loads goes there, one a line. ES modules as the loader resolves them
 * (module-record-hooks.ts, in the loader's thread); CommonJS ones, what a package require()s,
 * from the require cache at exit. test/cli/startup-imports.test.ts reads which packages a CLI
 * verb loaded.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.CUTOVER_MODULE_RECORD;
if (file !== undefined) {
  register('./module-record-hooks.ts', import.meta.url, { data: { file } });
  const { cache } = createRequire(import.meta.url);
  process.on('exit', () => {
    appendFileSync(
      file,
      Object.keys(cache)
        .map((loaded) => `${pathToFileURL(loaded).href}\n`)
        .join(''),
    );
  });
}
