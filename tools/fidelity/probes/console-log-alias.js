// console.log and friends print like print
console.log('log', 1);
console.info('info', [2]);
console.warn('warn', { w: 3 });
console.error('error');
console.debug('debug');
print(typeof console.trace, typeof console.dir, typeof console.time);
