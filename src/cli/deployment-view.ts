import { describeFinding, type Verdict } from '../shared/analysis.js';
import { formatDuration } from '../shared/duration.js';
import type { DeploymentEvent } from '../shared/events.js';
import type { Phase } from '../shared/phase.js';
import type { DeploymentRecord } from '../shared/store.js';
import type { Weights } from '../shared/slot.js';

/** Progress of a deployment as one line: phase, health, traffic split, elapsed time. */
export class DeploymentView {
  private phase: Phase = 'pending';
  private health = '';
  private weights: Weights | undefined;
  /** The last verdict shown per stage, step and provider. */
  private readonly verdicts = new Map<string, Verdict>();
  private readonly started = Date.now();

  constructor(private readonly tty: boolean) {}

  update(event: DeploymentEvent): void {
    switch (event.type) {
      case 'phase':
        this.phase = event.phase;
        if (!this.tty) this.print(`${event.phase}${event.reason ? `: ${event.reason.message}` : ''}`);
        break;
      case 'health':
        this.health = `health ${event.healthy}/${event.total}`;
        if (!this.tty && event.healthy === event.total) this.print(`${this.health} ${event.detail}`);
        break;
      case 'weights':
        this.weights = event.weights;
        if (!this.tty) this.print(`traffic blue ${event.weights.blue}% / green ${event.weights.green}%`);
        break;
      case 'message':
        if (this.tty) this.clear();
        this.print(`${event.level === 'info' ? '' : `${event.level}: `}${event.message}`);
        break;
      case 'analysis': {
        // Asked every interval: a line when a provider's verdict changes, not each time.
        const key = `${event.stage}:${event.step ?? ''}:${event.finding.provider}`;
        if (this.verdicts.get(key) === event.finding.verdict) break;
        this.verdicts.set(key, event.finding.verdict);
        if (this.tty) this.clear();
        this.print(
          `analysis ${event.finding.verdict}${event.step === undefined ? ` (${event.stage})` : ` (step ${event.step + 1})`}: ${describeFinding(event.finding)}`,
        );
        break;
      }
      case 'read-back':
        if (this.tty) this.clear();
        this.print(`${event.state === 'unverifiable' ? 'warn: move not read back: ' : ''}${event.detail}`);
        break;
    }
    if (this.tty) this.render();
  }

  finish(record: DeploymentRecord): void {
    if (this.tty) {
      this.render();
      process.stdout.write('\n');
    }
    const outcome = record.reason ? `${record.phase}: ${record.reason.message}` : record.phase;
    this.print(
      `deployment ${record.id} of ${record.release}: ${outcome} (${formatDuration(Date.now() - this.started)})`,
    );
  }

  private render(): void {
    const split = this.weights ? `traffic blue ${this.weights.blue}% / green ${this.weights.green}%` : '';
    const line = [this.phase, this.health, split, formatDuration(Date.now() - this.started)]
      .filter(Boolean)
      .join('  ·  ');
    process.stdout.write(`\r\x1b[2K${line}`);
  }

  private clear(): void {
    process.stdout.write('\r\x1b[2K');
  }

  private print(line: string): void {
    process.stdout.write(`${line}\n`);
  }
}
