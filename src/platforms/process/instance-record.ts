import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { syncDirectoryAsync, writeFileAtomicAsync } from '../../shared/atomic-write.js';
import { CutoverError } from '../../shared/errors.js';
import { SLOTS, type Slot } from '../../shared/slot.js';
import { crashPoint } from './crash-point.js';
import { readProcStat } from './proc-stat.js';

/**
 * What the process platform remembers about one instance. It is written *before* the instance
 * is started (intent: index, port, key), and again with pid and start time once they are
 * known, so a cutover killed at any instant of a provision can find every process it started:
 * by pid when it was written, by `key` (in the process's environment, see env-marker.ts) when not.
 */
const instanceRecord = z.object({
  id: z.string(),
  index: z.number().int().min(0),
  release: z.string(),
  host: z.string(),
  port: z.number().int(),
  /** Value of CUTOVER_INSTANCE_KEY in the instance's environment; '' in records of version 1. */
  key: z.string(),
  /** Absent while the instance is only intended (the record was written before the spawn). */
  pid: z.number().int().positive().optional(),
  /** Field 22 of /proc/<pid>/stat when started: a recycled pid has another one. */
  procStartTime: z.string().optional(),
  /** ISO time at which cutover started it (or meant to). */
  startedAt: z.string(),
  logFile: z.string(),
});
export type InstanceRecord = z.infer<typeof instanceRecord>;
/** An instance whose process was started and recorded. */
export type StartedInstanceRecord = InstanceRecord & { pid: number; procStartTime: string };

export function isStarted(record: InstanceRecord): record is StartedInstanceRecord {
  return record.pid !== undefined && record.procStartTime !== undefined;
}

/**
 * `starting`: a provision is under way (some instances may be intents only); a crash leaves it
 * so and reconcile stops everything it names. `ready`: provision() returned these instances.
 */
export type SlotRecordState = 'starting' | 'ready';

const slotRecordV2 = z.object({
  version: z.literal(2),
  slot: z.enum(SLOTS),
  release: z.string(),
  state: z.enum(['starting', 'ready']),
  instances: z.array(instanceRecord),
});

/** Written before intents were recorded: every instance has its pid, the slot is ready. */
const slotRecordV1 = z
  .object({
    version: z.literal(1),
    slot: z.enum(SLOTS),
    release: z.string(),
    instances: z.array(
      instanceRecord
        .omit({ key: true })
        .extend({ pid: z.number().int().positive(), procStartTime: z.string() }),
    ),
  })
  .transform((v1): SlotRecord => ({
    version: 2,
    slot: v1.slot,
    release: v1.release,
    state: 'ready',
    instances: v1.instances.map((instance) => ({ ...instance, key: '' })),
  }));

const slotRecord = z.union([slotRecordV2, slotRecordV1]);
export type SlotRecord = z.infer<typeof slotRecordV2>;

/**
 * One JSON file per slot (`<dir>/<slot>.json`) listing the processes started for it. Written
 * durably (shared/atomic-write.ts: temp file, fsync, rename, fsync the directory), so a crash leaves either the old or the new record, never half.
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
    await writeFileAtomicAsync(this.fileOf(record.slot), `${JSON.stringify(record, null, 2)}\n`, {
      afterStep: crashPoint,
    });
  }

  async remove(slot: Slot): Promise<void> {
    await rm(this.fileOf(slot), { force: true });
    crashPoint();
    await syncDirectoryAsync(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /**
   * Deletes temp files a crashed writer left (never renamed, so never the record of anything);
   * those of a writer still alive (another cutover process on this state dir) stay.
   */
  async removeLeftoverTemps(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const name of names) {
      const writer = /\.(\d+)\.tmp$/.exec(name)?.[1];
      if (writer !== undefined && (await readProcStat(Number(writer))) === undefined) {
        await rm(join(this.dir, name), { force: true });
      }
    }
  }
}

function corrupt(file: string, reason: string, cause: unknown): CutoverError {
  return new CutoverError(
    'CUTOVER_E_STORE',
    `${file} is not a valid process record (${reason}); stop its processes by hand and delete it`,
    { cause },
  );
}
