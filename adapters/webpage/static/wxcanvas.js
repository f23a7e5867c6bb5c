// wxcanvas — replays a mini-program canvas action list (PROTOCOL §7.1: what
// wx.createContext().getActions() records) onto a browser
// CanvasRenderingContext2D. It is the browser's side of the rendering
// contract: the web page draws saved drawings with it, and the browser test
// holds the server's renderer (domain + adapters/render) to what it draws.
// Keep the two in step: a method known here is known there, with the same
// meaning.
//
// Every action is {"method": NAME, "data": [...]}. Known top-level methods:
//   save, restore, setStrokeStyle, setFillStyle (data ["normal", COLOR]),
//   setLineWidth [w], setLineCap [cap], setLineJoin [join],
//   strokePath / fillPath (data: a sub-path, a list of moveTo, lineTo,
//     closePath, quadraticCurveTo, bezierCurveTo, arc, rect),
//   clearRect [x, y, w, h], translate [x, y], scale [x, y], rotate [angle].
// COLOR is a CSS colour string or an [r, g, b, a] array of 0–255 numbers.
// Anything else is skipped and counted (never an error); so is an action
// whose data is not what its method needs.
(function (root) {
  'use strict';

  function isNum(v) { return typeof v === 'number' && Number.isFinite(v); }
  function nums(data, n) {
    if (!Array.isArray(data) || data.length < n) return null;
    for (let i = 0; i < n; i++) if (!isNum(data[i])) return null;
    return data;
  }

  // colour turns an action's COLOR into a CSS colour string, or null.
  function colour(c) {
    if (typeof c === 'string') return c;
    if (Array.isArray(c) && c.length >= 3 && c.slice(0, 4).every(isNum)) {
      const ch = (v) => Math.max(0, Math.min(255, Math.round(v)));
      const a = c.length >= 4 ? Math.max(0, Math.min(255, c[3])) / 255 : 1;
      return `rgba(${ch(c[0])}, ${ch(c[1])}, ${ch(c[2])}, ${a})`;
    }
    return null;
  }

  function style(data) {
    if (!Array.isArray(data)) return null;
    // ["normal", COLOR] as the mini-program records it; a bare [COLOR] too.
    if (data.length >= 2 && data[0] === 'normal') return colour(data[1]);
    if (data.length === 1) return colour(data[0]);
    return null;
  }

  // subPath adds a strokePath/fillPath's sub-path to the context's path;
  // it returns how many of its elements it skipped.
  function subPath(ctx, list) {
    let skipped = 0;
    if (!Array.isArray(list)) return 1;
    for (const el of list) {
      const m = el && el.method, d = el && el.data;
      let a;
      switch (m) {
        case 'moveTo': if ((a = nums(d, 2))) { ctx.moveTo(a[0], a[1]); continue; } break;
        case 'lineTo': if ((a = nums(d, 2))) { ctx.lineTo(a[0], a[1]); continue; } break;
        case 'closePath': ctx.closePath(); continue;
        case 'quadraticCurveTo': if ((a = nums(d, 4))) { ctx.quadraticCurveTo(a[0], a[1], a[2], a[3]); continue; } break;
        case 'bezierCurveTo': if ((a = nums(d, 6))) { ctx.bezierCurveTo(a[0], a[1], a[2], a[3], a[4], a[5]); continue; } break;
        case 'arc':
          if ((a = nums(d, 5)) && a[2] >= 0) { ctx.arc(a[0], a[1], a[2], a[3], a[4], d[5] === true); continue; }
          break;
        case 'rect': if ((a = nums(d, 4))) { ctx.rect(a[0], a[1], a[2], a[3]); continue; } break;
      }
      skipped++;
    }
    return skipped;
  }

  // replay draws actions (an array, or its JSON text) onto ctx and returns
  // {drawn, skipped}: how many top-level actions it applied and skipped.
  function replay(ctx, actions) {
    if (typeof actions === 'string') actions = JSON.parse(actions);
    let drawn = 0, skipped = 0;
    if (!Array.isArray(actions)) return { drawn, skipped: 1 };
    for (const act of actions) {
      const m = act && act.method, d = act && act.data;
      let a, s, ok = true;
      switch (m) {
        case 'save': ctx.save(); break;
        case 'restore': ctx.restore(); break;
        case 'setStrokeStyle': if ((s = style(d)) !== null) ctx.strokeStyle = s; else ok = false; break;
        case 'setFillStyle': if ((s = style(d)) !== null) ctx.fillStyle = s; else ok = false; break;
        // The canvas ignores a width that is not positive and finite, and
        // so does the server: the previous width stays.
        case 'setLineWidth': if ((a = nums(d, 1))) ctx.lineWidth = a[0]; else ok = false; break;
        case 'setLineCap': if (Array.isArray(d) && ['butt', 'round', 'square'].includes(d[0])) ctx.lineCap = d[0]; else ok = false; break;
        case 'setLineJoin': if (Array.isArray(d) && ['miter', 'round', 'bevel'].includes(d[0])) ctx.lineJoin = d[0]; else ok = false; break;
        case 'strokePath': ctx.beginPath(); skipped += subPath(ctx, d); ctx.stroke(); break;
        case 'fillPath': ctx.beginPath(); skipped += subPath(ctx, d); ctx.fill(); break;
        case 'clearRect': if ((a = nums(d, 4))) ctx.clearRect(a[0], a[1], a[2], a[3]); else ok = false; break;
        case 'translate': if ((a = nums(d, 2))) ctx.translate(a[0], a[1]); else ok = false; break;
        case 'scale': if ((a = nums(d, 2))) ctx.scale(a[0], a[1]); else ok = false; break;
        case 'rotate': if ((a = nums(d, 1))) ctx.rotate(a[0]); else ok = false; break;
        default: ok = false;
      }
      if (ok) drawn++; else skipped++;
    }
    return { drawn, skipped };
  }

  // stroke returns the actions of one stroke exactly as the seed's draw page
  // records it (save, setStrokeStyle, setLineWidth, strokePath, restore),
  // for a list of [x, y] points, a colour and a width.
  function stroke(points, color, width) {
    const path = points.map((p, i) => ({ method: i === 0 ? 'moveTo' : 'lineTo', data: [p[0], p[1]] }));
    return [
      { method: 'save', data: [] },
      { method: 'setStrokeStyle', data: ['normal', color] },
      { method: 'setLineWidth', data: [width] },
      { method: 'strokePath', data: path },
      { method: 'restore', data: [] },
    ];
  }

  // The seed's seven colours (its draw page's palette) and its line width.
  const COLOURS = ['#666666', '#FF0000', '#FFA500', '#FFFF00', '#008000', '#0000FF', '#8A2BE2'];
  const LINE_WIDTH = 5;

  const api = { replay, stroke, COLOURS, LINE_WIDTH };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.wxcanvas = api;
})(typeof window !== 'undefined' ? window : this);
