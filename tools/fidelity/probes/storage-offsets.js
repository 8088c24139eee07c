// Storage writes in parts (offset and size)
var S = require('Storage');
S.write('f', 'abc', 0, 8);
S.write('f', 'def', 3);
print(JSON.stringify(S.read('f')), S.read('f').length);
S.write('f', 'gh', 6);
print(JSON.stringify(S.read('f')), JSON.stringify(S.read('f', 2, 3)));
