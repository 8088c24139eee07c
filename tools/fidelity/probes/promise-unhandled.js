// an unhandled rejection
Promise.reject('plain');
setTimeout(function () { print('later'); }, 50);
