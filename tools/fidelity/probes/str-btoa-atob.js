// btoa / atob
print(btoa('hello'), btoa(''), btoa('\x00\xff\x10'), btoa('ab'), btoa('abc'));
var d = atob('aGVsbG8=');
print(d, atob('AP8Q').length, atob('AP8Q').charCodeAt(1), atob('YWI='), atob(''));
