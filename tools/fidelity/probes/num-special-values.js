// NaN, Infinity, -0
print(NaN, Infinity, -Infinity, -0, 0 * -1);
print(String(-0), (-0).toString(), JSON.stringify(-0), -0 === 0, Object.is ? 'is' : 'no Object.is');
print(isNaN(NaN), isNaN('x'), isNaN('5'), isFinite(1 / 0), isFinite('12'), NaN === NaN, NaN != NaN);
print(typeof NaN, 0 / 0, Infinity - Infinity, Infinity * 0, -Infinity + Infinity);
