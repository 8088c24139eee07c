// setTime moves getTime without moving timers
var start = getTime();
setTimeout(function () { print('timer fired', getTime() >= 999 && getTime() < 1001); }, 50);
setTime(1000);
var t1 = getTime();
print('setTime', t1 >= 1000 && t1 < 1001);
