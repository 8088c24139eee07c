// modules only the Linux build has
function t(n) { try { var m = require(n); return typeof m; } catch (e) { return 'throws ' + e.message; } }
print(t('fs'), t('http'), t('net'));
