// The demo's terminal view: one row per device (last reading, prediction, error),
// redrawn in place on a TTY (log-update), or printed as plain lines otherwise.
import { createLogUpdate } from 'log-update';
import type { Scoreboard, Summary } from './scoreboard.js';

const fmt = (v: number | undefined, digits = 2) => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits));

function values(names: readonly string[], v: Record<string, number> | undefined, digits = 2): string {
  return names.map((n) => fmt(v?.[n], digits)).join(' / ');
}

/** The table of devices, as lines. */
export function renderRows(board: Scoreboard, names: readonly string[]): string[] {
  const head = ['device', 'seq', `reading (${names.join(' / ')})`, `prediction for seq+${board.horizon}`, '|error| of the last scored', 'msgs', 'preds', 'dead'];
  const rows = [...board.rows.values()]
    .sort((a, b) => a.device.localeCompare(b.device, 'en', { numeric: true }))
    .map((r) => [
      r.device, r.lastSeq === undefined ? '-' : String(r.lastSeq),
      values(names, r.lastReading), values(names, r.lastPrediction),
      values(names, r.lastError, 3),
      String(r.messages), String(r.predictions), String(r.deadLetters),
    ]);
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd());
}

export function formatSummary(s: Summary, extra: { seconds: number; simulatedSeconds: number; model: string; duplicates: number }): string {
  const mae = Object.entries(s.mae).map(([n, v]) => `${n} ${fmt(v, 3)}`).join(', ');
  const reasons = Object.entries(s.deadByReason).map(([r, n]) => `${r} ${n}`).join(', ');
  return [
    `summary after ${extra.seconds.toFixed(1)} s (${(extra.simulatedSeconds / 60).toFixed(1)} min of sensor time), model ${extra.model}:`,
    `  readings      ${s.readings} from ${s.devices} devices`,
    `  predictions   ${s.predictions}`,
    `  dead letters  ${s.deadLetters}${reasons ? ` (${reasons})` : ''}`,
    `  duplicates    ${extra.duplicates} dropped by the runtime`,
    `  mean |error|  ${mae || '-'} over ${s.scored} predictions, each against the reading ${s.horizon} step(s) later`,
    '',
  ].join('\n');
}

export interface LiveView {
  update(): void;
  done(): void;
}

/** Redraws in place on a TTY; elsewhere prints the rows every `plainEveryMs`. */
export function liveView(board: Scoreboard, names: readonly string[], out: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean }, header: string, plainEveryMs = 2000): LiveView {
  // A terminal of unknown height (rows 0, e.g. some CI ptys) would clip every frame away.
  const tty = out as { isTTY?: boolean; rows?: number };
  if (tty.isTTY && (tty.rows ?? 0) > 0) {
    const draw = createLogUpdate(out as NodeJS.WriteStream);
    return {
      update: () => draw([header, '', ...renderRows(board, names)].join('\n')),
      done: () => draw.done(),
    };
  }
  let last = 0;
  out.write(header + '\n');
  return {
    update() {
      const now = Date.now();
      if (now - last < plainEveryMs) return;
      last = now;
      out.write(renderRows(board, names).slice(1).join('\n') + '\n');
    },
    done() {
      out.write(renderRows(board, names).join('\n') + '\n');
    },
  };
}
