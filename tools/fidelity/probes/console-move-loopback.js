// moving the console to LoopbackA: what the old console shows
print('before');
LoopbackA.setConsole(true);
print('after (on LoopbackA)');
