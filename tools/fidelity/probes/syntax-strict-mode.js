// "use strict" and what it changes
function sloppy() { return typeof this; }
function strict() { 'use strict'; return typeof this; }
print(sloppy(), strict());
function t(f) { try { return 'ok ' + f(); } catch (e) { return 'throws'; } }
print(t(function () { 'use strict'; undeclaredAssign = 5; return undeclaredAssign; }));
