// newlines in printed text become CR LF
print('a\nb');
print('c\r\nd');
console.log('e\n');
