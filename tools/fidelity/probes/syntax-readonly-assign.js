// assigning to a property defined read-only
var p = {};
Object.defineProperty(p, 'y', { value: 5, writable: false, enumerable: true });
try { p.y = 6; print('ignored', p.y); } catch (e) { print('throws', e.message); }
