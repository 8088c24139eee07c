// reserved words as property names (ES5 allows them after a dot)
var o = { 'default': 1, 'class': 2, 'new': 3, 'delete': 4, 'in': 5 };
print(o['default'], o['class'], o['new'], o['delete'], o['in']);
var o2 = {}; o2['catch'] = 6; o2['finally'] = 7;
print(o2['catch'] + o2['finally']);
