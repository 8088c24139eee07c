// encodeURIComponent / decodeURIComponent
print(encodeURIComponent('a b&c=d/e?f\xe9'), decodeURIComponent('a%20b%26c'), encodeURIComponent(''), decodeURIComponent('%41'));
