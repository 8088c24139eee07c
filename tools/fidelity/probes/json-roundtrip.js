// a record-sized object round trip
var rec = { id: 123456, asc: 99999999, desc: 1000, pieces: 42, customers: [{ c: 'C1', n: 3, v: 165 }, { c: 'C2', n: 0, v: 0 }], ok: true };
var s = JSON.stringify(rec);
var back = JSON.parse(s);
print(s.length, s === JSON.stringify(back), back.customers[0].c, back.asc + back.desc);
