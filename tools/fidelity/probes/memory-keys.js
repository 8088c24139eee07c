// process.memory() keys (values are another story)
var m = process.memory();
print(JSON.stringify(Object.keys(m)), typeof m.free, typeof m.usage, typeof m.total);
print(typeof process.memory(false).usage);
