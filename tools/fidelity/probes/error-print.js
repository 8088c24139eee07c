// how print shows an Error
print(new Error('shown'));
print([new Error('in array')]);
