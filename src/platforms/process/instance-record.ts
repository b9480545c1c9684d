import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CutoverError } from '../../core/errors.js';
import { SLOTS, type Slot } from '../../core/slot.js';

/** What the process platform remembers about one instance it started. */
const instanceRecord = z.object({
  id: z.string(),
  index: z.number().int().min(0),
  release: z.string(),
  host: z.string(),
  port: z.number().int(),
  pid: z.number().int().positive(),
  /** Field 22 of /proc/<pid>/stat when started: a recycled pid has another one. */
  procStartTime: z.string(),
  /** ISO time at which cutover started it. */
  startedAt: z.string(),
  logFile: z.string(),
});
export type InstanceRecord = z.infer<typeof instanceRecord>;

const slotRecord = z.object({
  version: z.literal(1),
  slot: z.enum(SLOTS),
  release: z.string(),
  instances: z.array(instanceRecord),
});
export type SlotRecord = z.infer<typeof slotRecord>;

/**
 * One JSON file per slot (`<dir>/<slot>.json`) listing the processes started for it. Written
 * with temp file + fsync + rename, so a crash leaves either the old or the new record, never half.
 */
export class SlotRecordFiles {
  constructor(private readonly dir: string) {}

  fileOf(slot: Slot): string {
    return join(this.dir, `${slot}.json`);
  }

  async read(slot: Slot): Promise<SlotRecord | undefined> {
    const file = this.fileOf(slot);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CutoverError('CUTOVER_E_STORE', `cannot read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    let parsed: z.ZodSafeParseResult<SlotRecord>;
    try {
      parsed = slotRecord.safeParse(JSON.parse(text));
    } catch (error) {
      throw corrupt(file, (error as Error).message, error);
    }
    if (!parsed.success)
      throw corrupt(file, parsed.error.issues[0]?.message ?? 'invalid record', parsed.error);
    return parsed.data;
  }

  async write(record: SlotRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = this.fileOf(record.slot);
    const temp = `${file}.${process.pid}.tmp`;
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await syncDirectory(this.dir);
  }

  async remove(slot: Slot): Promise<void> {
    await rm(this.fileOf(slot), { force: true });
    await syncDirectory(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/** Makes a rename in `dir` durable. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function corrupt(file: string, reason: string, cause: unknown): CutoverError {
  return new CutoverError(
    'CUTOVER_E_STORE',
    `${file} is not a valid process record (${reason}); stop its processes by hand and delete it`,
    { cause },
  );
}
