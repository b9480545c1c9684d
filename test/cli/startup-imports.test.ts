/**
 * The CLI starts without the plug-ins' implementations: `--version`, `--help` and `status` load
 * no AWS SDK, no dockerode (nor the gRPC it pulls in), no ssh2 and no prom-client. A plug-in
 * loads its SDK when it is created (its descriptor's create), a verb that only reads the config
 * never does. Read from the modules the CLI process loaded (support/module-record.ts), never
 * from how long it took.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../support/daemons/common.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const RECORDER = new URL('../support/module-record.ts', import.meta.url).href;
const TSX = import.meta.resolve('tsx');

/** What no verb may load before it creates a plug-in (prom-client: before it starts the server). */
const HEAVY = [/^@aws-sdk\//, /^@smithy\//, /^dockerode$/, /^@grpc\/grpc-js$/, /^ssh2$/, /^prom-client$/];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every package the process loaded a module of. */
  readonly packages: ReadonlySet<string>;
}

void describe('what the CLI loads at start', () => {
  let dir: string;
  let runs = 0;
  let deadEndpoint: string;

  /** The CLI through tsx, as the other CLI tests run it, recording the modules it loads. */
  const cutover = (args: string[], env: Record<string, string> = {}): Promise<Run> => {
    const record = path.join(dir, `modules-${(runs += 1)}.txt`);
    writeFileSync(record, '');
    const { CUTOVER_ADMIN_URL: _url, CUTOVER_CONFIG: _config, ...inherited } = process.env;
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', TSX, '--import', RECORDER, CLI, ...args], {
        cwd: dir,
        env: { ...inherited, ...env, CUTOVER_MODULE_RECORD: record },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        resolve({ code: code ?? -1, stdout, stderr, packages: packagesIn(readFileSync(record, 'utf8')) }),
      );
    });
  };

  const config = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-startup-imports-'));
    // Nothing listens here: an AWS call fails at once, a request to a server is refused.
    deadEndpoint = `http://127.0.0.1:${await freePort()}`;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('--version and --help load none of the plug-ins’ packages', async () => {
    const version = await cutover(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assertNoneLoaded(version, '--version');
    const help = await cutover(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /deploy/);
    assertNoneLoaded(help, '--help');
  });

  void it('status with the process platform loads none of them, with the builtin router or one-shot with nginx', async () => {
    const builtin = config(
      'process-builtin.yml',
      'app: web\nplatform: { kind: process, command: node }\nrouter: { kind: builtin }\n',
    );
    const withoutServer = await cutover(['status', '-c', builtin]);
    assert.match(withoutServer.stderr, /no cutover server runs for web/);
    assertNoneLoaded(withoutServer, 'status (builtin router, no server)');

    // One-shot: the engine runs in the CLI, so the platform and the router are created.
    const nginx = config(
      'process-nginx.yml',
      'app: web\nplatform: { kind: process, command: node }\n' +
        'router: { kind: nginx, configFile: nginx.conf, includeFile: cutover-upstreams.conf }\n',
    );
    const oneShot = await cutover(['status', '-c', nginx]);
    assert.equal(oneShot.code, 0, oneShot.stderr);
    assert.match(oneShot.stdout, /^app web$/m);
    assertNoneLoaded(oneShot, 'status (nginx router, one-shot)');
  });

  void it('an AWS config loads the AWS SDK only when its platform and router are created', async () => {
    const connection = `region: us-east-1, endpoint: "${deadEndpoint}", maxAttempts: 1`;
    const aws = config(
      'aws.yml',
      'app: web\n' +
        `platform: { kind: aws-asg, image: ami-0abc1234, subnets: [subnet-0abc1234], ${connection} }\n` +
        `router: { kind: aws-target-group, targetGroup: web-tg, ${connection} }\n`,
    );
    const credentials = {
      AWS_ACCESS_KEY_ID: 'startup-imports-test',
      AWS_SECRET_ACCESS_KEY: 'startup-imports-test',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    // Through a server's admin API: the config (its AWS schemas included) is read, nothing created.
    const throughServer = await cutover(['status', '-c', aws], {
      ...credentials,
      CUTOVER_ADMIN_URL: deadEndpoint,
    });
    assert.notEqual(throughServer.code, 0, 'no server answers there');
    assertNoneLoaded(throughServer, 'status through a server, AWS config');

    // One-shot: the platform and the router are created, and with them their SDK clients.
    const oneShot = await cutover(['status', '-c', aws], credentials);
    for (const client of ['@aws-sdk/client-auto-scaling', '@aws-sdk/client-elastic-load-balancing-v2']) {
      assert.ok(oneShot.packages.has(client), `one-shot status loads ${client}: ${oneShot.stderr}`);
    }
    for (const other of ['dockerode', 'ssh2', '@aws-sdk/client-route-53']) {
      assert.ok(!oneShot.packages.has(other), `${other} belongs to a plug-in this config does not use`);
    }
  });
});

/** Package names in a record of module URLs: `…/node_modules/<name>/…`, scoped names whole. */
function packagesIn(record: string): Set<string> {
  return new Set([...record.matchAll(/\/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((match) => match[1]!));
}

function assertNoneLoaded(run: Run, what: string): void {
  const heavy = [...run.packages].filter((name) => HEAVY.some((pattern) => pattern.test(name))).sort();
  assert.deepEqual(heavy, [], `${what} loaded ${heavy.join(', ')}`);
}
