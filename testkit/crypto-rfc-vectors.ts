// Published crypto vectors, typed from the RFCs (hex, as printed there). Shared by the Node
// tests and the tests that run the same vectors inside the built image on the virtual board.

/** RFC 7518 Appendix B.1: AES_128_CBC_HMAC_SHA_256 (A128CBC-HS256). */
export const RFC7518_B1 = {
  K: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  P:
    '41206369706865722073797374656d20' +
    '6d757374206e6f742062652072657175' +
    '6972656420746f206265207365637265' +
    '742c20616e64206974206d7573742062' +
    '652061626c6520746f2066616c6c2069' +
    '6e746f207468652068616e6473206f66' +
    '2074686520656e656d7920776974686f' +
    '757420696e636f6e76656e69656e6365',
  IV: '1af38c2dc2b96ffdd86694092341bc04',
  A:
    '546865207365636f6e64207072696e63' +
    '69706c65206f66204175677573746520' +
    '4b6572636b686f666673',
  AL: '0000000000000150',
  E:
    'c80edfa32ddf39d5ef00c0b468834279' +
    'a2e46a1b8049f792f76bfe54b903a9c9' +
    'a94ac9b47ad2655c5f10f9aef71427e2' +
    'fc6f9b3f399a221489f16362c7032336' +
    '09d45ac69864e3321cf82935ac4096c8' +
    '6e133314c54019e8ca7980dfa4b9cf1b' +
    '384c486f3a54c51078158ee5d79de59f' +
    'bd34d848b3d69550a67646344427ade5' +
    '4b8851ffb598f7f80074b9473c82e2db',
  T: '652c3fa36b0a7c5b3219fab3a30bc1c4'
};

/** RFC 8032 §7.1 Ed25519 TEST 1, 2, 3: secret key (the seed), public key, message, signature. */
export const RFC8032_TESTS = [
  {
    name: 'TEST 1',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155' +
      '5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'
  },
  {
    name: 'TEST 2',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
      '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'
  },
  {
    name: 'TEST 3',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac' +
      '18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'
  }
];

/** RFC 7748 §5.2: X25519(scalar, u) = output. */
export const RFC7748_SCALARMULT = [
  {
    scalar: 'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    u: 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    output: 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552'
  },
  {
    scalar: '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    u: 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    output: '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957'
  }
];

/** RFC 7748 §6.1: the Alice and Bob X25519 exchange. */
export const RFC7748_DH = {
  alicePrivate: '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a',
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPrivate: '5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb',
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
};

/** RFC 4231 §4.3 test case 2 (HMAC-SHA-256). */
export const RFC4231_CASE2 = {
  key: '4a656665',
  data: '7768617420646f2079612077616e7420666f72206e6f7468696e673f',
  mac: '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'
};
