// fill, find on arrays
print(new Array(4).fill(0).join(','), [1, 2, 3, 4].fill(9, 1, 3).join(','), [1, 2].find(function (x) { return x > 5; }));
