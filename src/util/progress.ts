/**
 * A progress bar on stderr for long jobs (indexing, training, evaluation). On a terminal it redraws
 * one line; elsewhere (CI, logs) it prints a line at most every few seconds.
 */
export class ProgressBar {
  private done = 0;
  private lastPrint = 0;
  private readonly started = Date.now();
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly minIntervalMs = 3000,
  ) {}

  tick(n = 1): void {
    this.update(this.done + n);
  }

  update(done: number): void {
    this.done = Math.min(done, this.total);
    const now = Date.now();
    const finished = this.done >= this.total;
    if (!finished && now - this.lastPrint < (this.tty ? 100 : this.minIntervalMs)) return;
    this.lastPrint = now;
    const ratio = this.total > 0 ? this.done / this.total : 1;
    const elapsed = (now - this.started) / 1000;
    const eta = ratio > 0 ? elapsed / ratio - elapsed : 0;
    const width = 24;
    const bar = '█'.repeat(Math.round(ratio * width)).padEnd(width, '░');
    const line = `${this.label} ${bar} ${this.done}/${this.total} (${(ratio * 100).toFixed(0)}%) ${elapsed.toFixed(0)}s${finished ? '' : `, ~${eta.toFixed(0)}s left`}`;
    if (this.tty) process.stderr.write(`\r${line}${finished ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  }
}
