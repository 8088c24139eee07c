// integer literals past 2^63 in the source (Espruino's lexer reads them as 64-bit integers)
print(String(123456789012345680000), String(18446744073709551616), 9223372036854775807 > 0);
