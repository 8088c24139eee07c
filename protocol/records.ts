// Cumulative statistics records: one per distinct parameter set. The one layout the
// firmware stores in flash, the host lists and the data center reads.
//
//   offset size  field
//   0      4     customer number (the mail house's client, as the postal authority knows it)
//   4      1     category (mail class or product, 0..119)
//   5      1     weight band (index into WEIGHT_BANDS_G)
//   6      2     reserved, 0
//   8      4     postage per piece, minor units
//   12     4     pieces
//   16     4     amount, minor units (sum of postage)
//   20     4     weight, grams (sum of actual weights)
//
// The key is (customer, category, weight band, postage). The batch is deliberately not part
// of the stored key: a record per batch would need ~4,000 records for 30 days of the
// reference workload (80 KB), more than a Pico's statistics flash; batches are kept in the
// journal's batch start/end records instead.
import { u32, readU32 } from './bytes.ts';

export var RECORD_BYTES = 24;
export var MAX_CATEGORIES = 120;
/** Upper limits of the weight bands, grams: a piece belongs to the first band it fits. A new
 * array per call: kept at the top level of the PSD's resident core, the array would hold 17
 * variables for as long as the board runs (weightBand needs it for a moment per piece). */
export function weightBandLimits(): number[] {
  return [20, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 20000, 31500];
}
/** weightBandLimits(), for code that keeps it */
export var WEIGHT_BANDS_G = /*#__PURE__*/ weightBandLimits();
export var MAX_WEIGHT_G = 31500;
export var MAX_U32 = 4294967295;
/** A summary record: every weight band and postage of one (customer, category). The PSD
 * folds a customer's records of a category into one when its record table or flash would
 * otherwise fill, so franking goes on and only the weight-band and postage breakdown of that
 * category is lost; pieces, amount and weight stay exact. Its postage is 0 (mixed). */
export var MIXED_BAND = 255;

export interface CumulativeRecord {
  customer: number;
  category: number;
  weightBand: number;
  postage: number;
  pieces: number;
  amount: number;
  weight: number;
}

export function weightBand(grams: number): number {
  for (var i = 0, limits = weightBandLimits(); i < limits.length; i++) if (grams <= limits[i]) return i;
  return -1;
}

/** Where each field of a record sits (byte offsets; encodeRecord writes them in this order):
 * for code that reads one field without decoding the record. The firmware build puts each
 * offset's number in its place. */
export var RecordField = {
  CUSTOMER: 0,
  CATEGORY: 4,
  WEIGHT_BAND: 5,
  POSTAGE: 8,
  PIECES: 12,
  AMOUNT: 16,
  WEIGHT: 20
};

