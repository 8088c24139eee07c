print("hi", 1, [1, 2], {a: 1});
console.log(typeof Map);
print(1 / 0, -0, 0.5);
