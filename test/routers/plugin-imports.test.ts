/**
 * Plug-in folders stay plug-ins: a router folder imports its own files, the shared router
 * helpers and interfaces in src/routers/*.ts, and the shared vocabulary — never another
 * router's folder and never the engine, the server or the CLI. A platform folder never imports
 * another platform's folder or the engine either. Read from the source, so a new import that
 * breaks the rule fails here, naming the file and the import.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * What a router folder may import outside itself (paths relative to src/, without .js/.ts):
 * everything in src/shared/ (slots, errors, events, the Router/Platform/Store interfaces …) and
 * the config field types.
 */
const SHARED_VOCABULARY = [/^shared\/[^/]+$/, /^config\/fields$/, /^config\/defaults$/];

/** Plumbing shared by the AWS plug-ins (connection settings, tags, waits); only they import it. */
const AWS_PLUMBING = /^aws\/[^/]+$/;
const AWS_PLUGINS = new Set(['aws-asg', 'aws-elb', 'aws-target-group', 'route53', 'aws-alb']);

/** The engine, the server and the CLI: no plug-in folder reaches up into them. */
const ENGINE = [/^engine\//, /^server\//, /^cli\//];

interface Import {
  readonly file: string;
  readonly specifier: string;
  /** Resolved relative to src/, without extension; undefined for a package (zod, node:fs …). */
  readonly target: string | undefined;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') ? [full] : [];
  });
}

/** Static `from '…'`, side-effect `import '…'` and dynamic `import('…')`. */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const pattern = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;
  return [...text.matchAll(pattern)].map((match) => {
    const specifier = match[1]!;
    const target = specifier.startsWith('.')
      ? path
          .relative(SRC, path.resolve(path.dirname(file), specifier))
          .replace(/\.(js|ts)$/, '')
          .split(path.sep)
          .join('/')
      : undefined;
    return { file: path.relative(SRC, file), specifier, target };
  });
}

function pluginFolders(kind: 'routers' | 'platforms'): string[] {
  const root = path.join(SRC, kind);
  return readdirSync(root).filter((name) => statSync(path.join(root, name)).isDirectory());
}

/** Every import of a plug-in folder's files that breaks `allowed`, as "file: specifier (why)". */
function violations(
  kind: 'routers' | 'platforms',
  allowed: (folder: string, target: string) => string | undefined,
) {
  const found: string[] = [];
  for (const folder of pluginFolders(kind)) {
    for (const file of sourceFiles(path.join(SRC, kind, folder))) {
      for (const entry of importsOf(file)) {
        if (entry.target === undefined) continue;
        const why = allowed(folder, entry.target);
        if (why !== undefined) found.push(`${entry.file}: '${entry.specifier}' (${why})`);
      }
    }
  }
  return found;
}

function crossFolderOrEngine(
  kind: 'routers' | 'platforms',
  folder: string,
  target: string,
): string | undefined {
  const own = `${kind}/${folder}/`;
  if (target.startsWith(own)) return undefined;
  const other = pluginFolders(kind).find((name) => target.startsWith(`${kind}/${name}/`));
  if (other !== undefined) return `another ${kind.slice(0, -1)}'s folder: ${other}`;
  if (ENGINE.some((pattern) => pattern.test(target))) return 'the engine, server or CLI';
  return undefined;
}

function routerRule(folder: string, target: string): string | undefined {
  const broken = crossFolderOrEngine('routers', folder, target);
  if (broken !== undefined) return broken;
  if (target.startsWith(`routers/${folder}/`)) return undefined;
  // Shared router helpers and the Router interface, one level up.
  if (/^routers\/[^/]+$/.test(target)) return undefined;
  if (SHARED_VOCABULARY.some((pattern) => pattern.test(target))) return undefined;
  // The builtin router's data plane is cutover's own proxy.
  if (folder === 'builtin' && target.startsWith('proxy/')) return undefined;
  if (AWS_PLUGINS.has(folder) && AWS_PLUMBING.test(target)) return undefined;
  return 'not in the shared vocabulary';
}

void test('NoRouterFolder_ImportsAnotherRoutersFolder_OrTheEngine_OnlyTheSharedVocabulary', () => {
  assert.deepEqual(violations('routers', routerRule), []);
});

void test('NoPlatformFolder_ImportsAnotherPlatformsFolder_OrTheEngine', () => {
  assert.deepEqual(
    violations('platforms', (folder, target) => crossFolderOrEngine('platforms', folder, target)),
    [],
  );
});

void test('TheImportScan_CatchesACrossFolderImport', () => {
  // The rule itself, on the import this change removed (haproxy used nginx's staged-file).
  assert.match(routerRule('haproxy', 'routers/nginx/staged-file') ?? '', /another router's folder: nginx/);
  assert.match(routerRule('nginx', 'engine/traffic') ?? '', /engine/);
  assert.match(routerRule('caddy', 'server/control-server') ?? '', /engine/);
  assert.match(routerRule('varnish', 'engine/deployment-run') ?? '', /engine/);
  assert.match(routerRule('varnish', 'store/sqlite-store') ?? '', /shared vocabulary/);
  assert.equal(routerRule('haproxy', 'routers/staged-file'), undefined);
  assert.equal(routerRule('haproxy', 'shared/errors'), undefined);
  assert.equal(routerRule('aws-elb', 'aws/connection'), undefined);
  assert.match(routerRule('nginx', 'aws/connection') ?? '', /shared vocabulary/);
});
