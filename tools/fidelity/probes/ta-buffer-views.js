// views over one ArrayBuffer (byte order little-endian)
var b = new ArrayBuffer(8);
var u8 = new Uint8Array(b), u32 = new Uint32Array(b), u16 = new Uint16Array(b, 2, 2);
u32[0] = 0x01020304;
print(u8.join(','), u16.length, u16.byteOffset, u16[0]);
u8[4] = 0xff;
print(u32[1], new Uint8Array(b, 3).length, new Uint8Array(b, 3, 2).join(','), b.byteLength);
