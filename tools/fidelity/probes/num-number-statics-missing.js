// Number statics 2v29 lacks (build rule missing-static), and MIN_VALUE
print(typeof Number.MAX_SAFE_INTEGER, typeof Number.EPSILON, typeof Number.isInteger, typeof Number.parseInt);
print(Number.MIN_VALUE);
