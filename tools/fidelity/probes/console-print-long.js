// print of a larger nested object
print({ status: { board: 'linux', pieces: 12, registers: { asc: 100, desc: 900 } }, list: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], name: 'psd' });
print(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z']);
