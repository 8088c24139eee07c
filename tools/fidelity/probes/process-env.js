// process.env and process.version
print(process.version, process.env.VERSION, process.env.BOARD, typeof process.env.SERIAL, process.env.CONSOLE);
print(JSON.stringify(Object.keys(process.env)));
