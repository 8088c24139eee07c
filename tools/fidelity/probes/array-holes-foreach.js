// forEach / map over holes and undefined
var a = [1, , 3]; var seen = [];
a.forEach(function (x, i) { seen.push(i + '=' + x); });
print(seen.join(','), a.map(function (x) { return x * 2; }).length, String(a), a.indexOf(undefined));
