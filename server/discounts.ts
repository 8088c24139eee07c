// Volume discounts: the postal authority's rules (a JSON file, config/discounts.json) applied
// to each customer's statistics of one period (`pss discounts`, `pss export`).
//
// - A rule covers a set of classes (categories); a class belongs to at most one rule, so no
//   piece is discounted twice. Volume counts per customer, per rule, per period.
// - The volume belongs to the customer of the records, never to the mail house or the device
//   that franked it: a customer franked by two mail houses has one volume, both combined.
// - The tier reached is the last tier whose minPieces <= the pieces of the period (a tier is
//   reached exactly at its boundary). Its percent applies to the whole amount of the period.
// - discount = floor(amount * percent / 100) in minor units, computed exactly in integers
//   (percent has at most two decimals: basis points), so the postal authority never pays
//   a fraction of a minor unit more than the rule says.
// - Settlement per customer: "discount" (paid back) or "credit" (for future franking).
// - The period of a record is the period in which its block was sealed (blocks.to_time, UTC),
//   as in server/report.ts.
// - Zero-value pieces (records of postage 0 in a real weight band, server/report.ts
//   ZERO_VALUE_SQL) never count: not toward a tier, not in the amount. Each line says how many
//   it left out (`zeroValue`). A summary record (folded, postage 0, MIXED_BAND) counts as
//   before: its pieces were charged, at mixed postage.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Queryable as Database } from './db.ts';
import { MAX_CATEGORIES } from '../protocol/records.ts';
import { PssError } from '../protocol/pss-errors.ts';
import { queryAll, whereClause, RECORDS_OF_BLOCKS, ZERO_VALUE_SQL, isoTime } from './report.ts';

/** The discount rules shipped with the project; `pss serve --rules` and the statistics commands' --rules replace them. */
export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../config/discounts.json', import.meta.url));

export const SETTLEMENTS = ['discount', 'credit'] as const;
export type Settlement = (typeof SETTLEMENTS)[number];
export const PERIOD_KINDS = ['month', 'quarter', 'year'] as const;
export type PeriodKind = (typeof PERIOD_KINDS)[number];

export interface Tier {
  minPieces: number;
  percent: number;
}

export interface DiscountRule {
  name: string;
  classes: number[];
  /** ascending by minPieces */
  tiers: Tier[];
}

export interface DiscountConfig {
  period: PeriodKind;
  rules: DiscountRule[];
  customers: Record<string, { settlement: Settlement }>;
  defaultSettlement: Settlement;
}

export interface Period {
  kind: PeriodKind;
  /** "2026-11", "2026-Q4" or "2026" */
  label: string;
  /** seconds since 1970 UTC, [from, to) */
  from: number;
  to: number;
}

export interface DiscountLine {
  customer: number;
  period: string;
  rule: string;
  classes: number[];
  /** pieces that count toward the tier: zero-value pieces left out */
  pieces: number;
  amount: number;
  /** zero-value pieces of these classes in the period: not counted in pieces, tier or amount */
  zeroValue: number;
  /** index of the tier reached in the rule's tiers; null below the first tier */
  tier: number | null;
  tierMinPieces: number | null;
  percent: number;
  /** minor units, floor(amount * percent / 100) */
  discount: number;
  settlement: Settlement;
}

export interface CustomerDiscounts {
  customer: number;
  settlement: Settlement;
  pieces: number;
  amount: number;
  /** zero-value pieces left out of every line */
  zeroValue: number;
  discount: number;
  lines: DiscountLine[];
}

export interface DiscountReport {
  period: string;
  periodKind: PeriodKind;
  from: string;
  to: string;
  rounding: 'floor';
  customers: CustomerDiscounts[];
  totals: { pieces: number; amount: number; zeroValue: number; discount: number; paidBack: number; credited: number };
}

// ---------------------------------------------------------------------------------------
// The rules file

class ConfigProblem extends Error {}

function fail(at: string, message: string): never {
  throw new ConfigProblem(`${at}: ${message}`);
}

function objectAt(v: unknown, at: string, allowed: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(at, 'must be an object');
  const o = v as Record<string, unknown>;
  // "description" may document any object (JSON has no comments); anything else unknown is
  // most likely a typo ("minPiece") that would silently change the rules
  for (const k of Object.keys(o)) if (k !== 'description' && !allowed.includes(k)) fail(at, `unknown field "${k}" (expected ${allowed.join(', ')})`);
  if (o.description !== undefined && typeof o.description !== 'string') fail(`${at}.description`, 'must be a string');
  return o;
}

function wholeNumber(v: unknown, at: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(at, `must be a whole number ${min}..${max}, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, at: string, values: readonly T[]): T {
  if (!values.includes(v as T)) fail(at, `must be one of ${values.map((s) => `"${s}"`).join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** percent -> basis points (hundredths of a percent), exactly. */
export function basisPoints(percent: number): number {
  return Math.round(percent * 100);
}

function percentAt(v: unknown, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 100) fail(at, `must be a number 0..100, got ${JSON.stringify(v)}`);
  if (Math.abs(basisPoints(v) - v * 100) > 1e-6) fail(at, `has more than two decimals (${v}): discounts are computed in hundredths of a percent`);
  return v;
}

/** Checks a parsed rules file; errors name the file and the JSON path of the first problem. */
export function parseDiscountConfig(value: unknown, source = 'discount rules'): DiscountConfig {
  try {
    const top = objectAt(value, '(top level)', ['period', 'rules', 'customers', 'defaultSettlement']);
    const period = top.period === undefined ? 'month' : oneOf(top.period, 'period', PERIOD_KINDS);
    const defaultSettlement = top.defaultSettlement === undefined ? 'discount' : oneOf(top.defaultSettlement, 'defaultSettlement', SETTLEMENTS);
    if (!Array.isArray(top.rules) || !top.rules.length) fail('rules', 'must be a non-empty array of rules');
    const classOwner = new Map<number, string>();
    const names = new Set<string>();
    const rules = (top.rules as unknown[]).map((r, i): DiscountRule => {
      const at = `rules[${i}]`;
      const o = objectAt(r, at, ['name', 'classes', 'tiers']);
      if (typeof o.name !== 'string' || !o.name.trim()) fail(`${at}.name`, 'must be a non-empty string');
      if (names.has(o.name)) fail(`${at}.name`, `"${o.name}" names two rules`);
      names.add(o.name);
      if (!Array.isArray(o.classes) || !o.classes.length) fail(`${at}.classes`, 'must be a non-empty array of class numbers');
      const classes = (o.classes as unknown[]).map((c, j) => {
        const cls = wholeNumber(c, `${at}.classes[${j}]`, 0, MAX_CATEGORIES - 1);
        const owner = classOwner.get(cls);
        if (owner !== undefined) fail(`${at}.classes[${j}]`, `class ${cls} is already in rule "${owner}": a piece may be discounted only once`);
        classOwner.set(cls, o.name as string);
        return cls;
      });
      if (!Array.isArray(o.tiers) || !o.tiers.length) fail(`${at}.tiers`, 'must be a non-empty array of {minPieces, percent}');
      let previous = -1;
      const tiers = (o.tiers as unknown[]).map((t, j): Tier => {
        const tat = `${at}.tiers[${j}]`;
        const to = objectAt(t, tat, ['minPieces', 'percent']);
        const minPieces = wholeNumber(to.minPieces, `${tat}.minPieces`, 0, Number.MAX_SAFE_INTEGER);
        if (minPieces <= previous) fail(`${tat}.minPieces`, `must be greater than the previous tier's (${previous}): list tiers in ascending order`);
        previous = minPieces;
        return { minPieces, percent: percentAt(to.percent, `${tat}.percent`) };
      });
      return { name: o.name as string, classes, tiers };
    });
    const customers: Record<string, { settlement: Settlement }> = {};
    if (top.customers !== undefined) {
      const c = objectAt(top.customers, 'customers', Object.keys(top.customers as object));
      for (const [key, entry] of Object.entries(c)) {
        if (key === 'description') continue;
        if (!/^\d+$/.test(key) || Number(key) > 0xffffffff) fail(`customers["${key}"]`, 'the key must be a customer number (0..4294967295)');
        const e = objectAt(entry, `customers["${key}"]`, ['settlement']);
        customers[String(Number(key))] = { settlement: oneOf(e.settlement, `customers["${key}"].settlement`, SETTLEMENTS) };
      }
    }
    return { period, rules, customers, defaultSettlement };
  } catch (e) {
    if (e instanceof ConfigProblem) throw new PssError('BAD_ARGUMENT', `${source}: ${e.message}`);
    throw e;
  }
}

export function loadDiscountConfig(file: string): DiscountConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PssError('BAD_ARGUMENT', `cannot read the discount rules ${file}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PssError('BAD_ARGUMENT', `${file} is not JSON: ${(e as Error).message}`);
  }
  return parseDiscountConfig(value, file);
}

// ---------------------------------------------------------------------------------------
// Periods

const PERIOD_FORMATS: Record<PeriodKind, string> = { month: 'YYYY-MM', quarter: 'YYYY-Qn', year: 'YYYY' };

/** The period the text names; it must be of the kind the rules count volume in. */
export function parsePeriod(text: string, kind: PeriodKind): Period {
  const bad = () => new PssError('BAD_ARGUMENT', `period "${text}": the rules count volume per ${kind}, write ${PERIOD_FORMATS[kind]}`);
  let year: number, firstMonth: number, months: number;
  let m: RegExpExecArray | null;
  if (kind === 'month' && (m = /^(\d{4})-(\d{2})$/.exec(text)) && +m[2] >= 1 && +m[2] <= 12) [year, firstMonth, months] = [+m[1], +m[2] - 1, 1];
  else if (kind === 'quarter' && (m = /^(\d{4})-Q([1-4])$/i.exec(text))) [year, firstMonth, months] = [+m[1], (+m[2] - 1) * 3, 3];
  else if (kind === 'year' && (m = /^(\d{4})$/.exec(text))) [year, firstMonth, months] = [+m[1], 0, 12];
  else throw bad();
  return {
    kind,
    label: text.toUpperCase(),
    from: Date.UTC(year, firstMonth, 1) / 1000,
    to: Date.UTC(year, firstMonth + months, 1) / 1000
  };
}

// ---------------------------------------------------------------------------------------
// The computation

export function tierReached(tiers: Tier[], pieces: number): number | null {
  let reached: number | null = null;
  for (let i = 0; i < tiers.length; i++) if (pieces >= tiers[i].minPieces) reached = i;
  return reached;
}

/** floor(amount * percent / 100) in integers: amount * basis points fits no double exactly. */
export function discountFor(amount: number, percent: number): number {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new PssError('INTERNAL', `amount ${amount} is not a whole number of minor units`);
  return Number((BigInt(amount) * BigInt(basisPoints(percent))) / 10000n);
}

export function settlementOf(config: DiscountConfig, customer: number): Settlement {
  return config.customers[String(customer)]?.settlement ?? config.defaultSettlement;
}

export function computeDiscounts(db: Database, config: DiscountConfig, period: Period, customers?: number[]): DiscountReport {
  if (period.kind !== config.period) throw new PssError('BAD_ARGUMENT', `the rules count volume per ${config.period}, not per ${period.kind}`);
  const ruleOfClass = new Map<number, DiscountRule>();
  for (const rule of config.rules) for (const c of rule.classes) ruleOfClass.set(c, rule);

  // per customer and class, across every device: the customer's volume, whoever franked it;
  // zero-value pieces apart (their amount is 0 anyway: left out of the amount too, explicitly)
  const where = whereClause({ from: period.from, to: period.to, customers });
  const sums = queryAll<{ customer: number; category: number; pieces: number; amount: number; zero_value: number }>(
    db,
    `SELECT r.customer AS customer, r.category AS category,
       SUM(CASE WHEN ${ZERO_VALUE_SQL} THEN 0 ELSE r.pieces END) AS pieces,
       SUM(CASE WHEN ${ZERO_VALUE_SQL} THEN 0 ELSE r.amount END) AS amount,
       SUM(CASE WHEN ${ZERO_VALUE_SQL} THEN r.pieces ELSE 0 END) AS zero_value
     ${RECORDS_OF_BLOCKS} ${where.sql} GROUP BY r.customer, r.category ORDER BY r.customer, r.category`,
    where.params
  );

  const volume = new Map<number, Map<DiscountRule, { pieces: number; amount: number; zeroValue: number }>>();
  for (const s of sums) {
    const rule = ruleOfClass.get(s.category);
    if (!rule) continue; // a class no rule covers earns no discount
    let perRule = volume.get(s.customer);
    if (!perRule) volume.set(s.customer, (perRule = new Map()));
    const v = perRule.get(rule) ?? { pieces: 0, amount: 0, zeroValue: 0 };
    v.pieces += s.pieces;
    v.amount += s.amount;
    v.zeroValue += s.zero_value;
    perRule.set(rule, v);
  }

  const out: CustomerDiscounts[] = [];
  for (const [customer, perRule] of [...volume].sort((a, b) => a[0] - b[0])) {
    const settlement = settlementOf(config, customer);
    const lines = config.rules
      .filter((rule) => perRule.has(rule))
      .map((rule): DiscountLine => {
        const { pieces, amount, zeroValue } = perRule.get(rule)!;
        const tier = tierReached(rule.tiers, pieces);
        const percent = tier === null ? 0 : rule.tiers[tier].percent;
        return {
          customer,
          period: period.label,
          rule: rule.name,
          classes: rule.classes,
          pieces,
          amount,
          zeroValue,
          tier,
          tierMinPieces: tier === null ? null : rule.tiers[tier].minPieces,
          percent,
          discount: discountFor(amount, percent),
          settlement
        };
      });
    out.push({
      customer,
      settlement,
      pieces: sum(lines, 'pieces'),
      amount: sum(lines, 'amount'),
      zeroValue: sum(lines, 'zeroValue'),
      discount: sum(lines, 'discount'),
      lines
    });
  }
  const discount = sum(out, 'discount');
  const credited = sum(
    out.filter((c) => c.settlement === 'credit'),
    'discount'
  );
  return {
    period: period.label,
    periodKind: period.kind,
    from: isoTime(period.from),
    to: isoTime(period.to),
    rounding: 'floor',
    customers: out,
    totals: { pieces: sum(out, 'pieces'), amount: sum(out, 'amount'), zeroValue: sum(out, 'zeroValue'), discount, paidBack: discount - credited, credited }
  };
}

function sum<K extends string>(items: Record<K, number>[], key: K): number {
  return items.reduce((acc, x) => acc + x[key], 0);
}
