// an exception at the top level of the code
print('before');
throw new Error('top level');
