// writing a file again replaces it
var S = require('Storage');
S.write('o', 'long contents here');
S.write('o', 'short');
print(S.read('o'), S.read('o').length);
S.write('n', 123);
print(JSON.stringify(S.read('n')));
