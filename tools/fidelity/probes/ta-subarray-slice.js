// subarray shares memory, slice copies
var u = new Uint8Array([0, 1, 2, 3, 4, 5]);
var s = u.subarray(2, 4), c = u.slice(2, 4);
s[0] = 99; c[1] = 77;
print(u.join(','), s.join(','), c.join(','), u.subarray(-2).join(','), u.slice(-3, -1).join(','), u.subarray(4, 2).length, u.slice(10).length);
print(s.byteOffset, s.buffer === u.buffer, c.buffer === u.buffer);
