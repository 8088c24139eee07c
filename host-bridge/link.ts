// The byte pipe to a PSD: a serial port (USB board, pseudo-terminal) or tcp://host:port.
import net from 'node:net';
import fs from 'node:fs';
import { SerialPort } from 'serialport';
import { ErrorCode } from '../protocol/errors.ts';
import { PsdError } from './errors.ts';

export interface Link {
  readonly description: string;
  write(bytes: Buffer): void;
  onData(handler: (bytes: Buffer) => void): void;
  onClose(handler: (err?: Error) => void): void;
  close(): Promise<void>;
}

export const DEFAULT_BAUD = 115200;

export async function openLink(port: string, opts: { baudRate?: number; connectTimeoutMs?: number } = {}): Promise<Link> {
  if (!port) throw new PsdError(ErrorCode.NO_DEVICE, 'no port given (use --port or set PSD_PORT)');
  if (port.startsWith('tcp://')) return openTcp(port, opts.connectTimeoutMs ?? 3000);
  return openSerial(port, opts.baudRate ?? DEFAULT_BAUD);
}

function openTcp(url: string, timeoutMs: number): Promise<Link> {
  let u: URL;
  try {
    u = new URL(url);
    if (!u.hostname || !/^\d+$/.test(u.port)) throw new Error('no host:port');
  } catch {
    return Promise.reject(new PsdError(ErrorCode.BAD_ARGUMENT, `${url} is not a tcp://host:port address`));
  }
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port) });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new PsdError(ErrorCode.NO_DEVICE, `${url}: connection timed out`));
    }, timeoutMs);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new PsdError(ErrorCode.NO_DEVICE, `${url}: ${e.code ?? e.message}`));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      let closed = false;
      resolve({
        description: url,
        write: (b) => socket.write(b),
        onData: (h) => socket.on('data', h),
        onClose: (h) => {
          socket.on('close', () => h());
          socket.on('error', (e) => h(e));
        },
        close: () =>
          new Promise((r) => {
            if (closed) return r();
            closed = true;
            socket.end(() => r());
            setTimeout(() => {
              socket.destroy();
              r();
            }, 200).unref();
          })
      });
    });
  });
}

function openSerial(path: string, baudRate: number): Promise<Link> {
  return new Promise((resolve, reject) => {
    if (!fs.existsSync(path)) return reject(new PsdError(ErrorCode.NO_DEVICE, `${path} does not exist`));
    const sp = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
    sp.open((err) => {
      if (err) {
        const busy = /lock|busy|EBUSY/i.test(err.message);
        return reject(new PsdError(busy ? ErrorCode.PORT_BUSY : ErrorCode.NO_DEVICE, `${path}: ${err.message}`));
      }
      resolve({
        description: path,
        write: (b) => sp.write(b),
        onData: (h) => sp.on('data', h),
        onClose: (h) => {
          sp.on('close', (e: Error | null) => h(e ?? undefined));
          sp.on('error', (e) => h(e));
        },
        close: () => new Promise((r) => (sp.isOpen ? sp.close(() => r()) : r()))
      });
    });
  });
}

/** Serial ports on this machine. SerialPort.list() needs udevadm; where it is missing
 * (containers) fall back to the usual device names. */
export async function listPorts(): Promise<{ path: string; manufacturer?: string; vendorId?: string; productId?: string }[]> {
  try {
    const ports = await SerialPort.list();
    return ports.map((p) => ({ path: p.path, manufacturer: p.manufacturer, vendorId: p.vendorId, productId: p.productId }));
  } catch {
    const dev = fs.readdirSync('/dev').filter((n) => /^tty(ACM|USB|AMA)\d+$/.test(n));
    return dev.map((n) => ({ path: '/dev/' + n }));
  }
}
