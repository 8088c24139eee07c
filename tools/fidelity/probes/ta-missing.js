// typed-array statics missing on 2v29 (build rule missing-static)
print(typeof Uint8Array.from, typeof Uint8Array.of, typeof Uint32Array.from, typeof ArrayBuffer.isView, typeof Uint8Array.BYTES_PER_ELEMENT);
