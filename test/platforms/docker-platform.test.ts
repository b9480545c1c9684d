// What the docker platform asks of the engine, read back from the engine itself: where ports are
// published, names and labels, environment, mounts and limits, networks, HEALTHCHECK readiness,
// builds per release and the pruning of old releases' images.
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { isCutoverError } from '../../src/shared/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { dockerPlatformConfig } from '../../src/platforms/docker/config.js';
import { demuxLogs } from '../../src/platforms/docker/container-logs.js';
import { Engine, engineEndpoint } from '../../src/platforms/docker/engine.js';
import { loadRegistryAuth } from '../../src/platforms/docker/registry-auth.js';
import { buildTestImage, writeTestImageContext } from '../support/docker-test-image.js';
import { answer } from './contract.js';
import { APP_PORT, makeDockerFixture, type DockerFixture } from './docker-fixture.js';

void describe('docker platform: what the engine is asked for', { timeout: 600_000 }, () => {
  let fixture: DockerFixture;
  before(async () => {
    fixture = await makeDockerFixture(['v1', 'v2', 'v3']);
  });
  afterEach(async () => {
    await fixture.platform().reconcile(new Set());
  });
  after(async () => {
    await fixture?.cleanup();
  });

  async function inspectSlot(slot: 'blue' | 'green') {
    const containers = (await fixture.containers()).filter((c) => c.Labels['io.cutover.slot'] === slot);
    return Promise.all(containers.map((c) => fixture.docker.getContainer(c.Id).inspect()));
  }

  void it('publishes the container port on 127.0.0.1 only, on a port the engine picked, and checks it took effect', async () => {
    const [instance] = await fixture.platform().provision('blue', 'v1');
    assert.ok(instance);
    const [info] = await inspectSlot('blue');
    const bindings = info!.NetworkSettings.Ports[`${APP_PORT}/tcp`];
    assert.deepEqual(
      bindings?.map((binding) => binding.HostIp),
      ['127.0.0.1'],
    );
    assert.equal(instance.host, '127.0.0.1');
    assert.equal(String(instance.port), bindings?.[0]?.HostPort);
    assert.equal(await answer(instance), 'v1');
  });

  void it('publishes on all interfaces only when publish.address says so', async () => {
    const [instance] = await fixture.platform({ publish: { address: '0.0.0.0' } }).provision('blue', 'v1');
    const [info] = await inspectSlot('blue');
    assert.equal(info!.NetworkSettings.Ports[`${APP_PORT}/tcp`]?.[0]?.HostIp, '0.0.0.0');
    assert.equal(instance!.host, '127.0.0.1');
    assert.equal(await answer(instance!), 'v1');
  });

  void it('names containers <app>-<slot>-<index> and labels them with app, slot, release and instance', async () => {
    await fixture.platform({ instances: 2, labels: { team: 'shop' } }).provision('green', 'v2');
    const infos = await inspectSlot('green');
    assert.deepEqual(infos.map((info) => info.Name.replace(/^\//, '')).sort(), [
      'ctest-green-0',
      'ctest-green-1',
    ]);
    for (const info of infos) {
      const labels = info.Config.Labels;
      assert.equal(labels['io.cutover.app'], 'ctest');
      assert.equal(labels['io.cutover.slot'], 'green');
      assert.equal(labels['io.cutover.release'], 'v2');
      assert.equal(labels['io.cutover.instance'], info.Name.endsWith('-0') ? '0' : '1');
      assert.equal(labels.team, 'shop');
    }
  });

  void it('fills ${RELEASE}, ${SLOT}, ${INSTANCE} and ${PORT} into env, command and entrypoint; env files come before env', async () => {
    await writeFile(join(fixture.baseDir, 'app.env'), '# shared settings\nFROM_FILE=file\nOVERRIDDEN=file\n');
    const platform = fixture.platform({
      env: { GREETING: 'hi-${SLOT}-${INSTANCE}-${RELEASE}-${PORT}', OVERRIDDEN: 'config' },
      envFiles: ['app.env'],
      entrypoint: ['/bin/sh', '-c'],
      command: ['echo started ${RELEASE} in ${SLOT}; exec /bin/sh /app/serve'],
    });
    const [instance] = await platform.provision('blue', 'v3');
    const [info] = await inspectSlot('blue');
    const env = new Set(info!.Config.Env);
    for (const expected of [
      'GREETING=hi-blue-0-v3-8000',
      'FROM_FILE=file',
      'OVERRIDDEN=config',
      'PORT=8000',
      'CUTOVER_APP=ctest',
      'CUTOVER_SLOT=blue',
      'CUTOVER_RELEASE=v3',
      'CUTOVER_INSTANCE=0',
    ])
      assert.ok(env.has(expected), `${expected} in ${[...env].join(' ')}`);
    assert.deepEqual(info!.Config.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(info!.Config.Cmd, ['echo started v3 in blue; exec /bin/sh /app/serve']);
    assert.equal(await answer(instance!), 'v3');
    const log = (await platform.logs('blue')).map((line) => line.line);
    assert.ok(log.includes('started v3 in blue'), log.join('\n'));
  });

  void it('mounts volumes (relative sources against the config folder) and sets memory and CPU limits', async () => {
    await mkdir(join(fixture.baseDir, 'static'), { recursive: true });
    await fixture
      .platform({ volumes: ['./static:/srv/static:ro'], memory: '64m', cpus: 0.5 })
      .provision('blue', 'v1');
    const [info] = await inspectSlot('blue');
    const mount = info!.Mounts.find((candidate) => candidate.Destination === '/srv/static');
    assert.equal(mount?.Source, join(fixture.baseDir, 'static'));
    assert.equal(mount?.RW, false);
    assert.equal(info!.HostConfig.Memory, 64 * 1024 * 1024);
    assert.equal(info!.HostConfig.NanoCpus, 500_000_000);
  });

  void it('with reach: name, joins the network (created if missing) and is reached as <container>:<port>', async () => {
    const [instance] = await fixture
      .platform({ network: 'ctest-net', reach: 'name' })
      .provision('green', 'v1');
    assert.equal(instance!.host, 'ctest-green-0');
    assert.equal(instance!.port, APP_PORT);
    const [info] = await inspectSlot('green');
    assert.ok(Object.keys(info!.NetworkSettings.Networks).includes('ctest-net'));
    assert.deepEqual(info!.NetworkSettings.Ports[`${APP_PORT}/tcp`] ?? null, null);
    assert.equal(
      (await fixture.docker.getNetwork('ctest-net').inspect()).Labels?.['io.cutover.app'],
      'ctest',
    );
  });

  void it('with reach: name, a container on the same network reaches the instance by its name', async () => {
    // podman's CNI backend resolves names on a network only with the dnsname plugin.
    if (!existsSync('/usr/lib/cni/dnsname')) {
      throw new Error(
        'the CNI dnsname plugin is missing: run `bash scripts/install-test-deps.sh` (apt-get install -y golang-github-containernetworking-plugin-dnsname)',
      );
    }
    const [instance] = await fixture
      .platform({ network: 'ctest-net', reach: 'name' })
      .provision('green', 'v2');
    const client = await fixture.docker.createContainer({
      Image: 'cutover-test-app:v1',
      Cmd: ['/bin/sh', '-c', `wget -q -O - http://${instance!.host}:${instance!.port}/`],
      HostConfig: { NetworkMode: 'ctest-net' },
    });
    try {
      await client.start();
      const exit = (await client.wait()) as { StatusCode: number };
      const output = demuxLogs(await client.logs({ stdout: true, stderr: true, follow: false }))
        .map((line) => line.line)
        .join('\n');
      assert.equal(exit.StatusCode, 0, output);
      assert.equal(output.trim(), 'v2');
    } finally {
      await client.remove({ force: true });
    }
  });

  void it("waits for the image's own HEALTHCHECK to pass before provision() returns", async () => {
    await buildTestImage(fixture.docker, ['v1'], {
      repo: 'cutover-test-healthy',
      extraDockerfile:
        'HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD ["/bin/sh", "-c", "wget -q -O /dev/null http://127.0.0.1:8000/healthz"]\n',
    });
    const [instance] = await fixture
      .platform({ image: 'cutover-test-healthy:${RELEASE}' })
      .provision('blue', 'v1');
    const [info] = await inspectSlot('blue');
    assert.equal(info!.State.Health?.Status, 'healthy');
    assert.equal(await answer(instance!), 'v1');
  });

  void it('builds the image of each release from the build context once, and reuses it on a rerun', async () => {
    const context = join(fixture.baseDir, 'app-src');
    await mkdir(context, { recursive: true });
    await writeTestImageContext(
      context,
      'ARG GREETING\nRUN ["/bin/sh", "-c", "echo built with $GREETING"]\n',
    );
    const platform = fixture.platform({
      image: undefined,
      build: { context: 'app-src', args: { GREETING: 'release-${RELEASE}' } },
    });
    const [first] = await platform.provision('green', 'b1');
    assert.equal(await answer(first!), 'b1');
    const built = await fixture.docker.getImage('cutover-ctest:b1').inspect();
    assert.equal(built.Config.Labels?.['io.cutover.release'], 'b1');
    await platform.stop('green', { graceMs: 1000 });
    // The image stays (it is among the kept releases): the next provision starts it, no build.
    const [again] = await platform.provision('green', 'b1');
    assert.equal(await answer(again!), 'b1');
    assert.equal((await fixture.docker.getImage('cutover-ctest:b1').inspect()).Id, built.Id);
  });

  void it('after a retire keeps the images of the newest keepImages releases and the ones in use, and removes older ones', async () => {
    const tags = async () =>
      (await fixture.docker.listImages())
        .flatMap((image) => image.RepoTags ?? [])
        .filter((tag) => /cutover-test-app:v\d$/.test(tag))
        .map((tag) => tag.replace(/^.*:/, ''))
        .sort();
    assert.deepEqual(await tags(), ['v1', 'v2', 'v3']);
    const platform = fixture.platform({ keepImages: 2 });
    await platform.provision('blue', 'v1');
    await platform.stop('green', { graceMs: 1000 }); // a retire of the other slot: v1 is in use
    assert.deepEqual(await tags(), ['v1', 'v2', 'v3']);
    await platform.stop('blue', { graceMs: 1000 });
    assert.deepEqual(await tags(), ['v2', 'v3']);
    await assert.rejects(platform.checkRelease!('v1'), (error: unknown) =>
      isCutoverError(error, 'CUTOVER_E_NOT_FOUND'),
    );
  });
});

void describe('docker platform: config and connection', () => {
  void it('takes the configured socket, else DOCKER_HOST, else /var/run/docker.sock', () => {
    assert.deepEqual(engineEndpoint('/run/podman/podman.sock', {}).options, {
      socketPath: '/run/podman/podman.sock',
    });
    assert.deepEqual(engineEndpoint(undefined, { DOCKER_HOST: 'unix:///tmp/d.sock' }).options, {
      socketPath: '/tmp/d.sock',
    });
    assert.deepEqual(engineEndpoint(undefined, { DOCKER_HOST: 'tcp://10.0.0.5:2375' }).options, {
      host: '10.0.0.5',
      port: '2375',
      protocol: 'http',
    });
    assert.deepEqual(engineEndpoint(undefined, {}).options, { socketPath: '/var/run/docker.sock' });
    assert.deepEqual(engineEndpoint('https://engine.internal', {}).options, {
      host: 'engine.internal',
      port: 2376,
      protocol: 'https',
    });
    assert.match(engineEndpoint(undefined, {}).label, /the default socket/);
  });

  void it('DOCKER_TLS_VERIFY=1 makes a tcp:// engine TLS with the certificates in DOCKER_CERT_PATH', async () => {
    const certs = await mkdtemp(join(tmpdir(), 'cutover-certs-'));
    try {
      for (const name of ['ca.pem', 'cert.pem', 'key.pem'])
        await writeFile(join(certs, name), `${name} contents`);
      const { options } = engineEndpoint(undefined, {
        DOCKER_HOST: 'tcp://10.0.0.5:2376',
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: certs,
      });
      assert.equal(options.protocol, 'https');
      assert.deepEqual(
        [options.ca, options.cert, options.key].map((pem) =>
          Buffer.isBuffer(pem) ? pem.toString() : typeof pem,
        ),
        ['ca.pem contents', 'cert.pem contents', 'key.pem contents'],
      );
      assert.throws(
        () =>
          engineEndpoint(undefined, {
            DOCKER_HOST: 'tcp://h:1',
            DOCKER_TLS_VERIFY: '1',
            DOCKER_CERT_PATH: '/nonexistent',
          }),
        /DOCKER_CERT_PATH: cannot read \/nonexistent\/ca\.pem/,
      );
    } finally {
      await rm(certs, { recursive: true, force: true });
    }
  });

  void it('an engine that accepts connections but never answers counts as unreachable after the ping timeout', async () => {
    const accepted = new Set<net.Socket>();
    const silent = net.createServer((socket) => accepted.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      await assert.rejects(
        new Engine(engineEndpoint(`tcp://127.0.0.1:${port}`, {})).ping(),
        (error: unknown) => {
          assert.ok(isCutoverError(error, 'CUTOVER_E_ENGINE_UNREACHABLE'), String(error));
          assert.match(error.message, new RegExp(`tcp://127\\.0\\.0\\.1:${port}.*no answer in`));
          return true;
        },
      );
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  void it('refuses a config with neither image nor build, reach: name without a network, pulls of a built image, or overlapping fixed ports', () => {
    const base = { kind: 'docker', port: 8000 };
    const messages = (input: Record<string, unknown>) => {
      const result = dockerPlatformConfig.safeParse({ ...base, ...input });
      assert.equal(result.success, false);
      return result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n');
    };
    assert.match(messages({}), /image: set `image`/);
    assert.match(
      messages({ image: 'a:${RELEASE}', reach: 'name' }),
      /network: `reach: name` needs `network`/,
    );
    assert.match(
      messages({ build: { context: '.' }, pull: 'always' }),
      /pull: an image cutover builds cannot be pulled/,
    );
    assert.match(
      messages({ image: 'a:${RELEASE}', instances: 3, publish: { ports: { blue: 9000, green: 9002 } } }),
      /publish\.ports: the slots' host ports overlap/,
    );
    assert.equal(dockerPlatformConfig.safeParse({ ...base, image: 'a:${RELEASE}' }).success, true);
  });

  void it('examples/docker/cutover.yml is a valid config whose build context holds its Dockerfile', async () => {
    const file = fileURLToPath(new URL('../../examples/docker/cutover.yml', import.meta.url));
    const config = loadConfig(file);
    assert.equal(config.platform.kind, 'docker');
    if (config.platform.kind !== 'docker') return;
    assert.equal(config.platform.build?.context, 'app');
    await access(join(config.baseDir, 'app', config.platform.build.dockerfile));
  });

  void it('reads registryAuth from a file or a variable and names only the source when it is wrong', async () => {
    process.env.CUTOVER_TEST_AUTH =
      '{"username":"ci","password":"hunter2-secret","serveraddress":"reg.example"}';
    try {
      assert.deepEqual(await loadRegistryAuth({ env: 'CUTOVER_TEST_AUTH' }, '/'), {
        username: 'ci',
        password: 'hunter2-secret',
        serveraddress: 'reg.example',
      });
      process.env.CUTOVER_TEST_AUTH = 'hunter2-secret not json';
      await assert.rejects(loadRegistryAuth({ env: 'CUTOVER_TEST_AUTH' }, '/'), (error: Error) => {
        assert.match(error.message, /environment variable CUTOVER_TEST_AUTH is not JSON/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
      await assert.rejects(
        loadRegistryAuth({ file: 'missing-auth.json' }, '/nonexistent'),
        /cannot read the file missing-auth\.json/,
      );
    } finally {
      delete process.env.CUTOVER_TEST_AUTH;
    }
  });
});
