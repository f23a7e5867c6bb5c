'use strict';
// Launches Debian's Chromium through playwright-core (never a downloaded
// browser: this network cannot fetch one). The flags are the ones
// ../../../shared/TEST-ENVIRONMENT.md lists: as root Chromium needs
// --no-sandbox, and without the others it keeps dialing hosts a closed
// network refuses. playwright gives every launch a fresh --user-data-dir.
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require('playwright-core');

const executablePath = process.env.ONESTROKE_CHROMIUM || '/usr/bin/chromium';

const args = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // The canvas must draw the same pixels on every machine: no GPU
  // rasterization, no LCD text, sRGB.
  '--disable-gpu-rasterization',
  '--disable-lcd-text',
  '--force-color-profile=srgb',
];

async function launch() {
  if (!fs.existsSync(executablePath)) {
    throw new Error(`Chromium is not at ${executablePath} (scripts/browser.sh installs Debian's chromium)`);
  }
  return chromium.launch({ executablePath, args, headless: true, timeout: 60_000 });
}

// The service under test: started by browser_test.go, which passes its URL.
function baseURL() {
  const url = process.env.ONESTROKE_URL;
  if (!url) throw new Error('ONESTROKE_URL is not set: run the browser tests through `make test-browser`');
  return url.replace(/\/$/, '');
}

// Screenshots go where the Go runner says (kept as test artifacts).
function screenshotPath(name) {
  const dir = process.env.ONESTROKE_SCREENSHOTS || path.join(__dirname, '..', 'screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

module.exports = { launch, baseURL, screenshotPath, executablePath };
