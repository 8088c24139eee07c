// writing at a negative index of a typed array
var u = new Uint8Array(2);
try { u[-1] = 7; print('ignored', u.join(',')); } catch (e) { print('throws'); }
