// E.getErrorFlags: an array, cleared when read
var f = E.getErrorFlags();
print(typeof f, Array.isArray(f), f.length, E.getErrorFlags().length);
