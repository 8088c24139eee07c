// validating hex text the ways the firmware could
var good = '0123456789abcdef', bad = '01234x';
print(/^[0-9a-f]+$/.test(good), /^[0-9a-f]+$/.test(bad), /^[0-9a-fA-F]*$/.test(''), /[^0-9a-f]/.test(good), /[^0-9a-f]/.test(bad));
