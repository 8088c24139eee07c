// printing strings with control characters and high bytes
print('tab\there', 'cr\rx');
print('nl\nnext');
print(JSON.stringify('\x00\x07\x1b'), ['\x01'], { s: '\n' });
print('\xe9\xff');
