// E.CRC32 of strings, arrays and typed arrays
print(E.CRC32('123456789'), E.CRC32(''), E.CRC32('a'), E.CRC32([0x31, 0x32, 0x33]), E.CRC32(new Uint8Array([0xff, 0, 0x80])));
print(E.CRC32('The quick brown fox jumps over the lazy dog'), typeof E.CRC32('x'), E.CRC32('x') >>> 0 === E.CRC32('x'));
