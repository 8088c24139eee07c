// Storage writeJSON / readJSON
var S = require('Storage');
S.writeJSON('j', { a: 1, b: [1, 2], c: 'x' });
print(JSON.stringify(S.readJSON('j')), S.read('j'), S.readJSON('nothere'));
S.write('bad', '{oops');
var r; try { r = JSON.stringify(S.readJSON('bad', true)); } catch (e) { r = 'throws'; }
print(r);
