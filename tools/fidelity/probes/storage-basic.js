// Storage write/read/list/erase
var S = require('Storage');
print(S.write('a', 'hello'), S.read('a'), typeof S.read('nothere'));
S.write('b', 'x');
print(JSON.stringify(S.list()));
S.erase('a');
print(JSON.stringify(S.list()), S.read('a'));
