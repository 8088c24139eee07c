// print of single values
print(undefined); print(null); print(true); print(0); print(-1.5); print('str'); print('');
print(function foo(a) { return a; });
print(1, 'two', [3]);
print();
