// JSON the firmware sends and reads: status and error answers, binary strings in hex
var status = { board: 'linux', fw: '1.0.0', registers: { asc: 123456789, desc: 4294967295 }, pieces: 0, locked: false, error: null, link: { dropped: 0 } };
var s = JSON.stringify(status);
print(s);
print(JSON.stringify(JSON.parse(s)) === s);
var req = JSON.parse('{"id":7,"cmd":"frank","args":{"value":165,"customer":"C\\u00e9"},"pad":[]}');
print(req.id, req.cmd, req.args.value, req.args.customer.length, req.args.customer.charCodeAt(1), req.pad.length);
print(JSON.stringify({ bin: '\x00\x1f\x7f\x80\xff' }), JSON.stringify(['\u00e9', '\u20ac']));
