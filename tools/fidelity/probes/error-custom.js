// the firmware's error pattern: a plain constructor on Error.prototype
function DeviceError(code, detail) { this.code = code; this.detail = detail; this.message = detail; }
DeviceError.prototype = Object.create(Error.prototype);
DeviceError.prototype.constructor = DeviceError;
try { throw new DeviceError(7, 'bad thing'); } catch (e) { print(e.code, e.detail, e.message, e instanceof DeviceError, e instanceof Error, String(e)); }
var plain = { code: 3, detail: 'x' };
try { throw plain; } catch (e) { print(e === plain, e.code); }
