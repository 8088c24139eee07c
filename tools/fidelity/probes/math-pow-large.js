// Math.pow results that need all 53 bits
print(Math.pow(2, 53), Math.pow(2, 53) === 9007199254740992, Math.pow(2, 52), Math.pow(2, 40) === 1099511627776, Math.pow(10, 15) === 1e15);
