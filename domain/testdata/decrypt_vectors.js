// decrypt_vectors.js — the encryptedData vectors of domain/decrypt_test.go, made
// with Node's crypto as WeChat's own sample code does (AES-128-CBC, PKCS#7).
// Run once with `node domain/testdata/decrypt_vectors.js`; its output was
// copied into the test as constants. Kept here for the record: rerunning it
// must print the same text (fixed keys, IVs and plaintexts; CBC is
// deterministic).
'use strict';
const crypto = require('crypto');

const key = Buffer.from('tiihtNczf5v6AKRyjwEUhQ==', 'base64'); // WeChat's sample session_key
const otherKey = Buffer.from('HyVFkGl5F5OQWJZZaNzBBg==', 'base64');
const iv = Buffer.from('r7BXXKkLb8qrSNn05n0qiA==', 'base64');

function encrypt(plain, k = key) {
  const c = crypto.createCipheriv('aes-128-cbc', k, iv);
  return Buffer.concat([c.update(Buffer.from(plain, 'utf8')), c.final()]).toString('base64');
}

// encryptPadded encrypts plain followed by the given padding bytes, with no
// padding of Node's own: a ciphertext whose padding is wrong under the right key.
function encryptPadded(plain, pad) {
  const c = crypto.createCipheriv('aes-128-cbc', key, iv);
  c.setAutoPadding(false);
  const b = Buffer.concat([Buffer.from(plain, 'utf8'), Buffer.from(pad)]);
  return Buffer.concat([c.update(b), c.final()]).toString('base64');
}

const userInfo = '{"openId":"oGZUI0egBJY1zhBYw2KhdUfwVJJE","nickName":"Band","gender":1,"language":"zh_CN",' +
  '"city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/aSKcBBPpibyKNicHNTMM0qJVh8Kjgiak2AHWr8MHM4WgMEm7GFhsf8OYrySdbvAMvTsw3mo8ibKicsnfN5pRjl1p8HQ/0",' +
  '"unionId":"ocMvos6NjeKLIBqg5Mr9QjxrP1FA","watermark":{"timestamp":1477314187,"appid":"wx4f4bc4dec97d474b"}}';
// Members WeChat would not write, to show their bytes are kept: white space,
// an escaped key, Chinese text, nesting, and the watermark in the middle.
const share = '{ "openGId" : "tG0nL6-5MEXe0Iu0pkkqXGjcQ-bE",\n "watermark":{"appid":"wx4f4bc4dec97d474b","timestamp":1700000000},' +
  ' "k\\u0065y":[1, {"a":"一笔到底"}] }';
// 64 bytes exactly: the padding is a whole block of sixteen 16s.
const fullBlock = '{"watermark":{"appid":"wx4f4bc4dec97d474b"},"a":"' + 'x'.repeat(13) + '"}';
if (Buffer.byteLength(fullBlock) !== 64) throw new Error('fullBlock is ' + Buffer.byteLength(fullBlock) + ' bytes');

const vectors = {
  key: key.toString('base64'),
  otherKey: otherKey.toString('base64'),
  iv: iv.toString('base64'),
  userInfo: { plain: userInfo, data: encrypt(userInfo) },
  share: { plain: share, data: encrypt(share) },
  fullBlock: { plain: fullBlock, bytes: Buffer.byteLength(fullBlock), data: encrypt(fullBlock) },
  underOtherKey: encrypt(userInfo, otherKey),
  wrongAppID: encrypt('{"a":1,"watermark":{"appid":"wxOTHERAPP0000000","timestamp":1}}'),
  appIDOfOtherCase: encrypt('{"a":1,"watermark":{"appid":"WX4F4BC4DEC97D474B","timestamp":1}}'),
  appIDUnderOtherKeyCase: encrypt('{"a":1,"watermark":{"AppID":"wx4f4bc4dec97d474b","timestamp":1}}'),
  noWatermark: encrypt('{"a":1}'),
  twoWatermarks: encrypt('{"watermark":{"appid":"wxOTHERAPP0000000"},"watermark":{"appid":"wx4f4bc4dec97d474b"}}'),
  watermarkNotObject: encrypt('{"a":1,"watermark":"wx4f4bc4dec97d474b"}'),
  appIDNotString: encrypt('{"a":1,"watermark":{"appid":["wx4f4bc4dec97d474b"]}}'),
  notJSON: encrypt('openGId=tG0nL6-5MEXe0Iu0pkkqXGjcQ-bE'),
  jsonArray: encrypt('[{"watermark":{"appid":"wx4f4bc4dec97d474b"}}]'),
  trailingData: encrypt('{"watermark":{"appid":"wx4f4bc4dec97d474b"}} {}'),
  // A byte 0xFF inside a string: not UTF-8.
  notUTF8: (() => {
    const c = crypto.createCipheriv('aes-128-cbc', key, iv);
    const b = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('","watermark":{"appid":"wx4f4bc4dec97d474b"}}')]);
    return Buffer.concat([c.update(b), c.final()]).toString('base64');
  })(),
  // 16 bytes of text, then a block of padding that is not PKCS#7.
  padZero: encryptPadded('{"a":1234567890}', Array(16).fill(0)),
  padSeventeen: encryptPadded('{"a":1234567890}', Array(16).fill(17)),
  padMixed: encryptPadded('{"a":1234567890}', [...Array(13).fill(0x41), 3, 2, 3]),
};
console.log(JSON.stringify(vectors, null, 2));
