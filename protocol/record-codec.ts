// A cumulative record's 24 bytes (the layout protocol/records.ts gives) to and from its fields:
// a file of its own, apart from records.ts, because the PSD's resident core keeps records as
// table words and never encodes one; only its extraction and sealing (on-demand) do (the build
// puts a whole file where its first user is).
import { u32, readU32 } from './bytes.ts';
import { RECORD_BYTES, RecordField, type CumulativeRecord } from './records.ts';

export function encodeRecord(r: CumulativeRecord): string {
  return u32(r.customer) + String.fromCharCode(r.category, r.weightBand, 0, 0) + u32(r.postage) + u32(r.pieces) + u32(r.amount) + u32(r.weight);
}

export function decodeRecord(s: string, at: number): CumulativeRecord {
  return {
    customer: readU32(s, at), // RecordField.CUSTOMER is 0
    category: s.charCodeAt(at + RecordField.CATEGORY),
    weightBand: s.charCodeAt(at + RecordField.WEIGHT_BAND),
    postage: readU32(s, at + RecordField.POSTAGE),
    pieces: readU32(s, at + RecordField.PIECES),
    amount: readU32(s, at + RecordField.AMOUNT),
    weight: readU32(s, at + RecordField.WEIGHT)
  };
}

export function decodeRecords(s: string): CumulativeRecord[] {
  var out: CumulativeRecord[] = [];
  for (var at = 0; at + RECORD_BYTES <= s.length; at += RECORD_BYTES) out.push(decodeRecord(s, at));
  return out;
}
