/**
 * The shell steps of examples/jenkins/Jenkinsfile and examples/github-actions/deploy.yml, read
 * from those files and run in their order with their environment, against a real nginx in
 * one-shot mode (no cutover server): build, deploy with the smoke hook through the preview route,
 * verify, and roll back on failure, the way Jenkins and GitHub Actions sequence them.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { startNginxHarness } from '../support/daemons/nginx.js';
import { CutoverHarness } from './harness.js';
import { daemonFrom, type RouterDaemon } from './router-scenario.js';
import { sample } from './oneshot-scenario.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

/** One shell step as the CI system would run it. */
interface Step {
  readonly name: string;
  readonly script: string;
  readonly env: Record<string, string>;
  /** When it runs: after success only, or also once an earlier step failed. */
  readonly when: (state: { failed: boolean; outcomes: Record<string, 'success' | 'failure'> }) => boolean;
  readonly id?: string;
}

interface PipelineRun {
  /** Steps that ran, with their exit codes. */
  readonly ran: { name: string; code: number }[];
  readonly failed: boolean;
  readonly output: string;
}

// ---- GitHub Actions: steps with `run:`, their `env`, `if:` and `${{ env.X }}` --------------

interface WorkflowStep {
  name?: string;
  id?: string;
  run?: string;
  uses?: string;
  if?: string;
  env?: Record<string, string>;
}

/** The `if:` expressions the workflow uses; any other makes the test fail (extend it here). */
const CONDITIONS: Record<string, Step['when']> = {
  "failure() && steps.verify.outcome == 'failure'": ({ failed, outcomes }) =>
    failed && outcomes.verify === 'failure',
};

function githubActionsSteps(): { jobEnv: Record<string, string>; steps: Step[] } {
  const workflow = parseYaml(readFileSync(path.join(ROOT, 'examples/github-actions/deploy.yml'), 'utf8')) as {
    jobs: { deploy: { env: Record<string, string>; steps: WorkflowStep[] } };
  };
  const job = workflow.jobs.deploy;
  const steps = job.steps
    .filter((step) => step.run !== undefined)
    .map((step): Step => {
      const condition = step.if;
      let when: Step['when'] = ({ failed }) => !failed;
      if (condition !== undefined) {
        const known = CONDITIONS[condition];
        assert.ok(known, `deploy.yml: the test does not know the condition "${condition}"`);
        when = known;
      }
      return { name: step.name ?? step.run!, script: step.run!, env: step.env ?? {}, when, id: step.id };
    });
  return { jobEnv: job.env, steps };
}

/** `${{ env.X }}` is the only expression the workflow's values use. */
function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{\{\s*env\.(\w+)\s*\}\}/g, (_whole, name: string) => env[name] ?? '');
}

// ---- Jenkins: environment {} and each stage's `sh` steps and `post { failure { sh } }` --------

function jenkinsPipeline(gitCommit: string): { env: Record<string, string>; steps: Step[] } {
  const text = readFileSync(path.join(ROOT, 'examples/jenkins/Jenkinsfile'), 'utf8');
  const envBlock = /environment \{([\s\S]*?)\n {2}\}/.exec(text)?.[1];
  assert.ok(envBlock, 'Jenkinsfile has an environment block');
  const env: Record<string, string> = {};
  for (const line of envBlock.split('\n')) {
    const match = /^\s*(\w+) = (['"])(.*)\2\s*$/.exec(line);
    if (!match) continue;
    const [, name, , raw] = match;
    const value = raw!.replace(/\$\{env\.GIT_COMMIT\.take\((\d+)\)\}/g, (_whole, count: string) =>
      gitCommit.slice(0, Number(count)),
    );
    assert.doesNotMatch(value, /\$\{/, `Jenkinsfile: the test does not know the expression in ${name}`);
    env[name!] = value;
  }
  const steps: Step[] = [];
  for (const stage of text.split(/\n\s*stage\('/).slice(1)) {
    const name = stage.slice(0, stage.indexOf("'"));
    const [main, post = ''] = stage.split(/\n\s*post \{/);
    for (const match of main!.matchAll(/sh '([^']+)'/g))
      steps.push({ name, script: match[1]!, env: {}, when: ({ failed }) => !failed, id: name });
    // `post { failure { sh … } }` of a stage runs when that stage failed.
    const failure = /failure \{(?:\s*\/\/[^\n]*)*\s*sh '([^']+)'/.exec(post);
    if (failure)
      steps.push({
        name: `${name} (post failure)`,
        script: failure[1]!,
        env: {},
        when: ({ outcomes }) => outcomes[name] === 'failure',
      });
  }
  return { env, steps };
}

// ---- running steps ---------------------------------------------------------------------------

function runShell(
  script: string,
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    // Both CI systems run a step with bash -e (GitHub Actions) or sh -xe (Jenkins) in the checkout.
    const child = spawn('bash', ['-e', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });
}

async function runSteps(steps: Step[], cwd: string, env: Record<string, string>): Promise<PipelineRun> {
  const ran: PipelineRun['ran'] = [];
  const outcomes: Record<string, 'success' | 'failure'> = {};
  let failed = false;
  let output = '';
  const stepEnv = { ...env };
  for (const step of steps) {
    if (!step.when({ failed, outcomes })) continue;
    const own = Object.fromEntries(
      Object.entries(step.env).map(([key, value]) => [key, expand(value, stepEnv)]),
    );
    const result = await runShell(step.script, cwd, { ...stepEnv, ...own });
    output += `--- ${step.name} (exit ${result.code})\n${result.output}`;
    ran.push({ name: step.name, code: result.code });
    if (step.id !== undefined && !(step.id in outcomes))
      outcomes[step.id] = result.code === 0 ? 'success' : 'failure';
    if (result.code !== 0) failed = true;
    // GitHub Actions: a step's `>> $GITHUB_ENV` lines are the next steps' environment.
    if (stepEnv.GITHUB_ENV !== undefined) {
      for (const line of readFileSync(stepEnv.GITHUB_ENV, 'utf8').split('\n')) {
        const at = line.indexOf('=');
        if (at > 0) stepEnv[line.slice(0, at)] = line.slice(at + 1);
      }
    }
  }
  return { ran, failed, output };
}

describe('pipeline steps (Jenkinsfile, GitHub Actions) against a real nginx in one-shot mode', () => {
  let daemon: RouterDaemon | undefined;
  let harness: CutoverHarness | undefined;
  const h = (): CutoverHarness => {
    assert.ok(harness, 'the pipeline harness did not start');
    return harness;
  };
  /** What every CI step gets from the agent: how to run cutover, which config, where live traffic is. */
  const agentEnv = (): Record<string, string> => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    CUTOVER: `${process.execPath} --import ${TSX} ${CLI}`,
    CUTOVER_CONFIG: h().configFile,
  });
  const jenkins = async (gitCommit: string): Promise<PipelineRun> => {
    const pipeline = jenkinsPipeline(gitCommit);
    // LIVE_URL names the site's public address: here, the test's nginx.
    return runSteps(pipeline.steps, h().dir, {
      ...agentEnv(),
      GIT_COMMIT: gitCommit,
      ...pipeline.env,
      LIVE_URL: h().trafficUrl,
    });
  };
  const githubActions = async (sha: string, overrides: Record<string, string> = {}): Promise<PipelineRun> => {
    const { jobEnv, steps } = githubActionsSteps();
    const githubEnv = path.join(h().dir, `github-env-${sha}`);
    writeFileSync(githubEnv, '');
    return runSteps(steps, h().dir, {
      ...agentEnv(),
      GITHUB_SHA: sha,
      GITHUB_ENV: githubEnv,
      ...jobEnv,
      LIVE_URL: h().trafficUrl,
      ...overrides,
    });
  };
  const names = (run: PipelineRun): string[] => run.ran.map((step) => `${step.name}:${step.code}`);

  before(async () => {
    daemon = await daemonFrom(startNginxHarness, { closeHarnessRouter: true })();
    harness = await CutoverHarness.create({
      releases: {},
      router: { config: daemon.config, url: daemon.url },
      extraYaml: 'hooks: { smoke: examples/pipelines/smoke.sh }',
    });
    // The checkout: the examples, and the app's source the build step copies.
    symlinkSync(path.join(ROOT, 'examples'), path.join(harness.dir, 'examples'));
    mkdirSync(path.join(harness.dir, 'app'));
    writeFileSync(path.join(harness.dir, 'app', 'README'), 'the e2e app runs from test/e2e/apps\n');
  });
  after(async () => {
    try {
      await harness?.teardown();
    } finally {
      await daemon?.teardown();
    }
  });

  it('Jenkins: build, deploy and verify a first release', async () => {
    const run = await jenkins('aaaaaaaaaaaa0001');
    assert.equal(run.failed, false, run.output);
    assert.deepEqual(names(run), ['Build:0', 'Deploy:0', 'Verify:0'], run.output);
    assert.deepEqual(await sample(h().trafficUrl, 10), ['aaaaaaaaaaaa']);
  });

  it('GitHub Actions: the smoke hook passes through the preview route, then traffic moves', async () => {
    const run = await githubActions('bbbbbbbbbbbb0002');
    assert.equal(run.failed, false, run.output);
    assert.deepEqual(names(run), ['Name the release:0', 'Build:0', 'Deploy:0', 'Verify:0'], run.output);
    const result = JSON.parse(readFileSync(path.join(h().dir, 'cutover-deploy.json'), 'utf8')) as {
      ok: boolean;
      deployment: { phase: string; release: string };
    };
    assert.deepEqual(
      [result.ok, result.deployment.phase, result.deployment.release],
      [true, 'standby', 'bbbbbbbbbbbb'],
    );
    assert.deepEqual(await sample(h().trafficUrl, 10), ['bbbbbbbbbbbb']);
  });

  it('Jenkins: a build the smoke test rejects exits 1 at Deploy, traffic never leaves the live release', async () => {
    // A stale artifact: the app reports another version than the release it was built as.
    writeFileSync(path.join(h().dir, 'app', 'VERSION'), 'stale-build\n');
    try {
      const run = await jenkins('cccccccccccc0003');
      assert.equal(run.failed, true);
      assert.deepEqual(names(run), ['Build:0', 'Deploy:1'], run.output);
      assert.match(
        run.output,
        /smoke: .* answered \\"stale-build\\", expected it to contain \\"cccccccccccc\\"/,
      );
    } finally {
      rmSync(path.join(h().dir, 'app', 'VERSION'));
    }
    assert.deepEqual(await sample(h().trafficUrl, 10), ['bbbbbbbbbbbb']);
  });

  it('GitHub Actions: a failing live check after the deploy rolls back to the previous release', async () => {
    // The public endpoint fails (nothing listens there): the verify step fails after the deploy.
    const run = await githubActions('dddddddddddd0004', { LIVE_URL: 'http://127.0.0.1:9/' });
    assert.equal(run.failed, true);
    assert.deepEqual(
      names(run),
      ['Name the release:0', 'Build:0', 'Deploy:0', 'Verify:1', 'Roll back:0'],
      run.output,
    );
    assert.deepEqual(await sample(h().trafficUrl, 10), ['bbbbbbbbbbbb']);
  });

  it('Jenkins: a failing Verify stage runs its post-failure rollback', async () => {
    const pipeline = jenkinsPipeline('eeeeeeeeeeee0005');
    const run = await runSteps(pipeline.steps, h().dir, {
      ...agentEnv(),
      GIT_COMMIT: 'eeeeeeeeeeee0005',
      ...pipeline.env,
      LIVE_URL: 'http://127.0.0.1:9/',
    });
    assert.equal(run.failed, true);
    assert.deepEqual(names(run), ['Build:0', 'Deploy:0', 'Verify:1', 'Verify (post failure):0'], run.output);
    assert.deepEqual(await sample(h().trafficUrl, 10), ['bbbbbbbbbbbb']);
  });
});
