// which serial devices exist on the Linux build
print(typeof USB, typeof Serial1, typeof Serial2, typeof Serial3, typeof Serial4, typeof Serial5, typeof Serial6, typeof LoopbackA, typeof LoopbackB, typeof Bluetooth, typeof Telnet, typeof Terminal);
print(typeof Serial1.setup, typeof Serial1.write, typeof Serial1.on, typeof Serial1.read, typeof Serial1.available, typeof Serial1.setConsole, typeof Serial1.inject);
print(String(USB), String(LoopbackA), USB instanceof Serial);
