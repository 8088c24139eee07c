// the dot matches line terminators on Espruino (build rule regex/dot)
print('dot:', /./.test('\n'), /a.c/.test('a\nc'));
