// JSON.stringify of the shapes the firmware sends
print(JSON.stringify({ a: 1, b: 'x', c: [1, 2, 3], d: { e: null, f: true }, g: false }));
print(JSON.stringify([1, 'two', null, true, { x: [] }, []]));
print(JSON.stringify('q"uote\\back\nnl\ttab\r\b\f'), JSON.stringify('\x01\x1f\x7f\x80\xff'));
print(JSON.stringify(''), JSON.stringify(0), JSON.stringify(-5), JSON.stringify(true), JSON.stringify(null));
print(JSON.stringify(undefined), JSON.stringify(function () {}), JSON.stringify({ u: undefined, f: function () {}, n: null }));
print(JSON.stringify([undefined, function () {}]));
