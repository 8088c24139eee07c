// the own properties of an Error
var e = new Error('msg');
print(JSON.stringify(Object.keys(e)), typeof e.name, e.type);
