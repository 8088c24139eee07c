// typeof of every static builtins-2v29.json lists as missing
function show(c, C, names) { var r = []; for (var i = 0; i < names.length; i++) r.push(names[i] + ":" + typeof C[names[i]]); print(c, r.join(" ")); }
show("Object", Object, ["getOwnPropertySymbols", "hasOwn", "is", "preventExtensions", "seal", "freeze", "isExtensible", "isFrozen", "isSealed"]);
show("Array", Array, ["from", "of"]);
show("Number", Number, ["isFinite", "isInteger", "isNaN", "isSafeInteger", "parseFloat", "parseInt", "MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER", "EPSILON"]);
show("String", String, ["fromCodePoint", "raw"]);
show("Math", Math, ["acosh", "asinh", "atanh", "cbrt", "expm1", "clz32", "cosh", "fround", "hypot", "imul", "log1p", "log2", "log10", "sinh", "tanh", "trunc"]);
show("Promise", Promise, ["allSettled", "any", "race"]);
show("Date", Date, ["UTC"]);
show("ArrayBuffer", ArrayBuffer, ["isView"]);
show("RegExp", RegExp, ["input", "$_", "lastMatch", "$&", "lastParen", "$+", "leftContext", "$`", "rightContext", "$'", "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9"]);
show("Error", Error, ["captureStackTrace", "prepareStackTrace", "stackTraceLimit"]);
show("Uint8Array", Uint8Array, ["BYTES_PER_ELEMENT", "of", "from"]);
