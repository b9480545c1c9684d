import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConfigProblem } from '../../src/config/config-error.js';
import { loadConfig } from '../../src/config/load.js';
import { CutoverError, isCutoverError } from '../../src/shared/errors.js';

let dir: string;
let counter = 0;

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cutover-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes `text` to a fresh cutover.yml in its own folder and returns the path. */
async function writeConfig(text: string): Promise<string> {
  const folder = path.join(dir, `case-${++counter}`);
  await mkdir(folder);
  const file = path.join(folder, 'cutover.yml');
  await writeFile(file, text);
  return file;
}

function loadError(file: string): CutoverError {
  try {
    loadConfig(file);
  } catch (error) {
    assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), `expected CUTOVER_E_CONFIG, got ${String(error)}`);
    return error;
  }
  assert.fail(`${file} loaded, but it should not have`);
}

const VALID_BASE = `app: web
platform:
  kind: process
  command: node
`;

interface BrokenCase {
  name: string;
  yaml: string;
  /** The first (or only) line of the error message, after "<file>:". */
  first: string;
  /** How many problems the file has in all. */
  count?: number;
}

const BROKEN: BrokenCase[] = [
  {
    name: 'YAML syntax error: an unclosed flow mapping',
    yaml: `app: web\nplatform: { kind: process, command: node\nhealth: {}\n`,
    first: '3:1: YAML syntax error:',
  },
  {
    name: 'YAML syntax error: tab indentation',
    yaml: `app: web\nplatform:\n\tkind: process\n`,
    first: '3:1: YAML syntax error: tabs are not allowed as indentation; indent with spaces',
  },
  {
    name: 'an alias with no anchor',
    yaml: `app: web\nplatform: { kind: process, command: *cmd }\n`,
    first: '2:37: YAML syntax error: *cmd names no anchor; define &cmd before it',
  },
  {
    name: 'duplicate key',
    yaml: `${VALID_BASE}app: other\n`,
    first: '5:1: app: duplicate key; each key may appear only once in a mapping',
  },
  {
    name: 'unknown top-level key, pointed at the key',
    yaml: `app: web\nstateDir: .state\nbogus: 1\nplatform: { kind: process, command: node }\n`,
    first:
      '3:1: bogus: unknown key; valid keys here are app, stateDir, admin, router, platform, health, strategy, drain, rollbackWindow, hooks, notifications, analysis',
  },
  {
    name: 'unknown nested key, with a suggestion',
    yaml: `${VALID_BASE}health:\n  interval: 5s\n  helthyThreshold: 3\n`,
    first:
      '7:3: health.helthyThreshold: unknown key (did you mean "healthyThreshold"?); valid keys here are http, tcp, exec, interval, timeout, healthyThreshold, unhealthyThreshold, deadline',
  },
  {
    name: 'unknown key of a router kind lists that kind’s keys',
    yaml: `${VALID_BASE}router:\n  kind: haproxy\n  socket: /run/haproxy.sock\n  sockett: x\n`,
    first:
      '8:3: router.sockett: unknown key (did you mean "socket"?); valid keys here are kind, socket, backend, previewBackend, configFile, serverStateFile',
  },
  {
    name: 'wrong type: a word where a whole number goes',
    yaml: `app: web\nplatform:\n  kind: process\n  command: node\n  instances: two\n`,
    first: '5:14: platform.instances: expected a whole number, got "two"',
  },
  {
    name: 'wrong type: a number where a string goes says to quote it',
    yaml: `app: 123\nplatform: { kind: process, command: node }\n`,
    first: '1:6: app: expected a string, got 123 (quote it: "123")',
  },
  {
    name: 'a bare port where host:port goes',
    yaml: `${VALID_BASE}listen: 8080\n`,
    first:
      '5:9: listen: expected host:port such as "127.0.0.1:8080", got 8080 (for a port on 127.0.0.1 write ":8080")',
  },
  {
    name: 'bad duration',
    yaml: `${VALID_BASE}health:\n  interval: 5x\n`,
    first: '6:13: health.interval: "5x" is not a duration; use a number with ms, s, m or h, e.g. "30s"',
  },
  {
    name: 'bad router kind',
    yaml: `${VALID_BASE}router:\n  kind: ngnix\n`,
    first:
      '6:9: router.kind: "ngnix" is not a router; use one of builtin, nginx, haproxy, varnish, caddy, aws-elb, aws-target-group, route53, aws-alb (did you mean "nginx"?)',
  },
  {
    name: 'router kind missing, pointed at the router key',
    yaml: `${VALID_BASE}router:\n  socket: /run/haproxy.sock\n`,
    first:
      '5:1: router.kind: missing; use one of builtin, nginx, haproxy, varnish, caddy, aws-elb, aws-target-group, route53, aws-alb',
  },
  {
    name: 'router given as a bare kind',
    yaml: `${VALID_BASE}router: nginx\n`,
    first:
      '5:9: router: expected a mapping with kind: one of builtin, nginx, haproxy, varnish, caddy, aws-elb, aws-target-group, route53, aws-alb, got "nginx" (write it as a mapping: kind: nginx)',
  },
  {
    name: 'missing required app, pointed at the top-level mapping',
    yaml: `# comment\nplatform: { kind: process, command: node }\n`,
    first: '2:1: app: required key is missing; expected a string',
  },
  {
    name: 'missing required platform',
    yaml: `app: web\nlisten: :8080\n`,
    first: '1:1: platform: required key is missing; expected a mapping with kind: one of process',
  },
  {
    name: 'missing nested required key, pointed at its parent key',
    yaml: `app: web\nplatform:\n  kind: process\n  instances: 2\n`,
    first: '2:1: platform.command: required key is missing; expected a string',
  },
  {
    name: 'bad enum value',
    yaml: `${VALID_BASE}strategy:\n  kind: switch\n  promotion: manaul\n`,
    first:
      '7:14: strategy.promotion: "manaul" is not valid; use one of auto, manual (did you mean "manual"?)',
  },
  {
    name: 'number out of range inside a list',
    yaml: `${VALID_BASE}strategy:\n  kind: shift\n  steps:\n    - weight: 10\n    - weight: 150\n`,
    first: '9:15: strategy.steps[1].weight: expected at most 100, got 150',
  },
  {
    name: 'an instance port range that runs backwards',
    yaml: `${VALID_BASE}  ports: { from: 21000, to: 20000 }\n`,
    first: '5:29: platform.ports.to: `to` must not be below `from`',
  },
  {
    name: 'an instance port range among the privileged ports',
    yaml: `${VALID_BASE}  ports: { from: 80, to: 20000 }\n`,
    first: '5:18: platform.ports.from: expected at least 1024, got 80',
  },
  {
    name: 'two health check kinds at once',
    yaml: `${VALID_BASE}health:\n  http: { path: /up }\n  tcp: {}\n`,
    first: '5:1: health: choose one of http, tcp or exec',
  },
  {
    name: 'an empty section',
    yaml: `${VALID_BASE}health:\n`,
    first: '5:1: health: expected a mapping, got an empty value (leave the key out to use the defaults)',
  },
  {
    name: 'shift on caddy, which has no weights',
    yaml: `${VALID_BASE}router:\n  kind: caddy\n  adminUrl: http://127.0.0.1:2019\nstrategy:\n  kind: shift\n  steps: [{ weight: 10 }, { weight: 100 }]\n`,
    first:
      '9:9: strategy.kind: the caddy router cannot split traffic by weight (Caddy 2.6 has no weighted upstreams); use strategy kind "switch"',
  },
  {
    name: 'admin API on a non-loopback address without allowRemote',
    yaml: `${VALID_BASE}admin:\n  listen: 0.0.0.0:7070\n`,
    first:
      '6:11: admin.listen: 0.0.0.0 is not a loopback address; set admin.allowRemote: true to expose the admin API',
  },
  {
    name: 'router.listen and admin.listen on the same port',
    yaml: `${VALID_BASE}router:\n  kind: builtin\n  listen: 127.0.0.1:9000\nadmin:\n  listen: 127.0.0.1:9000\n`,
    first: '9:11: admin.listen: port 9000 is already used by router.listen; give each listener its own port',
  },
  {
    name: 'the deprecated listen and admin.listen on the same port',
    yaml: `${VALID_BASE}listen: 127.0.0.1:9000\nadmin:\n  listen: 127.0.0.1:9000\n`,
    first: '7:11: admin.listen: port 9000 is already used by router.listen; give each listener its own port',
  },
  {
    name: 'every problem is reported, in file order',
    yaml: `app: Web\nbogus: 1\nplatform:\n  kind: process\n  command: node\n  instances: 0\nrollbackWindow: soon\n`,
    first: '1:6: app: "Web" is not valid; use lowercase letters, digits and dashes',
    count: 4,
  },
];

void describe('loadConfig rejects broken files with file:line:column, the key, and what is valid', () => {
  for (const broken of BROKEN) {
    void test(broken.name, async () => {
      const file = await writeConfig(broken.yaml);
      const error = loadError(file);
      const lines = error.message.split('\n');
      assert.ok(
        lines[0]!.startsWith(`${file}:${broken.first}`),
        `first line\n  ${lines[0]}\ndoes not start with\n  ${file}:${broken.first}`,
      );
      const problems = error.details.errors as ConfigProblem[];
      assert.equal(error.details.file, file);
      assert.equal(problems.length, broken.count ?? 1, error.message);
      assert.equal(lines.length, problems.length, 'one line per problem');
      const [line, column] = broken.first.split(':').map(Number);
      assert.deepEqual([problems[0]!.line, problems[0]!.column], [line, column]);
    });
  }

  void test('lists all problems in one error, sorted by line', async () => {
    const file = await writeConfig(BROKEN.at(-1)!.yaml);
    const lines = loadError(file).message.split('\n');
    assert.deepEqual(lines, [
      `${file}:1:6: app: "Web" is not valid; use lowercase letters, digits and dashes`,
      `${file}:2:1: bogus: unknown key; valid keys here are app, stateDir, admin, router, platform, health, strategy, drain, rollbackWindow, hooks, notifications, analysis`,
      `${file}:6:14: platform.instances: expected at least 1, got 0`,
      `${file}:7:17: rollbackWindow: "soon" is not a duration; use a number with ms, s, m or h, e.g. "30s"`,
    ]);
  });

  void test('a missing file says how to make one', () => {
    const file = path.join(dir, 'nowhere', 'cutover.yml');
    const error = loadError(file);
    assert.equal(error.message, `${file}: not found (run \`cutover init\` to write one)`);
  });

  void test('an empty file says how to make one', async () => {
    const file = await writeConfig('# nothing yet\n');
    assert.equal(
      loadError(file).message,
      `${file}:1:1: the file is empty (run \`cutover init\` to write one)`,
    );
  });

  void test('a file that is not a mapping', async () => {
    const file = await writeConfig('- app: web\n');
    assert.match(
      loadError(file).message,
      /:1:1: expected a mapping of keys such as app and platform, got a list$/,
    );
  });

  void test('messages name the file as it was given', async () => {
    const file = await writeConfig(`${VALID_BASE}bogus: 1\n`);
    const relative = path.relative(process.cwd(), file);
    let message = '';
    try {
      loadConfig(relative);
    } catch (error) {
      message = (error as Error).message;
    }
    assert.ok(message.startsWith(`${relative}:5:1: bogus: unknown key`), message);
  });
});

void describe('loadConfig accepts valid files', () => {
  void test('a minimal file gets every default, and paths resolve against the file', async () => {
    const file = await writeConfig(VALID_BASE);
    const config = loadConfig(file);
    assert.equal(config.file, file);
    assert.equal(config.baseDir, path.dirname(file));
    assert.equal(config.stateDirPath, path.join(path.dirname(file), '.cutover'));
    assert.deepEqual(config.admin, { listen: { host: '127.0.0.1', port: 7070 }, allowRemote: false });
    assert.equal(config.router.kind, 'builtin');
    assert.deepEqual(config.router.listen, { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(config.deprecations, []);
    assert.deepEqual(config.strategy, { kind: 'switch', promotion: 'auto' });
    assert.deepEqual(config.health.http, { path: '/healthz', expectStatus: 200, headers: {} });
    assert.equal(config.health.interval, 1000);
    assert.equal(config.drain.timeout, 30_000);
    assert.equal(config.rollbackWindow, 15 * 60_000);
    assert.deepEqual(config.platform, {
      kind: 'process',
      command: 'node',
      args: [],
      env: {},
      cwd: '.',
      instances: 1,
      host: '127.0.0.1',
      stopGrace: 10_000,
      logs: { maxBytes: 10 * 1024 * 1024, keep: 3 },
    });
  });

  void test('a full file round-trips with durations in ms and listen addresses split', async () => {
    const file = await writeConfig(`app: shop-api
stateDir: ../state
admin:
  listen: 0.0.0.0:9070
  allowRemote: true
router:
  kind: haproxy
  socket: /run/haproxy/admin.sock
platform:
  kind: process
  command: ./bin/server
  args: ["--port", "\${PORT}"]
  env: { SLOT: "\${SLOT}" }
  cwd: releases/\${RELEASE}
  instances: 3
  stopGrace: 2.5s
health:
  tcp: {}
  interval: 500ms
  deadline: 2m
strategy:
  kind: shift
  promotion: manual
  steps:
    - { weight: 10, pause: 30s }
    - { weight: 50, gate: manual }
    - { weight: 100 }
drain: { timeout: 1h }
rollbackWindow: 3600000
hooks:
  smoke: [./smoke.sh, --fast]
  timeout: 90s
`);
    const config = loadConfig(file);
    assert.deepEqual(config.admin, { listen: { host: '0.0.0.0', port: 9070 }, allowRemote: true });
    assert.equal(config.stateDirPath, path.resolve(path.dirname(file), '../state'));
    assert.deepEqual(config.router, {
      kind: 'haproxy',
      socket: '/run/haproxy/admin.sock',
      backend: 'cutover_live',
      previewBackend: 'cutover_preview',
    });
    assert.ok(config.platform.kind === 'process', 'a process platform');
    assert.equal(config.platform.instances, 3);
    assert.equal(config.platform.stopGrace, 2500);
    assert.deepEqual(config.platform.args, ['--port', '${PORT}']);
    assert.equal(config.platform.cwd, 'releases/${RELEASE}');
    assert.deepEqual(config.health.tcp, {});
    assert.equal(config.health.http, undefined);
    assert.equal(config.health.interval, 500);
    assert.equal(config.health.deadline, 120_000);
    assert.deepEqual(config.strategy, {
      kind: 'shift',
      promotion: 'manual',
      steps: [{ weight: 10, pause: 30_000 }, { weight: 50, gate: 'manual' }, { weight: 100 }],
    });
    assert.equal(config.drain.timeout, 3_600_000);
    assert.equal(config.rollbackWindow, 3_600_000);
    assert.deepEqual(config.hooks, { smoke: ['./smoke.sh', '--fast'], timeout: 90_000, killGrace: 5_000 });
  });

  void test('shift is fine on routers that can weigh traffic', async () => {
    for (const router of ['kind: builtin', 'kind: haproxy\n  socket: /s', 'kind: varnish\n  workdir: /w']) {
      const file = await writeConfig(
        `${VALID_BASE}router:\n  ${router}\nstrategy:\n  kind: shift\n  steps: [{ weight: 100 }]\n`,
      );
      assert.equal(loadConfig(file).strategy.kind, 'shift');
    }
  });

  void test('the admin API may bind to any loopback address', async () => {
    for (const listen of ['127.0.0.2:7070', 'localhost:7070', '"[::1]:7070"', '":7070"']) {
      const file = await writeConfig(`${VALID_BASE}admin:\n  listen: ${listen}\n`);
      assert.equal(loadConfig(file).admin.listen.port, 7070);
    }
  });

  void test('port 0 (any free port) never clashes', async () => {
    const file = await writeConfig(`${VALID_BASE}listen: 127.0.0.1:0\nadmin:\n  listen: 127.0.0.1:0\n`);
    assert.equal(loadConfig(file).admin.listen.port, 0);
  });
});
