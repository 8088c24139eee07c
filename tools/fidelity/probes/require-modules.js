// require of the modules the firmware uses, and of one that does not exist
function t(n) { try { var m = require(n); return typeof m; } catch (e) { return 'throws ' + e.message; } }
print(t('Flash'), t('Storage'), t('crypto'), t('nope'));
print(require('Flash') === require('Flash'));
