// Storage eraseAll and getFree
var S = require('Storage');
S.write('x', 'abc');
S.eraseAll();
print(JSON.stringify(S.list()), typeof S.getFree(), S.getFree() > 100000);
