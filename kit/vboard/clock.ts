// The virtual board's clock and timers: uptime on the host's clock or a manual one,
// getTime(), timers falling due in order (advanceTime), and the host timer that drives them.
import { performance } from 'node:perf_hooks';
import { BoardState, type Life, type Timer } from './state.ts';

export abstract class BoardClock extends BoardState {
  /** End of a jsiLoop (console.ts): give the prompt and the input line back. */
  protected abstract idle(l: Life): void;

  // ------------------------------------------------------------------ clock and timers

  protected uptime(l: Life): number {
    if (this.opts.clock === 'manual') return l.manual;
    return (performance.now() - l.clockBase) / 1000 + l.skip;
  }

  protected setUptime(l: Life, t: number): void {
    const cur = this.uptime(l);
    if (t <= cur) return;
    if (this.opts.clock === 'manual') l.manual = t;
    else l.skip += t - cur;
  }

  /** getTime() of the running board (seconds) */
  getTime(): number {
    const l = this.life;
    return l ? this.uptime(l) + l.offset : 0;
  }

  /**
   * Seconds until the next pending timer falls due (0 when one is already due), or null when
   * no timer is pending or the board is off: what "would the interpreter keep running" asks.
   */
  nextTimerIn(): number | null {
    const l = this.life;
    if (!l || !this.alive(l) || !l.timers.size) return null;
    let min = Infinity;
    for (const t of l.timers.values()) if (t.due < min) min = t.due;
    return Math.max(0, min - this.uptime(l));
  }

  /** true while bytes wait in the receive buffer (delivered on a later macrotask) */
  rxPending(): boolean {
    const l = this.life;
    return !!l && this.alive(l) && l.rx.length > 0;
  }

  /**
   * Jump the board clock forward by `seconds`, firing every timer that falls due on the way
   * (in order, with getTime() at each timer's due time). Works with both clock modes.
   */
  advanceTime(seconds: number): void {
    const l = this.life;
    if (!l || !this.alive(l)) return;
    const target = this.uptime(l) + seconds;
    this.fireDue(l, target);
    if (this.alive(l)) {
      this.setUptime(l, target);
      this.schedule(l);
    }
  }

  protected fireDue(l: Life, upTo: number): void {
    let guard = 0;
    while (this.alive(l)) {
      let best = -1;
      let bt: Timer | null = null;
      for (const [id, t] of l.timers) if (t.due <= upTo && (!bt || t.due < bt.due)) { best = id; bt = t; }
      if (!bt) return;
      this.setUptime(l, bt.due);
      const keep = bt.interval > 0;
      if (keep) bt.due += bt.interval;
      else l.timers.delete(best);
      l.rt!.timer(best, keep);
      // timers due at the same moment run in one jsiLoop; the prompt comes back after them
      let more = false;
      for (const t of l.timers.values()) if (t.due <= bt.due) more = true;
      if (!more) this.idle(l);
      if (++guard > 1e6) throw new Error('VirtualBoard: timer storm (more than 1e6 callbacks in one step)');
    }
  }

  protected schedule(l: Life): void {
    if (!this.alive(l)) return;
    if (l.hostTimer) clearTimeout(l.hostTimer);
    l.hostTimer = null;
    let min = Infinity;
    for (const t of l.timers.values()) if (t.due < min) min = t.due;
    if (min === Infinity) return;
    const now = this.uptime(l);
    if (this.opts.clock === 'manual') {
      // the clock stands still, but what is due now still runs (e.g. setTimeout(fn, 0))
      if (min <= now && !l.immediate)
        l.immediate = setImmediate(() => {
          l.immediate = null;
          this.fireDue(l, this.uptime(l));
          this.idle(l);
          this.schedule(l);
        });
      return;
    }
    const delay = Math.max(0, Math.min((min - now) * 1000, 0x7fffffff));
    l.hostTimer = setTimeout(() => {
      l.hostTimer = null;
      this.fireDue(l, this.uptime(l));
      this.idle(l);
      this.schedule(l);
    }, delay);
  }
}
