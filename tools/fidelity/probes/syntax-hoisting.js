// calling a function declared further down (Espruino 2v29 does not hoist declarations)
function outer() { try { return inner(); } catch (e) { return 'not hoisted'; } function inner() { return 'hoisted'; } }
print(outer());
try { print(later()); } catch (e) { print('not hoisted at top level'); }
function later() { return 'hoisted at top level'; }
print(typeof later);
