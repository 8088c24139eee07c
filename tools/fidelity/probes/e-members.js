// E members the firmware and its tools use, and a few it does not
print(typeof E.toString, typeof E.toUint8Array, typeof E.CRC32, typeof E.hwRand, typeof E.getErrorFlags, typeof E.reboot, typeof E.setConsole, typeof E.getConsole);
print(typeof E.toArrayBuffer, typeof E.getSizeOf, typeof E.kickWatchdog, typeof E.enableWatchdog, typeof E.on, typeof E.toJS, typeof E.sum, typeof E.variance, typeof E.HSBtoRGB);
