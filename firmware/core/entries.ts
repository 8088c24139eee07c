// Journal record types of the ledger (the journal itself uses 1..15). The image carries no
// object of them: the build puts the numbers in place (rollup.config.js), as for Command and
// ErrorCode, so they cost no interpreter variables.
export var Entry = {
  STATE: 16,
  TABLE: 17,
  PROVISION: 20,
  FUNDS: 21,
  BATCH_START: 22,
  BATCH_END: 23,
  FRANK: 24,
  FLUSH_CHUNK: 25,
  FLUSH_END: 26,
  CONFIG: 28,
  REBOOT: 30,
  FLUSH_ABORT: 31,
  SEAL: 32,
  CONFIRM: 33,
  TAMPER: 34,
  FOLD: 35,
  REKEY: 36,
  /** an authenticated contact with the data center: u32 elapsed s | u32 clock s | u8 trusted */
  CONTACT: 37,
  /** the device's own running time, kept so power cycles cannot stop it: u32 elapsed s */
  ELAPSED: 38,
  /** withdrawn from service (keys erased, franking over): JSON {ar, dr, pc} */
  WITHDRAW: 39,
  /** a rate table (protocol/rates.ts encoding) */
  RATES: 40,
  /** a coded event (protocol/audit.ts): u8 code | u32 clock s | u32 detail */
  EVENT: 41,
  /** the event state at a checkpoint (protocol/audit.ts EVENT_STATE_HEAD, then the ring) */
  EVENTS: 42,
  /** an audit made: u32 audit sequence number */
  AUDIT: 43,
  /** in a checkpoint, after the records: the pieces since the last seal, the rate-table
   * versions that priced them (u16 oldest | u16 newest) and the per-piece chain (32 bytes, or none) */
  CHAIN: 44,
  /** a checkpoint's records packed (firmware/core/table.ts pack; TABLE: 24 bytes each, before) */
  TABLE_PACKED: 45,
  /** a flush's RAM records packed (FLUSH_CHUNK: 24 bytes each, before) */
  FLUSH_PACKED: 46,
  /** a batch opened: txn u32 | customer u32 | mode u8 | category u8 | weight u16 (g) | postage u32 |
   * started u32 (s) | AR u48 | DR u48 | piece counter u32 (BATCH_START: the same in JSON, before);
   * BATCH_END is txn u32 | pieces u32 | time u32 (s) */
  BATCH_OPEN: 47
};
