/**
 * Bundles the Custom::CutoverSwitch Lambda handler (src/cloudformation/lambda-entry.ts) with the
 * AWS SDK clients it needs into ONE file, so the function needs no layer and no node_modules:
 *
 *   node --import tsx scripts/bundle-cfn-handler.ts [OUTFILE]
 *
 * Default OUTFILE: dist/cfn-switch/index.mjs (handler: index.handler, runtime nodejs20.x).
 * Zip that one file and upload it, or point the example template's Code at it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function bundleCfnHandler(outfile: string): Promise<void> {
  await build({
    entryPoints: [path.join(root, 'src/cloudformation/lambda-entry.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Some SDK dependencies are CommonJS that require() Node built-ins: give the ESM bundle a require.
    banner: {
      js: "import { createRequire as __cutoverRequire } from 'node:module'; const require = __cutoverRequire(import.meta.url);",
    },
    legalComments: 'none',
    logLevel: 'warning',
  });
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outfile = path.resolve(process.argv[2] ?? path.join(root, 'dist/cfn-switch/index.mjs'));
  await bundleCfnHandler(outfile);
  process.stdout.write(`wrote ${outfile}\n`);
}
