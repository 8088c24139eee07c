// Math members missing on 2v29 (build rule missing-static)
print(typeof Math.imul, typeof Math.clz32, typeof Math.trunc, typeof Math.sign, typeof Math.log2, typeof Math.hypot, typeof Math.fround, typeof Math.cbrt);
