import { previewOf } from '../core/text';
import type { BranchOutcome, BranchRecord, EpisodeTree } from '../core/tree';

/** Outcome colours and legend texts of the tree drawing (one place). */
export const OUTCOME_STYLE: Record<BranchOutcome, { fill: string; label: string }> = {
  success: { fill: '#2e9d4f', label: 'success: every goal met' },
  rollback: { fill: '#d9822b', label: 'rollback: a reflection asked to re-do step τ' },
  horizon: { fill: '#8a8f98', label: 'horizon: trajectory reached the horizon' },
  budget: { fill: '#7a5cc7', label: 'budget: the episode budget ran out' },
  done: { fill: '#c23b3b', label: 'done: the environment ended the episode without success' },
};

const NODE_W = 170;
const NODE_H = 46;
const COL_W = 330;
const ROW_H = 78;
const MARGIN = 24;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function clip(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}

interface Placed {
  branch: BranchRecord;
  x: number;
  y: number;
}

/** Left-to-right layout: depth gives the column, leaves take consecutive rows, parents sit between their children. */
function layout(tree: EpisodeTree): Placed[] {
  const children = new Map<string | null, BranchRecord[]>();
  for (const b of tree.branches) children.set(b.parent, [...(children.get(b.parent) ?? []), b]);
  const placed = new Map<string, Placed>();
  let nextRow = 0;
  const place = (b: BranchRecord): number => {
    const kids = children.get(b.id) ?? [];
    const rows = kids.length === 0 ? [nextRow++] : kids.map(place);
    const row = (Math.min(...rows) + Math.max(...rows)) / 2;
    placed.set(b.id, { branch: b, x: MARGIN + b.depth * COL_W, y: MARGIN + 70 + row * ROW_H });
    return row;
  };
  // Orphans (parent missing from the tree) are drawn as roots rather than dropped.
  const ids = new Set(tree.branches.map((b) => b.id));
  for (const b of tree.branches) if (b.parent === null || !ids.has(b.parent)) place(b);
  return tree.branches.map((b) => placed.get(b.id)!).filter(Boolean);
}

function svgOf(tree: EpisodeTree): string {
  const nodes = layout(tree);
  const byId = new Map(nodes.map((n) => [n.branch.id, n]));
  const width = Math.max(...nodes.map((n) => n.x + NODE_W), 600) + MARGIN;
  const height = Math.max(...nodes.map((n) => n.y + NODE_H), 120) + MARGIN;
  const parts: string[] = [];
  parts.push(
    `<text x="${MARGIN}" y="${MARGIN + 14}" class="title">${esc(tree.taskId)} — ${tree.success ? 'SOLVED' : 'not solved'}</text>`,
    `<text x="${MARGIN}" y="${MARGIN + 36}" class="sub">budget ${tree.budget.used}/${tree.budget.limit} new steps (+${tree.budget.replayed} replayed) · ${tree.branches.length} branch(es) · ${tree.usage.requests} LLM requests, ${tree.usage.promptTokens + tree.usage.completionTokens} tokens</text>`,
  );
  for (const n of nodes) {
    const p = n.branch.parent === null ? undefined : byId.get(n.branch.parent);
    if (!p) continue;
    const x1 = p.x + NODE_W;
    const y1 = p.y + NODE_H / 2;
    const x2 = n.x;
    const y2 = n.y + NODE_H / 2;
    const mx = (x1 + x2) / 2;
    const exp = n.branch.experience ?? '';
    parts.push(
      `<g class="edge"><title>τ=${n.branch.tau ?? '-'}\n${esc(exp)}</title>`,
      `<path d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}" />`,
      `<text x="${x1 + 10}" y="${y2 - 16}" class="tau">τ=${n.branch.tau ?? '-'}</text>`,
      `<text x="${x1 + 10}" y="${y2 - 4}" class="exp">${esc(clip(exp, 44))}</text></g>`,
    );
  }
  for (const n of nodes) {
    const b = n.branch;
    const style = OUTCOME_STYLE[b.outcome] ?? { fill: '#444', label: b.outcome };
    const last = b.steps.at(-1);
    parts.push(
      `<g class="node"><title>${esc(b.workflowId)}\n${esc(b.outcome)}${last ? `\nlast feedback: ${esc(clip(previewOf(last.feedback), 300))}` : ''}</title>`,
      `<rect x="${n.x}" y="${n.y}" width="${NODE_W}" height="${NODE_H}" rx="8" fill="${style.fill}" />`,
      `<text x="${n.x + 10}" y="${n.y + 19}" class="label">${esc(b.id)} · ${esc(b.outcome)}</text>`,
      `<text x="${n.x + 10}" y="${n.y + 36}" class="small">${b.newSteps} new + ${b.replayedSteps} replayed${b.reopens ? ` · ${b.reopens} re-open` : ''}</text></g>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="exploration tree of ${esc(tree.taskId)}">${parts.join('')}</svg>`;
}

function tableOf(tree: EpisodeTree): string {
  const rows = tree.branches.map((b) => {
    const last = b.steps.at(-1);
    return `<tr><td>${esc(b.id)}</td><td><code>${esc(b.workflowId)}</code></td><td>${esc(b.parent ?? '-')}</td><td>${b.tau ?? '-'}</td><td>${esc(b.experience ?? '')}</td><td>${esc(b.outcome)}</td><td>${b.newSteps}+${b.replayedSteps}</td><td>${b.reflections.length}</td><td>${esc(last ? clip(previewOf(last.feedback), 240) : '')}</td></tr>`;
  });
  return `<table><thead><tr><th>branch</th><th>workflow id</th><th>parent</th><th>τ</th><th>experience</th><th>outcome</th><th>steps new+replayed</th><th>reflections</th><th>last feedback</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const CSS = `body{font-family:system-ui,sans-serif;margin:24px;color:#222}svg{border:1px solid #ddd;border-radius:6px;background:#fafafa}
.title{font-size:16px;font-weight:600}.sub{font-size:12px;fill:#555}.label{font-size:13px;fill:#fff;font-weight:600}.small{font-size:11px;fill:#fff}
.edge path{fill:none;stroke:#999;stroke-width:1.5}.tau{font-size:11px;font-weight:600;fill:#333}.exp{font-size:10px;fill:#555}
table{border-collapse:collapse;margin-top:16px;font-size:12px}td,th{border:1px solid #ddd;padding:4px 6px;vertical-align:top;text-align:left}
.legend span{display:inline-block;margin-right:14px;font-size:12px}.legend i{display:inline-block;width:12px;height:12px;border-radius:3px;margin-right:4px;vertical-align:middle}`;

/** A standalone HTML page (no external assets): the tree as inline SVG, a legend and a branch table. */
export function renderTreeHtml(tree: EpisodeTree): string {
  const legend = Object.values(OUTCOME_STYLE).map((s) => `<span><i style="background:${s.fill}"></i>${esc(s.label)}</span>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>leafe tree ${esc(tree.episodeId)}</title><style>${CSS}</style></head>
<body><h1>Exploration tree</h1><p><code>${esc(tree.episodeId)}</code></p>
<p class="legend">${legend}</p>
${svgOf(tree)}
${tableOf(tree)}
</body></html>
`;
}
