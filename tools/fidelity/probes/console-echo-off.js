// echo(false): no prompt
echo(false);
print('top');
setTimeout(function () { print('t'); }, 50);
