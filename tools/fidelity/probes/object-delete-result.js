// what delete returns for a property that does not exist
var o = { a: 1 };
print(delete o.a, delete o.nothere);
