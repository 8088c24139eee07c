// unary + on strings (an engine-internal conversion)
print(+'12', +' 12 ', +'', +' ', +'0x10', +'12px');
