// try / catch / finally flow
function f() { try { return 'try'; } finally { print('finally runs'); } }
print(f());
function g() { try { throw 1; } catch (e) { return 'catch ' + e; } finally { print('finally 2'); } }
print(g());
try { try { throw new Error('inner'); } finally { print('inner finally'); } } catch (e) { print('outer caught', e.message); }
