// number literals in the source: Espruino's lexer reads them with its own arithmetic
print(0.1 * 3 === 0.3, 0.3 === 0.30000000000000004, 1.1 + 2.2 === 3.3);
