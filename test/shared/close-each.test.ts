import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { closeEach } from '../../src/shared/close-each.js';
import { Logger, type LogRecord } from '../../src/shared/logger.js';

function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: new Logger((record) => records.push(record), 'debug'), records };
}

void describe('closeEach', () => {
  void it('closes every part in order and returns nothing when none fails', async () => {
    const { logger, records } = recordingLogger();
    const closed: string[] = [];
    const failure = await closeEach(
      [
        { name: 'platform', close: () => Promise.resolve(void closed.push('platform')) },
        { name: 'router', close: () => void closed.push('router') },
      ],
      logger,
    );
    assert.equal(failure, undefined);
    assert.deepEqual(closed, ['platform', 'router']);
    assert.deepEqual(records, []);
  });

  void it('a part that throws does not keep the next ones open; the first error is returned, each logged', async () => {
    const { logger, records } = recordingLogger();
    const closed: string[] = [];
    const first = new Error('platform client stuck');
    const failure = await closeEach(
      [
        { name: 'notifier', close: () => void closed.push('notifier') },
        { name: 'platform', close: () => Promise.reject(first) },
        {
          name: 'router',
          close: () => {
            closed.push('router');
            throw new Error('router already gone');
          },
        },
        { name: 'last', close: () => Promise.resolve(void closed.push('last')) },
      ],
      logger,
    );
    assert.equal(failure, first);
    assert.deepEqual(closed, ['notifier', 'router', 'last']);
    assert.deepEqual(
      records.map((record) => [record.level, record.event, record.part]),
      [
        ['error', 'app.close_failed', 'platform'],
        ['error', 'app.close_failed', 'router'],
      ],
    );
  });

  void it('a part that throws undefined still counts as failed', async () => {
    const { logger } = recordingLogger();
    const failure = await closeEach(
      [
        {
          name: 'odd',
          close: () => {
            // eslint-disable-next-line @typescript-eslint/only-throw-error
            throw undefined;
          },
        },
      ],
      logger,
    );
    assert.ok(failure instanceof Error);
  });
});
