// concatenation, comparison, conversions of other types
print('a' + 1 + 2, 1 + 2 + 'a', 'x' + null + undefined + true, 'a'.concat('b', 1, null));
print([1, [2, 3]] + '', {} + '', String([]), String([null]), String([undefined, 1]), String(null), String(undefined), String(true));
print('abc' < 'abd', 'Z' < 'a', 'a' == new String('a'), typeof String('a'));
print(String(function () { return 1; }).length > 0, String(new Date(0)).length > 0);
