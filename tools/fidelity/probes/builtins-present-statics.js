// typeof of every static builtins-2v29.json lists as present
function show(c, C, names) { var r = []; for (var i = 0; i < names.length; i++) r.push(names[i] + ":" + typeof C[names[i]]); print(c, r.join(" ")); }
show("Object", Object, ["assign", "getOwnPropertyDescriptor", "getOwnPropertyDescriptors", "getOwnPropertyNames", "create", "defineProperties", "defineProperty", "getPrototypeOf", "setPrototypeOf", "keys", "entries", "fromEntries", "values"]);
show("Array", Array, ["isArray"]);
show("Number", Number, ["MAX_VALUE", "MIN_VALUE", "NaN", "NEGATIVE_INFINITY", "POSITIVE_INFINITY"]);
show("String", String, ["fromCharCode"]);
show("Math", Math, ["abs", "acos", "asin", "atan", "atan2", "ceil", "cos", "exp", "floor", "log", "max", "min", "pow", "random", "round", "sign", "sin", "sqrt", "tan", "E", "LN10", "LN2", "LOG10E", "LOG2E", "PI", "SQRT1_2", "SQRT2"]);
show("JSON", JSON, ["parse", "stringify"]);
show("Promise", Promise, ["all", "resolve", "reject"]);
show("Date", Date, ["now", "parse"]);
