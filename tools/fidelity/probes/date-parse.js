// Date from strings and fields
var c = ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05.678Z', '2024-01-02', 'Tue, 02 Jan 2024 03:04:05 GMT', 'garbage'];
for (var i = 0; i < c.length; i++) { var d = new Date(c[i]); print(JSON.stringify(c[i]), d.getTime()); }
print(new Date(2024, 0, 31).getTime(), new Date(2024, 1, 30).getDate(), Date.parse('2000-01-01T00:00:00Z'));
