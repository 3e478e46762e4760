/** One curve: Pass@k against k for a method at an iteration. */
export interface Curve {
  label: string;
  points: Array<{ k: number; p: number }>;
}

const COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

/** A standalone SVG line chart of Pass@k curves (k on a log2 axis). No dependencies. */
export function passAtKChart(curves: Curve[], title: string): string {
  const width = 640;
  const height = 400;
  const m = { left: 60, right: 180, top: 40, bottom: 50 };
  const ks = [...new Set(curves.flatMap((c) => c.points.map((p) => p.k)))].sort((a, b) => a - b);
  const minLog = Math.log2(ks[0] ?? 1);
  const maxLog = Math.max(minLog + 1, Math.log2(ks[ks.length - 1] ?? 2));
  const x = (k: number) => m.left + ((Math.log2(k) - minLog) / (maxLog - minLog)) * (width - m.left - m.right);
  const y = (p: number) => height - m.bottom - p * (height - m.top - m.bottom);
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const p = i / 5;
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(p)}" y2="${y(p)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 8}" y="${y(p) + 4}" text-anchor="end">${p.toFixed(1)}</text>`);
  }
  for (const k of ks) parts.push(`<text x="${x(k)}" y="${height - m.bottom + 18}" text-anchor="middle">${k}</text>`);
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${height - 12}" text-anchor="middle">k (samples)</text>`);
  parts.push(`<text x="16" y="${(m.top + height - m.bottom) / 2}" transform="rotate(-90 16 ${(m.top + height - m.bottom) / 2})" text-anchor="middle">Pass@k</text>`);
  curves.forEach((c, i) => {
    const color = COLORS[i % COLORS.length];
    const dash = DASHES[Math.floor(i / COLORS.length) % DASHES.length];
    const pts = c.points.map((p) => `${x(p.k).toFixed(1)},${y(p.p).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    for (const p of c.points) parts.push(`<circle cx="${x(p.k).toFixed(1)}" cy="${y(p.p).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = m.top + 10 + i * 18;
    parts.push(`<line x1="${width - m.right + 12}" x2="${width - m.right + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
    parts.push(`<text x="${width - m.right + 42}" y="${ly + 4}">${esc(c.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
