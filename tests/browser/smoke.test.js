'use strict';
// The browser itself: Chromium starts, reaches the service under test, and
// its 2D canvas draws (every other browser test stands on these three).
const test = require('node:test');
const assert = require('node:assert/strict');
const { launch, baseURL } = require('./support/browser');

test('Chromium starts, reaches the service and draws on a canvas', async (t) => {
  const browser = await launch();
  t.after(() => browser.close());
  const page = await browser.newPage();

  const res = await page.goto(`${baseURL()}/healthz`);
  assert.equal(res.status(), 200, 'the service answers /healthz');

  const pixel = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 20; c.height = 20;
    const ctx = c.getContext('2d');
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, 20, 20);
    ctx.strokeStyle = '#FF0000'; ctx.lineWidth = 5;
    ctx.beginPath(); ctx.moveTo(0, 10); ctx.lineTo(20, 10); ctx.stroke();
    return Array.from(ctx.getImageData(10, 10, 1, 1).data);
  });
  assert.deepEqual(pixel, [255, 0, 0, 255], 'a red line is red in the middle');
});
