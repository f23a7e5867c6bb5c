'use strict';

// A drawing id the way the original client made one: base36 of the time in ms
// (8 characters until 2059) followed by 4 base36 random characters.
function makeId(now) {
  const time = (now === undefined ? Date.now() : now).toString(36);
  const random = Math.floor(Math.random() * Math.pow(36, 4)).toString(36).padStart(4, '0');
  return time + random;
}

module.exports = { makeId };
