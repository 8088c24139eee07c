// moving the console away and back again
print('one');
E.setConsole(LoopbackA);
print('hidden');
E.setConsole(USB);
print('two');
