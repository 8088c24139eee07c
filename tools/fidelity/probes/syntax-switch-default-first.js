// a switch whose default comes before a case
function run() { var r = []; switch ('x') { default: r.push('d'); break; case 'y': r.push('y'); } return r.join(); }
try { print('ran', run()); } catch (e) { print('throws', e instanceof SyntaxError, e.message); }
