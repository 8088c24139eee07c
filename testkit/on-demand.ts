// The firmware's on-demand modules by Storage name (firmware/core/modules.ts), for boards in
// Node that run the core from its sources (testkit/memory-board.ts).
import * as boot from '../firmware/ondemand/boot.ts';
import * as store from '../firmware/ondemand/store.ts';
import * as seal from '../firmware/ondemand/seal.ts';
import * as admin from '../firmware/ondemand/admin.ts';
import * as session from '../firmware/ondemand/session.ts';
import * as audit from '../firmware/ondemand/audit.ts';
import * as batch from '../firmware/ondemand/batch.ts';
import { BOOT, STORE, SEAL, ADMIN, SESSION, AUDIT, BATCH } from '../firmware/core/modules.ts';

export const ON_DEMAND: Record<string, unknown> = { [BOOT]: boot, [STORE]: store, [SEAL]: seal, [ADMIN]: admin, [SESSION]: session, [AUDIT]: audit, [BATCH]: batch };
