// comparisons and equality across types
print(1 == '1', 1 === '1', 0 == '', 0 == '0', '' == '0', null == undefined, null === undefined, null == 0, undefined == 0);
print('10' < '9', 10 < 9, '10' < 9, 'a' < 'b', 'B' < 'a', [1] == 1, NaN == NaN, true == 1, true === 1);
print(null >= 0, undefined >= 0, '' < 1, 'abc' < 'abd', '2' > '10');
