// in, hasOwnProperty, undefined-valued properties, delete of existing properties
var o = { a: undefined, b: null };
print('a' in o, o.hasOwnProperty('a'), o.a === undefined, Object.keys(o).length);
delete o.a;
print('a' in o, Object.keys(o).join(','));
var arr = [1, 2, 3]; delete arr[1];
print(arr.length, 1 in arr, JSON.stringify(arr));
