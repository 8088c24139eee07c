// flags i and g with replace (inside the build's regex subset)
print(/A/i.test('a'), 'aXbX'.replace(/x/gi, '-'), 'abab'.replace(/b/g, 'c'), /x/g.source);
