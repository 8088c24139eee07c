// escapes in string literals
print('\x41\u0042', '\t|'.length, 'a\
b', '\0'.charCodeAt(0), '\u00e9'.charCodeAt(0), '\v'.charCodeAt(0));
