// g outside replace, and m (build rules regex/global-flag, regex/flag-m); the RegExp accessors
var re = /a/g;
print('global-flag:', re.exec('aba').index, re.lastIndex, re.exec('aba').index, re.lastIndex, re.exec('aba'), re.lastIndex);
print('flag-m:', /^b/m.test('a\nb'), /a$/m.test('a\nb'));
print('accessors:', typeof /x/.global, typeof /x/.flags, typeof /x/.unicode);
