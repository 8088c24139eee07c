// A secure session between the PSD and the PSS with the host as a dumb relay (`psd upload
// --session`, funds resets and rekeying through the KMS): the PSS's requests to the PSD go
// through the host's PsdClient, the answers back through the PSS client (kit/pss-client.ts).
import { Command } from '../protocol/commands.ts';
import type { SessionReport, PsdRequest } from '../protocol/pss-wire.ts';
import { PssClient, PssClientError } from '../kit/pss-client.ts';
import { PsdError } from './errors.ts';
import type { PsdClient } from './client.ts';

export interface SessionRun {
  /** the device number (from STATUS when not given) */
  device?: number;
  /** a funds reset to load in the same session, minor units */
  funds?: number;
  /** PSD parameters to set (CONFIG payload) */
  config?: Record<string, unknown>;
  /** the KMS replaces the device's keys in the same session */
  rekey?: boolean;
  /** the data center withdraws the device from service after its final block is confirmed */
  withdraw?: boolean;
  /** called with each request relayed (for progress output) */
  onRelay?: (r: PsdRequest) => void;
}

/**
 * A secure session between the PSD and the PSS, with this host as a dumb relay: it passes
 * each request of the PSS to the PSD and each answer back, until the PSS reports. The
 * report says what happened: block stored or repeat, confirmed, funds loaded, and the
 * error that stopped the session, if any. A host-side failure (no answer, line lost)
 * ends the session on the PSS and is thrown.
 */
export async function runSession(pss: PssClient, psd: Pick<PsdClient, 'request'>, opts: SessionRun = {}): Promise<SessionReport> {
  let device = opts.device;
  if (device === undefined) {
    const status = await psd.request(Command.STATUS);
    if (!status.device) throw new PssClientError('NOT_PROVISIONED', `the PSD (${status.deviceId}) is not provisioned: run psd provision --kms first`);
    device = status.device as number;
  }
  let step = await pss.sessionBegin(device, { funds: opts.funds, config: opts.config, rekey: opts.rekey, ...(opts.withdraw ? { withdraw: true } : {}) });
  while (!step.done) {
    const relay = step.relay;
    opts.onRelay?.(relay);
    let input: { answer: object } | { error: { code: number; message: string } };
    try {
      input = { answer: await psd.request(relay.type, relay.payload) };
    } catch (e) {
      // the PSD's own refusal goes to the PSS; a dead line is the host's problem
      if (!(e instanceof PsdError) || e.code >= 100) {
        await pss.sessionEnd().catch(() => {});
        throw e;
      }
      input = { error: { code: e.code, message: e.message } };
    }
    step = await pss.sessionNext(input);
  }
  return step.report;
}
