// The virtual board's serial devices and console: bytes in from the host (receive buffer,
// chunks), bytes out (data port, loopback, log), and Espruino's REPL on the console device.
import { BoardClock } from './clock.ts';
import { bin, bytes, type Life } from './state.ts';

export abstract class BoardConsole extends BoardClock {
  // ------------------------------------------------------------------ serial

  /** Bytes from the host side of the data port (what a USB/serial host would send). */
  hostWrite(data: Buffer | Uint8Array | string): void {
    this.inject(this.board.dataPort, typeof data === 'string' ? bytes(data) : Buffer.from(data));
  }

  /** Bytes arriving at any serial device of the board (e.g. 'Serial1'). */
  inject(dev: string, data: Buffer): void {
    const l = this.life;
    if (!l || !this.alive(l) || !data.length) return;
    const cap = this.opts.rxBufferBytes ?? 1024;
    const room = cap - l.rxPending;
    if (data.length > room) {
      l.errorFlags.add('UART_OVERFLOW');
      this.emit('overflow', { dev, dropped: data.length - Math.max(0, room) });
      data = data.subarray(0, Math.max(0, room));
    }
    if (!data.length) return;
    l.rx.push({ dev, data: Buffer.from(data) });
    l.rxPending += data.length;
    if (!l.rxScheduled) {
      l.rxScheduled = true;
      setImmediate(() => this.drainRx(l));
    }
  }

  protected drainRx(l: Life): void {
    l.rxScheduled = false;
    if (!this.alive(l) || !l.rx.length) return;
    this.deliverRx(l);
    this.idle(l);
    if (this.alive(l) && l.rx.length && !l.rxScheduled) {
      l.rxScheduled = true;
      setImmediate(() => this.drainRx(l));
    }
  }

  /** Hand the oldest chunk (one device, at most rxChunkBytes) to the REPL or the device. */
  protected deliverRx(l: Life): void {
    const dev = l.rx[0].dev;
    const max = this.opts.rxChunkBytes ?? 256;
    const parts: Buffer[] = [];
    let n = 0;
    while (l.rx.length && l.rx[0].dev === dev && n < max) {
      const e = l.rx[0];
      const take = Math.min(max - n, e.data.length);
      parts.push(e.data.subarray(0, take));
      n += take;
      if (take === e.data.length) l.rx.shift();
      else e.data = e.data.subarray(take);
    }
    l.rxPending -= n;
    const chunk = Buffer.concat(parts);
    if (dev === l.console) this.replInput(l, chunk);
    else l.rt!.data(dev, bin(chunk));
  }

  protected out(l: Life, dev: string | null, data: Buffer): void {
    if (!this.alive(l) || dev === null || dev === 'null' || !data.length) return;
    this.emit('output', dev, data);
    if (dev === this.board.dataPort) {
      this.emit('hostData', data);
      return;
    }
    if (dev === 'LoopbackA') this.inject('LoopbackB', data);
    else if (dev === 'LoopbackB') this.inject('LoopbackA', data);
    this.logOut(dev, data);
  }

  protected consoleWrite(l: Life, s: string): void {
    this.out(l, l.console, bytes(s));
  }

  protected logOut(dev: string, data: Buffer): void {
    const log = this.opts.log;
    if (!log) return;
    let s = (this.logBuf.get(dev) || '') + data.toString('latin1');
    let i: number;
    while ((i = s.indexOf('\n')) >= 0) {
      log(`[${dev}] ${s.slice(0, i).replace(/\r$/, '')}`);
      s = s.slice(i + 1);
    }
    this.logBuf.set(dev, s);
  }

  protected flushLog(): void {
    const log = this.opts.log;
    for (const [dev, s] of this.logBuf) if (s && log) log(`[${dev}] ${s}`);
    this.logBuf.clear();
  }

  /** Espruino's REPL on the console device: echo, line editing, evaluate on Enter. */
  protected replInput(l: Life, chunk: Buffer): void {
    for (const c of chunk) {
      if (!this.alive(l)) return;
      if (c === 10 && l.lastCR) { l.lastCR = false; continue; }
      l.lastCR = c === 13;
      if (c === 13 || c === 10) {
        if (l.echo && !l.inputRemoved) this.consoleWrite(l, '\r\n');
        const code = l.replCont + l.replLine;
        l.replLine = '';
        l.inputRemoved = true;
        if (!code.trim()) { l.replCont = ''; this.idle(l); continue; }
        const more = l.rt!.repl(code);
        if (!this.alive(l)) return;
        if (more) { l.replCont = code + '\n'; this.consoleWrite(l, ':'); l.inputRemoved = false; }
        else { l.replCont = ''; this.idle(l); }
        this.schedule(l);
      } else if (c === 8 || c === 127) {
        if (l.replLine.length) {
          l.replLine = l.replLine.slice(0, -1);
          if (l.echo && !l.inputRemoved) this.consoleWrite(l, '\x08 \x08');
        }
      } else if (c === 3) {
        this.removeInputLine(l);
        l.replLine = '';
        l.replCont = '';
        this.idle(l);
      } else if (c >= 32 || c === 9) {
        l.replLine += String.fromCharCode(c);
        if (l.echo && !l.inputRemoved) this.out(l, l.console, Buffer.from([c]));
      }
    }
  }

  protected chrome(): boolean {
    return this.opts.consoleChrome !== false;
  }

  /** jsiConsoleRemoveInputLine: before output, take the prompt and the input line away. */
  protected removeInputLine(l: Life): void {
    if (l.inputRemoved) return;
    l.inputRemoved = true;
    if (!l.echo || !this.chrome()) return;
    const lines = (l.replCont + l.replLine).split('\n');
    this.consoleWrite(l, '\x1b[D'.repeat(lines[lines.length - 1].length) + '\x1b[A'.repeat(lines.length - 1) + '\r\x1b[J');
  }

  /** End of a jsiLoop: give the prompt and the input line back if they were taken away. */
  protected idle(l: Life): void {
    if (!this.alive(l) || !l.inputRemoved) return;
    l.inputRemoved = false;
    if (l.echo && this.chrome()) this.consoleWrite(l, '>' + (l.replCont + l.replLine).replace(/\n/g, '\r\n:'));
  }

  protected defaultConsole(): string {
    const c = this.board.consoleDefault;
    // the Linux build's console (stdin/stdout) is its USB device (EV_USBSERIAL)
    if (c === 'stdio') return 'USB';
    return this.devices.includes(c) ? c : 'stdio';
  }
}
