/**
 * The `notifications:` section: defaults, and every way it can be wrong named at its line and
 * key — a missing, empty or non-URL file, both or neither of url and urlFile, a bad scheme.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { isCutoverError } from '../../src/shared/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-notifications-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;

function configWith(notifications: string): string {
  const file = path.join(dir, `case-${++counter}.yml`);
  writeFileSync(
    file,
    `app: web\nplatform: { kind: process, command: node }\nnotifications:\n${notifications}\n`,
  );
  return file;
}

function errorOf(file: string): string {
  try {
    loadConfig(file);
  } catch (error) {
    assert.ok(isCutoverError(error, 'CUTOVER_E_CONFIG'), String(error));
    return error.message;
  }
  return assert.fail('the config loaded');
}

describe('notifications config', () => {
  it('defaults: every event, 5 s per attempt, 5 retries; none configured is an empty list', () => {
    writeFileSync(path.join(dir, 'hook-url'), 'https://hooks.example.com/T/B/X\n');
    const config = loadConfig(configWith('  - { kind: slack, urlFile: hook-url }'));
    assert.deepEqual(config.notifications, [
      { kind: 'slack', urlFile: 'hook-url', timeout: 5_000, retries: 5 },
    ]);
    const none = path.join(dir, 'none.yml');
    writeFileSync(none, 'app: web\nplatform: { kind: process, command: node }\n');
    assert.deepEqual(loadConfig(none).notifications, []);
  });

  const broken: [string, string, RegExp][] = [
    [
      'a urlFile that does not exist',
      '  - { kind: webhook, urlFile: nowhere }',
      /:4:\d+: notifications\[0\]\.urlFile: cannot read .*nowhere \(ENOENT\)/,
    ],
    [
      'an empty urlFile',
      '  - { kind: webhook, urlFile: empty }',
      /:4:\d+: notifications\[0\]\.urlFile: .*empty is empty/,
    ],
    [
      'a urlFile that holds no URL',
      '  - { kind: slack, urlFile: not-a-url }',
      /notifications\[0\]\.urlFile: .*not-a-url does not start with an http\(s\) URL/,
    ],
    [
      'a missing secretFile',
      '  - { kind: webhook, url: "http://127.0.0.1:1/x", secretFile: no-key }',
      /:4:\d+: notifications\[0\]\.secretFile: cannot read .*no-key \(ENOENT\)/,
    ],
    [
      'both url and urlFile',
      '  - { kind: webhook, url: "http://a.example/x", urlFile: hook-url }',
      /notifications\[0\]: set exactly one of url and urlFile/,
    ],
    [
      'neither url nor urlFile',
      '  - { kind: webhook }',
      /notifications\[0\]: set exactly one of url and urlFile/,
    ],
    [
      'a scheme other than http(s)',
      '  - { kind: webhook, url: "file:///etc/passwd" }',
      /notifications\[0\]\.url:/,
    ],
    [
      'an unknown event',
      '  - { kind: webhook, url: "http://a.example/x", events: [deployed] }',
      /notifications\[0\]\.events\[0\]:/,
    ],
    ['an unknown kind', '  - { kind: pager, url: "http://a.example/x" }', /notifications\[0\]\.kind:/],
  ];
  for (const [name, yaml, expected] of broken) {
    it(`refuses ${name}, naming line and key`, () => {
      writeFileSync(path.join(dir, 'empty'), '');
      writeFileSync(path.join(dir, 'not-a-url'), 'hooks.example.com/T/B/X\n');
      writeFileSync(path.join(dir, 'hook-url'), 'https://hooks.example.com/T/B/X\n');
      assert.match(errorOf(configWith(yaml)), expected);
    });
  }

  it('never puts what a url file holds into an error', () => {
    writeFileSync(path.join(dir, 'token-url'), 'ftp://SECRETTOKEN@example.com/\n');
    assert.doesNotMatch(errorOf(configWith('  - { kind: webhook, urlFile: token-url }')), /SECRETTOKEN/);
  });
});
