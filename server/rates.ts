// Rate tables at the data center (protocol/rates.ts): the postal operator adds them ahead of a
// price change (`pss rates add`), and every secure session brings the PSD the table in force
// and any newer ones (server/session-driver.ts); the PSD switches on their effective date.
import { encodeRates, ANY_BAND, type RateTable, type RateEntry } from '../protocol/rates.ts';
import { rateTableProblem } from '../protocol/rate-check.ts';
import { PssError } from '../protocol/pss-errors.ts';
import type { PssStore as Store } from './store.ts';

interface RateRow {
  version: number;
  effective: number;
  entries: string;
  added_at: number;
}

function tableOf(r: RateRow): RateTable {
  return { version: Number(r.version), effective: Number(r.effective), entries: JSON.parse(r.entries) as RateEntry[] };
}

/** Adds a table; its version must be above every table's so far. Throws BAD_ARGUMENT with why. */
export function addRateTable(store: Store, t: RateTable): RateTable {
  const problem = rateTableProblem(encodeRates(t));
  if (problem) throw new PssError('BAD_ARGUMENT', `rate table ${t.version}: ${problem}`);
  return store.change(() => {
    const top = store.get<{ v: number | null }>('SELECT MAX(version) AS v FROM rate_tables', []);
    if (top && top.v !== null && Number(top.v) >= t.version) throw new PssError('BAD_ARGUMENT', `rate table version ${t.version}: version ${top.v} exists; versions rise`);
    store.run('INSERT INTO rate_tables(version, effective, entries, added_at) VALUES (?, ?, ?, ?)', [t.version, t.effective, JSON.stringify(t.entries), Math.floor(Date.now() / 1000)]);
    return t;
  });
}

/** Every table, oldest version first. */
export function rateTables(store: Store): RateTable[] {
  return store.read(() => store.all<RateRow>('SELECT version, effective, entries, added_at FROM rate_tables ORDER BY version', []).map(tableOf));
}

/** What a session brings the PSD at `now` (seconds): the table in force and the newer ones,
 * oldest first (the PSD holds three). */
export function tablesForSession(store: Store, now: number): RateTable[] {
  const all = rateTables(store);
  let from = 0;
  for (let i = 0; i < all.length; i++) if (all[i].effective <= now) from = i;
  return all.slice(from).slice(-3);
}

/** A table from its JSON file form: {version, effective: "YYYY-MM-DD" | seconds, entries:
 * [{category, band: <index> | "any", postage}]}. */
export function parseRateEntries(list: unknown): RateEntry[] {
  if (!Array.isArray(list)) throw new PssError('BAD_ARGUMENT', 'entries must be a list of {category, band, postage}');
  return list.map((e: any, i) => {
    const band = e?.band === 'any' || e?.band === undefined ? ANY_BAND : e.band;
    for (const [k, v] of [['category', e?.category], ['band', band], ['postage', e?.postage]] as const)
      if (!Number.isInteger(v)) throw new PssError('BAD_ARGUMENT', `entry ${i}: ${k} must be an integer${k === 'band' ? ' or "any"' : ''}`);
    return { category: e.category, band, postage: e.postage };
  });
}
