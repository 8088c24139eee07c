// global object access
var topVar = 5;
print(this.topVar, global.topVar, globalThis === global, typeof globalThis);
global.viaGlobal = 6;
print(viaGlobal);
