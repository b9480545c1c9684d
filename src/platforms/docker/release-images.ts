import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { CutoverError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { DockerPlatformConfig } from './config.js';
import { LABEL } from './container-naming.js';
import { Engine, engineMessage, statusOf } from './engine.js';
import { loadRegistryAuth } from './registry-auth.js';

/** Lines of build output quoted in the error when a build fails. */
const BUILD_LINES_IN_ERROR = 10;

interface ProgressEvent {
  stream?: string;
  status?: string;
  progress?: string;
  error?: string;
  errorDetail?: { message?: string };
}

/**
 * The image of each release: which tag it has, whether it is present, building or pulling it
 * as the pull policy says, and pruning the images of old releases.
 */
export class ReleaseImages {
  constructor(
    private readonly engine: Engine,
    private readonly config: DockerPlatformConfig,
    private readonly app: string,
    private readonly baseDir: string,
    private readonly logger: Logger,
  ) {}

  /** The image tag of `release`. */
  tagFor(release: string): string {
    const template = this.config.image ?? `cutover-${this.app}:\${RELEASE}`;
    return fillRelease(template, release);
  }

  async isPresent(tag: string): Promise<boolean> {
    return this.engine.call('image inspect', async (docker) => {
      try {
        await docker.getImage(tag).inspect();
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        throw error;
      }
    });
  }

  /**
   * Fails with CUTOVER_E_NOT_FOUND when the release cannot be run as configured: its image is
   * absent under pull `never`, or the build context is missing. Touches nothing.
   */
  async check(release: string): Promise<void> {
    await this.engine.ping();
    const tag = this.tagFor(release);
    if (this.config.build) {
      const context = resolve(this.baseDir, fillRelease(this.config.build.context, release));
      const info = await stat(context).catch(() => undefined);
      if (!info?.isDirectory() && !(await this.isPresent(tag))) {
        throw new CutoverError(
          'CUTOVER_E_NOT_FOUND',
          `release "${release}" not found: build context ${context} does not exist`,
          {
            details: { release, context },
          },
        );
      }
      return;
    }
    if (this.config.pull === 'never' && !(await this.isPresent(tag))) {
      throw new CutoverError(
        'CUTOVER_E_NOT_FOUND',
        `release "${release}" not found: image ${tag} is not present on the engine and platform.pull is "never" ` +
          '(build or load it first, or allow pulls with pull: missing)',
        { details: { release, image: tag } },
      );
    }
  }

  /**
   * Makes the release's image present (build, or pull per policy) and returns its tag. Build
   * output goes to the logger and, line by line, to `onProgress` (the deploy's progress).
   */
  async ensure(release: string, onProgress: (line: string) => void = () => undefined): Promise<string> {
    const tag = this.tagFor(release);
    if (this.config.build) {
      // A release's image is built once: a rerun or a rollback after the window reuses it.
      if (!(await this.isPresent(tag))) await this.build(release, tag, onProgress);
      return tag;
    }
    const present = await this.isPresent(tag);
    if (this.config.pull === 'always' || (this.config.pull === 'missing' && !present)) {
      onProgress(`pulling ${tag}`);
      await this.pull(release, tag);
    } else if (!present) {
      await this.check(release);
    }
    return tag;
  }

  private async build(release: string, tag: string, onProgress: (line: string) => void): Promise<void> {
    const build = this.config.build!;
    const context = resolve(this.baseDir, fillRelease(build.context, release));
    const files = await listContext(context);
    const buildargs = Object.fromEntries(
      Object.entries(build.args).map(([key, value]) => [key, fillRelease(value, release)]),
    );
    this.logger.info('docker.build.started', { release, image: tag, context });
    const output: string[] = [];
    const events = await this.engine
      .call('build', async (docker) => {
        const stream = await docker.buildImage(
          { context, src: files },
          {
            t: tag,
            dockerfile: build.dockerfile,
            buildargs,
            labels: { [LABEL.app]: this.app, [LABEL.release]: release },
          },
        );
        return followProgress(docker.modem, stream, (event) => {
          for (const line of progressLines(event)) {
            output.push(line);
            this.logger.info('docker.build.output', { release, line });
            onProgress(`build: ${line}`);
          }
        });
      })
      .catch((error: unknown) => {
        if (error instanceof CutoverError) throw error;
        throw buildError(release, tag, output, engineMessage(error), error);
      });
    const failed = events.find((event) => event.error !== undefined || event.errorDetail !== undefined);
    if (failed || !(await this.isPresent(tag))) {
      const reason = failed?.errorDetail?.message ?? failed?.error ?? 'the engine reported no image';
      throw buildError(release, tag, output, reason, undefined);
    }
    this.logger.info('docker.build.done', { release, image: tag });
  }

  private async pull(release: string, tag: string): Promise<void> {
    const authconfig = await loadRegistryAuth(this.config.registryAuth, this.baseDir);
    this.logger.info('docker.pull.started', { release, image: tag, authenticated: authconfig !== undefined });
    try {
      await this.engine.call('pull', async (docker) => {
        const stream = await docker.pull(tag, authconfig ? { authconfig } : {});
        const events = await followProgress(docker.modem, stream, () => undefined);
        const failed = events.find((event) => event.error !== undefined);
        if (failed) throw new Error(failed.errorDetail?.message ?? failed.error);
      });
    } catch (error) {
      if (error instanceof CutoverError) throw error;
      throw new CutoverError(
        'CUTOVER_E_NOT_FOUND',
        `release "${release}" not found: image ${tag} could not be pulled: ${engineMessage(error)}`,
        { cause: error, details: { release, image: tag } },
      );
    }
    this.logger.info('docker.pull.done', { release, image: tag });
  }

  /**
   * Removes the tags of this app's release images beyond the `keepImages` most recent ones,
   * never the tag a container of the app was created from. Returns the removed tags.
   */
  async prune(inUse: ReadonlySet<string>): Promise<string[]> {
    const images = await this.engine.call('image list', (docker) => docker.listImages());
    const releaseOf = this.releaseMatcher();
    const candidates = images
      .flatMap((image) =>
        (image.RepoTags ?? []).flatMap((repoTag) => {
          const release = releaseOf(repoTag);
          return release === undefined
            ? []
            : [{ tag: repoTag, id: image.Id, created: image.Created, release }];
        }),
      )
      .sort((a, b) => b.created - a.created || b.tag.localeCompare(a.tag));
    // The newest `keepImages` releases stay, and so does any image a container still uses.
    const kept = new Set<string>();
    for (const image of candidates) {
      if (kept.size >= this.config.keepImages) break;
      kept.add(image.release);
    }
    const removed: string[] = [];
    for (const image of candidates) {
      if (kept.has(image.release) || inUse.has(image.tag)) continue;
      try {
        await this.engine.call('image remove', (docker) => docker.getImage(image.tag).remove());
        removed.push(image.tag);
      } catch (error) {
        // Another container (not cutover's) may use it: keeping an image is safe, so report and go on.
        this.logger.warn('docker.image.prune-failed', { image: image.tag, error: engineMessage(error) });
      }
    }
    if (removed.length > 0) this.logger.info('docker.images.pruned', { removed, kept: [...kept] });
    return removed;
  }

  /** The release a repo tag belongs to under the image template, or undefined for other images. */
  private releaseMatcher(): (repoTag: string) => string | undefined {
    const template = this.config.image ?? `cutover-${this.app}:\${RELEASE}`;
    const [before, after] = template.split('${RELEASE}') as [string, string | undefined];
    if (after === undefined) return () => undefined; // one tag for every release: nothing to prune
    const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // podman and Docker may or may not prefix a short name with its registry.
    const pattern = new RegExp(
      `^(?:(?:docker\\.io|localhost)/(?:library/)?)?${escape(before)}([A-Za-z0-9._-]+)${escape(after)}$`,
    );
    return (repoTag) => pattern.exec(repoTag)?.[1];
  }
}

/** The image template and build args take only ${RELEASE}: an image is per release, never per slot. */
function fillRelease(template: string, release: string): string {
  return template.replaceAll('${RELEASE}', release);
}

function buildError(
  release: string,
  tag: string,
  output: readonly string[],
  reason: string,
  cause: unknown,
): CutoverError {
  const lastLines = output.slice(-BUILD_LINES_IN_ERROR);
  return new CutoverError(
    'CUTOVER_E_BUILD',
    `building ${tag} for release "${release}" failed: ${reason}; last build lines: ${lastLines.join(' | ') || '(none)'}`,
    { cause, details: { release, image: tag, lastLines } },
  );
}

function progressLines(event: ProgressEvent): string[] {
  const text = event.stream ?? event.errorDetail?.message ?? event.error ?? event.status;
  if (!text) return [];
  return text
    .split('\n')
    .map((line) => line.trimEnd())
    .filter((line) => line !== '');
}

function followProgress(
  modem: {
    followProgress: (
      stream: NodeJS.ReadableStream,
      done: (error: Error | null, events: ProgressEvent[]) => void,
      onEvent?: (event: ProgressEvent) => void,
    ) => void;
  },
  stream: NodeJS.ReadableStream,
  onEvent: (event: ProgressEvent) => void,
): Promise<ProgressEvent[]> {
  return new Promise((resolvePromise, reject) => {
    modem.followProgress(
      stream,
      (error, events) => (error ? reject(error) : resolvePromise(events)),
      onEvent,
    );
  });
}

/** Every file under the context, relative to it, as dockerode's build wants them listed (it applies .dockerignore). */
async function listContext(context: string): Promise<string[]> {
  const entries = await readdir(context, { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      throw new CutoverError(
        'CUTOVER_E_NOT_FOUND',
        `build context ${context} cannot be read (${error.code})`,
        { cause: error },
      );
    },
  );
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => relative(context, join(entry.parentPath, entry.name)));
}
