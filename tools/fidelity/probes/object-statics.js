// Object statics present on 2v29
var o = { b: 1, a: 2 };
print(JSON.stringify(Object.keys(o)), JSON.stringify(Object.getOwnPropertyNames(o)), typeof Object.entries, typeof Object.values, typeof Object.assign);
var c = Object.create({ inherited: 1 });
c.own = 2;
print(c.inherited, Object.keys(c).join(','), c.hasOwnProperty('own'), c.hasOwnProperty('inherited'));
print(typeof Object.freeze, typeof Object.seal, typeof Object.is, typeof Object.fromEntries, typeof Object.getOwnPropertyDescriptor, typeof Object.defineProperties);
