// new String(...) gives a primitive on Espruino
print(typeof new String('a'), typeof new Number(1));
