/**
 * The test image: `FROM scratch` with Debian's static busybox and a tiny app script, built
 * through the Engine API (`POST /build` with a tar context) once per test file. The app
 * serves its release (CUTOVER_RELEASE, or APP_VERSION) on $PORT with `busybox httpd`.
 * Behaviour switches (env): EXIT_AT_ONCE=<code> prints an error and exits; EXIT_AFTER=<s> serves
 * that long, then exits 5; START_DELAY=<s> waits that long before it listens; EAT_MEMORY=1 grows
 * until the memory limit kills it; IGNORE_SIGTERM=1 logs SIGTERM and keeps serving;
 * MARK_DIR=<dir> appends "SIGTERM <slot> <hostname>" to <dir>/terms when SIGTERM arrives.
 */
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { makeTempDir, removeTempDir, requireBinary, runSync } from './daemons/common.js';

export const TEST_IMAGE_REPO = 'cutover-test-app';

const APP_SCRIPT = `#!/bin/sh
if [ -n "$EXIT_AT_ONCE" ]; then echo "fatal: told to exit at once" >&2; exit "$EXIT_AT_ONCE"; fi
if [ -n "$START_DELAY" ]; then echo "starting slowly"; sleep "$START_DELAY"; fi
if [ "$EAT_MEMORY" = 1 ]; then echo "eating memory"; x=aaaaaaaaaaaaaaaa; while :; do x="$x$x"; done; fi
mkdir -p /tmp/www
printf '%s' "\${APP_VERSION:-$CUTOVER_RELEASE}" > /tmp/www/index.html
printf ok > /tmp/www/healthz
httpd -f -p "$PORT" -h /tmp/www &
child=$!
on_term() {
  echo "got SIGTERM"
  if [ -n "$MARK_DIR" ]; then echo "SIGTERM $CUTOVER_SLOT $HOSTNAME" >> "$MARK_DIR/terms"; fi
  if [ "$IGNORE_SIGTERM" = 1 ]; then echo "ignoring it"; else kill "$child"; fi
}
trap on_term TERM
echo "listening on $PORT release $CUTOVER_RELEASE"
if [ -n "$EXIT_AFTER" ]; then sleep "$EXIT_AFTER"; echo "fatal: giving up after $EXIT_AFTER s" >&2; exit 5; fi
while kill -0 "$child" 2>/dev/null; do wait "$child"; done
`;

const DOCKERFILE = `FROM scratch
COPY bin/busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY app/serve /app/serve
CMD ["/bin/sh", "/app/serve"]
`;

/** Writes a build context for the test image (plus `extraDockerfile` lines) into a fresh dir. */
export async function writeTestImageContext(dir: string, extraDockerfile = ''): Promise<void> {
  const busybox = requireBinary('busybox', 'busybox-static');
  // FROM scratch has no libc: Debian's plain busybox package is dynamic and would not start.
  if (!/not a dynamic executable|statically linked/.test(runSync('ldd', [busybox]).output)) {
    throw new Error(
      `${busybox} is not static: run \`bash scripts/install-test-deps.sh\` (apt-get install -y busybox-static)`,
    );
  }
  await mkdir(path.join(dir, 'bin'), { recursive: true });
  await mkdir(path.join(dir, 'app'), { recursive: true });
  await copyFile(busybox, path.join(dir, 'bin', 'busybox'));
  await writeFile(path.join(dir, 'app', 'serve'), APP_SCRIPT, { mode: 0o755 });
  await writeFile(path.join(dir, 'Dockerfile'), DOCKERFILE + extraDockerfile);
}

/** Builds the test image and tags it `cutover-test-app:<release>` for each release. */
export async function buildTestImage(
  docker: Docker,
  releases: readonly string[],
  options: { repo?: string; extraDockerfile?: string } = {},
): Promise<void> {
  const repo = options.repo ?? TEST_IMAGE_REPO;
  const dir = await makeTempDir('image');
  try {
    await writeTestImageContext(dir, options.extraDockerfile);
    const base = `${repo}:base`;
    const stream = await docker.buildImage(
      { context: dir, src: ['Dockerfile', 'bin/busybox', 'app/serve'] },
      { t: base },
    );
    const events = await new Promise<{ error?: string }[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (error: Error | null, result: { error?: string }[]) =>
        error ? reject(error) : resolve(result),
      ),
    );
    const failed = events.find((event) => event.error);
    if (failed) throw new Error(`test image build failed: ${failed.error}`);
    for (const release of releases) await docker.getImage(base).tag({ repo, tag: release });
  } finally {
    await removeTempDir(dir);
  }
}
