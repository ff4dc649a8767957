// A small SVG line chart of train and validation loss per epoch (no dependencies).
import type { EpochStats } from './trainer.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Nice round tick step for a range, 1/2/5 × 10^k. */
function tickStep(range: number, target: number): number {
  const raw = range / target;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

const fmt = (v: number) => Number(v.toPrecision(4)).toString();

/**
 * Train (blue) and validation (orange) loss against epoch; the best epoch is marked. Epoch 0
 * (the starting weights) has a validation loss only: the train line starts at epoch 1.
 */
export function lossCurveSvg(history: readonly EpochStats[], title: string, bestEpoch: number): string {
  const W = 640, Hh = 360, left = 64, right = 16, top = 40, bottom = 48;
  const pw = W - left - right, ph = Hh - top - bottom;
  const values = history.flatMap((h) => [h.trainLoss, h.valLoss]).filter(Number.isFinite);
  let lo = Math.min(...values), hi = Math.max(...values);
  if (!(hi > lo)) { hi = lo + 1; lo = lo - 1; }
  const step = tickStep(hi - lo, 5);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const n = history.length;
  const first = n > 0 ? history[0].epoch : 0, last = n > 0 ? history[n - 1].epoch : 0;
  const xOf = (e: number) => left + (last > first ? ((e - first) / (last - first)) * pw : pw / 2);
  const yOf = (v: number) => top + ph - ((v - lo) / (hi - lo)) * ph;
  const path = (key: 'trainLoss' | 'valLoss') =>
    history.filter((h) => Number.isFinite(h[key])).map((h, i) => `${i ? 'L' : 'M'}${xOf(h.epoch).toFixed(1)},${yOf(h[key]).toFixed(1)}`).join(' ');
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Hh}" viewBox="0 0 ${W} ${Hh}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${Hh}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`);
  for (let v = lo; v <= hi + step / 2; v += step) {
    const y = yOf(v).toFixed(1);
    out.push(`<line x1="${left}" y1="${y}" x2="${W - right}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(v)}</text>`);
  }
  const every = Math.max(1, Math.ceil(n / 10));
  for (const h of history) {
    if ((h.epoch - first) % every !== 0 && h.epoch !== last) continue;
    out.push(`<text x="${xOf(h.epoch).toFixed(1)}" y="${top + ph + 18}" text-anchor="middle">${h.epoch}</text>`);
  }
  out.push(`<text x="${left + pw / 2}" y="${Hh - 8}" text-anchor="middle">epoch</text>`);
  out.push(`<text x="16" y="${top + ph / 2}" text-anchor="middle" transform="rotate(-90 16 ${top + ph / 2})">loss</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  if (history.some((h) => h.epoch === bestEpoch)) {
    const x = xOf(bestEpoch).toFixed(1);
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${top + ph}" stroke="#2a2" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${x}" y="${top - 4}" text-anchor="middle" fill="#2a2">best</text>`);
  }
  out.push(`<path d="${path('trainLoss')}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  out.push(`<path d="${path('valLoss')}" fill="none" stroke="#ff7f0e" stroke-width="2"/>`);
  for (const h of history) {
    out.push(`<circle cx="${xOf(h.epoch).toFixed(1)}" cy="${yOf(h.valLoss).toFixed(1)}" r="2.5" fill="#ff7f0e"/>`);
  }
  const lx = W - right - 150;
  out.push(`<line x1="${lx}" y1="${top + 14}" x2="${lx + 24}" y2="${top + 14}" stroke="#1f77b4" stroke-width="2"/><text x="${lx + 30}" y="${top + 18}">train loss</text>`);
  out.push(`<line x1="${lx}" y1="${top + 32}" x2="${lx + 24}" y2="${top + 32}" stroke="#ff7f0e" stroke-width="2"/><text x="${lx + 30}" y="${top + 36}">validation loss</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
