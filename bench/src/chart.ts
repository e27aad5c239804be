import { ratio, type Metric, type Results } from './results.js';

/** The metrics drawn, one group each: [scenario, start of the metric's name, label]. */
const CHARTED: Array<[scenario: string, prefix: string, label: string]> = [
  ['fanout', 'saturating: deliveries/s', '1 fan-out: deliveries/s'],
  ['fanout', 'saturating: server CPU per delivery', '1 fan-out: server CPU per delivery'],
  ['fanout', '50 msgs/s: p99', '1 fan-out at 50 msgs/s: p99 latency'],
  ['rooms', 'server CPU per delivery', '2 small rooms: server CPU per delivery'],
  ['rooms', 'p99', '2 small rooms: p99 latency'],
  ['echo', 'round trips/s', '3 echo: round trips/s'],
  ['echo', 'server CPU per message', '3 echo: server CPU per message'],
  ['storm', 'handshakes/s', '4 storm: handshakes/s'],
  ['storm', 'server CPU per handshake', '4 storm: server CPU per handshake'],
  ['storm', 'RSS per idle connection', '4 idle: RSS per connection'],
];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar chart of ours ÷ twin for the headline metrics, on a log2
 * axis centred on 1 (parity). Each group has two bars, against ws and against
 * socket.io; green where ours is better by that metric's own direction
 * (↑ higher or ↓ lower is better), orange where it is worse.
 */
export function renderChart(results: Results, subtitle: string): string {
  const rows: Array<{ label: string; better: Metric['better']; ws: number | undefined; sio: number | undefined }> = [];
  for (const [scenario, prefix, label] of CHARTED) {
    const m = results.metrics.find((x) => x.scenario === scenario && x.name.startsWith(prefix));
    if (!m) continue;
    const ws = ratio(m, 'ws');
    const sio = ratio(m, 'socket.io');
    if (ws === undefined && sio === undefined) continue;
    rows.push({ label: `${label} ${m.better === 'higher' ? '↑' : '↓'}`, better: m.better, ws, sio });
  }

  const width = 860;
  const left = 330;
  const right = 90;
  const top = 74;
  const bar = 13;
  const groupH = 2 * bar + 16;
  const plotW = width - left - right;
  const height = top + Math.max(1, rows.length) * groupH + 46;
  // The axis spans 2^-span … 2^span, wide enough for every ratio (at least ½…2, at most 1/64…64).
  const extreme = Math.max(1, ...rows.flatMap((r) => [r.ws, r.sio].filter((x): x is number => x !== undefined).map((x) => Math.abs(Math.log2(x)))));
  const span = Math.min(6, Math.ceil(extreme));
  const x = (r: number) => left + ((Math.max(-span, Math.min(span, Math.log2(r))) + span) / (2 * span)) * plotW;
  const one = x(1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="16" y="24" font-size="16" font-weight="600" fill="#111">Our chat server ÷ twin, per scenario (median of runs)</text>`);
  out.push(`<text x="16" y="44" fill="#555">${esc(subtitle)}</text>`);
  out.push(
    `<text x="16" y="62" fill="#555">log scale, 1 = parity · upper bar vs ws, lower bar vs socket.io · ` +
      `<tspan fill="#2e7d32" font-weight="600">green: ours better</tspan> · <tspan fill="#d84315" font-weight="600">orange: ours worse</tspan> · ↑/↓: higher/lower is better</text>`,
  );

  const axisY = top + rows.length * groupH + 6;
  for (let e = -span; e <= span; e++) {
    const gx = x(2 ** e);
    out.push(`<line x1="${gx.toFixed(1)}" y1="${top - 6}" x2="${gx.toFixed(1)}" y2="${axisY}" stroke="${e === 0 ? '#333' : '#e3e3e3'}" stroke-width="${e === 0 ? 1.5 : 1}"/>`);
    const label = e >= 0 ? `${2 ** e}×` : `1/${2 ** -e}×`;
    out.push(`<text x="${gx.toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#555">${label}</text>`);
  }

  rows.forEach((row, i) => {
    const y0 = top + i * groupH;
    out.push(`<text x="${left - 10}" y="${y0 + bar + 4}" text-anchor="end" fill="#111">${esc(row.label)}</text>`);
    const bars: Array<[string, number | undefined]> = [
      ['ws', row.ws],
      ['socket.io', row.sio],
    ];
    bars.forEach(([twin, r], j) => {
      const y = y0 + j * (bar + 2);
      if (r === undefined) {
        out.push(`<text x="${one + 6}" y="${y + bar - 2}" fill="#999">vs ${twin}: n/a</text>`);
        return;
      }
      const ours = row.better === 'higher' ? r >= 1 : r <= 1;
      const xr = x(r);
      const x0 = Math.min(one, xr);
      const w = Math.max(1, Math.abs(xr - one));
      out.push(`<rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${bar}" fill="${ours ? '#43a047' : '#f4511e'}" opacity="${j === 0 ? 1 : 0.7}"><title>ours/${twin} = ${r.toFixed(3)}</title></rect>`);
      const text = `${r.toFixed(2)} vs ${twin}`;
      // Beside the bar's end; a long bar to the left would push it into the row labels, so then beside the 1× line.
      const fitsLeft = xr - 4 - text.length * 6.2 > left;
      const right = xr >= one || !fitsLeft;
      const tx = xr >= one ? xr + 4 : fitsLeft ? xr - 4 : one + 4;
      out.push(`<text x="${tx.toFixed(1)}" y="${y + bar - 2}" text-anchor="${right ? 'start' : 'end'}" fill="#333" font-size="11">${text}</text>`);
    });
  });
  if (rows.length === 0) out.push(`<text x="${left}" y="${top + 20}" fill="#999">no ratios in this run</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
