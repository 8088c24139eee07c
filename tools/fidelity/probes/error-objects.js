// Error objects as the interpreter makes them
var e = new Error('msg');
print(e.message, String(e), e.toString(), e instanceof Error, typeof e.stack);
var t = new TypeError('tm');
print(t.message, String(t), t instanceof TypeError, t instanceof Error);
print(String(new SyntaxError('s')), String(new ReferenceError('r')), String(Error('no new')));
