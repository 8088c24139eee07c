// Object.assign, entries, values
var a = Object.assign({ x: 1 }, { y: 2 }, { x: 3 });
print(JSON.stringify(a));
print(JSON.stringify(Object.entries ? Object.entries({ p: 1, q: 'r' }) : 'none'), JSON.stringify(Object.values ? Object.values({ p: 1, q: 'r' }) : 'none'));
