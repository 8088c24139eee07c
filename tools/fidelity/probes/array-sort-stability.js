// sort of numbers as strings by default, and with a comparator
print([10, 9, 1, 100, 2].sort().join(','), [10, 9, 1, 100, 2].sort(function (a, b) { return a - b; }).join(','));
var recs = [{ k: 2, i: 0 }, { k: 1, i: 1 }, { k: 2, i: 2 }, { k: 1, i: 3 }, { k: 2, i: 4 }];
recs.sort(function (a, b) { return a.k - b.k; });
print(recs.map(function (r) { return r.k + ':' + r.i; }).join(','));
