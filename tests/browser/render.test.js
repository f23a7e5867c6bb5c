'use strict';
// The server's renderer held to the browser (PROTOCOL §7.1: a render "must
// match what a browser canvas draws from the same actions"). browser_test.go
// renders every testdata/render/*.json to a PNG with the service's own
// interpreter and rasterizer and writes the frame beside it (image size and
// the transform from canvas pixels to image pixels). Here Chromium replays
// the same actions with wxcanvas.js — the web page's replay — onto a canvas
// of that size under that transform, on white, and the two images are
// compared pixel by pixel.
//
// Tolerance: anti-aliasing differs between any two rasterizers along every
// edge, by up to a pixel. A pixel counts as different when no pixel within
// one pixel of it (its 3×3 neighbourhood) in the other image is within
// CHANNEL_TOLERANCE on every channel, checked both ways. At most
// MAX_DIFFERENT (2 %, the bound) of all pixels may differ, and at
// most MAX_DIFFERENT_INK (1 %) of the "ink" (pixels that are not white in
// either image): a mostly white image would hide a missing cap in the
// first figure (one did: 0.59 % of all pixels, 2.50 % of the ink).
// The server also counts drawn and skipped actions as replay() does. The
// server's SVG, drawn by Chromium at the PNG's scale, is held to the same
// bounds.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { launch, screenshotPath } = require('./support/browser');

const CHANNEL_TOLERANCE = 48;
const MAX_DIFFERENT = 0.02;
const MAX_DIFFERENT_INK = 0.01;

const fixtures = path.join(__dirname, 'testdata', 'render');
const wxcanvas = path.join(__dirname, '..', '..', 'adapters', 'webpage', 'static', 'wxcanvas.js');

function rendersDir() {
  const dir = process.env.ONESTROKE_RENDERS;
  if (!dir) throw new Error('ONESTROKE_RENDERS is not set: run the browser tests through `make test-browser`');
  return dir;
}

// compare runs in the page: it draws actions on a canvas under the frame,
// decodes the server's PNG and counts the pixels that differ.
async function compare({ actions, frame, png, svg, tolerance }) {
  const { width: w, height: h, transform: m } = frame;
  const canvas = document.createElement('canvas');
  canvas.width = w; canvas.height = h;
  const ctx = canvas.getContext('2d');
  ctx.setTransform(m[0], m[1], m[2], m[3], m[4], m[5]);
  const counts = window.wxcanvas.replay(ctx, actions);
  // On white, as the server draws: what clearRect cleared shows white.
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.globalCompositeOperation = 'destination-over';
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  const a = ctx.getImageData(0, 0, w, h).data;

  const img = new Image();
  img.src = 'data:image/png;base64,' + png;
  await img.decode();
  if (img.naturalWidth !== w || img.naturalHeight !== h) {
    return { error: `the server's PNG is ${img.naturalWidth}×${img.naturalHeight}, the frame says ${w}×${h}` };
  }
  const other = document.createElement('canvas');
  other.width = w; other.height = h;
  const octx = other.getContext('2d');
  if (svg) { // the server's SVG instead: its view drawn at the PNG's scale
    const vector = new Image();
    vector.src = 'data:image/svg+xml;base64,' + svg;
    await vector.decode();
    octx.fillStyle = '#fff';
    octx.fillRect(0, 0, w, h);
    octx.drawImage(vector, 0, 0, frame.svgWidth, frame.svgHeight);
  } else {
    octx.drawImage(img, 0, 0);
  }
  const b = octx.getImageData(0, 0, w, h).data;

  // near(p, q, x, y): some pixel of q within one pixel of (x, y) is within
  // the tolerance of p's pixel (x, y) on every channel.
  const near = (p, q, x, y) => {
    const i = (y * w + x) * 4;
    for (let dy = -1; dy <= 1; dy++) {
      const yy = y + dy;
      if (yy < 0 || yy >= h) continue;
      for (let dx = -1; dx <= 1; dx++) {
        const xx = x + dx;
        if (xx < 0 || xx >= w) continue;
        const j = (yy * w + xx) * 4;
        if (Math.abs(p[i] - q[j]) <= tolerance && Math.abs(p[i + 1] - q[j + 1]) <= tolerance &&
            Math.abs(p[i + 2] - q[j + 2]) <= tolerance) return true;
      }
    }
    return false;
  };
  const white = (p, i) => p[i] >= 250 && p[i + 1] >= 250 && p[i + 2] >= 250;
  const diff = octx.createImageData(w, h);
  let different = 0, ink = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      if (!white(a, i) || !white(b, i)) ink++;
      const bad = !near(a, b, x, y) || !near(b, a, x, y);
      if (bad) different++;
      // The diff image: differences in red over a faint copy of the browser's.
      diff.data[i] = bad ? 255 : 255 - (255 - a[i]) / 4;
      diff.data[i + 1] = bad ? 0 : 255 - (255 - a[i + 1]) / 4;
      diff.data[i + 2] = bad ? 0 : 255 - (255 - a[i + 2]) / 4;
      diff.data[i + 3] = 255;
    }
  }
  octx.putImageData(diff, 0, 0);
  return { counts, different, ink, total: w * h, browser: canvas.toDataURL(), diff: other.toDataURL() };
}

test('the server renders every fixture as Chromium draws it', async (t) => {
  const browser = await launch();
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.setContent('<!doctype html><title>render</title>');
  await page.addScriptTag({ path: wxcanvas });

  const names = fs.readdirSync(fixtures).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  assert.ok(names.length > 0, 'there are fixtures');
  const figures = [];
  for (const name of names) {
    await t.test(name, async () => {
      const actions = fs.readFileSync(path.join(fixtures, `${name}.json`), 'utf8');
      const frame = JSON.parse(fs.readFileSync(path.join(rendersDir(), `${name}.json`), 'utf8'));
      const png = fs.readFileSync(path.join(rendersDir(), `${name}.png`)).toString('base64');
      const r = await page.evaluate(compare, { actions, frame, png, tolerance: CHANNEL_TOLERANCE });
      assert.equal(r.error, undefined, r.error);
      // The SVG, drawn by Chromium, is held to the same bound.
      const svg = fs.readFileSync(path.join(rendersDir(), `${name}.svg`)).toString('base64');
      const v = await page.evaluate(compare, { actions, frame, png, svg, tolerance: CHANNEL_TOLERANCE });
      assert.equal(v.error, undefined, v.error);
      fs.writeFileSync(screenshotPath(`render-${name}-svg-diff.png`), Buffer.from(v.diff.split(',')[1], 'base64'));
      const svgShare = v.different / v.total;
      const svgLine = `${name}.svg: ${v.different} of ${v.total} pixels differ (${(100 * svgShare).toFixed(2)} %)`;
      figures.push(svgLine);
      t.diagnostic(svgLine);
      for (const [kind, url] of [['browser', r.browser], ['diff', r.diff]]) {
        fs.writeFileSync(screenshotPath(`render-${name}-${kind}.png`), Buffer.from(url.split(',')[1], 'base64'));
      }
      fs.copyFileSync(path.join(rendersDir(), `${name}.png`), screenshotPath(`render-${name}-server.png`));
      const share = r.different / r.total;
      const inkShare = r.ink ? r.different / r.ink : 0;
      const line = `${name}: ${r.different} of ${r.total} pixels differ (${(100 * share).toFixed(2)} %; ` +
        `${(100 * inkShare).toFixed(2)} % of ${r.ink} inked), ${frame.width}×${frame.height}`;
      figures.push(line);
      t.diagnostic(line);
      assert.deepEqual({ drawn: frame.drawn, skipped: frame.skipped }, r.counts,
        'the server counts drawn and skipped actions as the browser does');
      assert.ok(share <= MAX_DIFFERENT, `${line}: more than ${100 * MAX_DIFFERENT} % of pixels differ`);
      assert.ok(inkShare <= MAX_DIFFERENT_INK, `${line}: more than ${100 * MAX_DIFFERENT_INK} % of inked pixels differ`);
      assert.ok(svgShare <= MAX_DIFFERENT && (v.ink ? v.different / v.ink : 0) <= MAX_DIFFERENT_INK, `${svgLine}: beyond the bound`);
    });
  }
  console.log(`render comparison (tolerance ${CHANNEL_TOLERANCE} per channel within 1 px):\n  ` + figures.join('\n  '));
});
