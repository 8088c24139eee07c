// writing straight to the console device
USB.write('raw\n');
USB.print('print\n');
USB.println('println');
USB.write([65, 66, 10]);
print('done');
