/**
 * Writes a distillation result as the files trainers read. Every file is written to a temp
 * name and renamed, so a crash (or a retried activity) never leaves a half-written dataset.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DistilResult } from '../../core/distil';

export const PROMPT_COMPLETION_FILE = 'train.prompt-completion.jsonl';
export const MESSAGES_FILE = 'train.messages.jsonl';
export const PROVENANCE_FILE = 'provenance.jsonl';
export const STATS_FILE = 'stats.json';

export interface WrittenDatasets {
  dir: string;
  /** TRL conversational prompt-completion: {"id","prompt","completion","kind"} per line. */
  promptCompletionFile: string;
  /** OpenAI chat format: {"id","messages"} per line (LLaMA-Factory sharegpt with role/content tags). */
  messagesFile: string;
  /** One RecordProvenance per unique record (not per replicated line). */
  provenanceFile: string;
  statsFile: string;
  /** sha256 (hex) of the prompt-completion file: identifies the training data of an iteration. */
  sha256: string;
  /** Lines in each trainer file (records × copies). */
  lines: number;
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  await writeFile(tmp, content, 'utf8');
  await rename(tmp, file);
}

/**
 * Line ids: the record id for the first copy, `<id>#<n>` for the n-th replicated copy (n >= 2),
 * so every line stays unique and still points at its provenance line.
 */
function lineId(id: string, copy: number): string {
  return copy === 1 ? id : `${id}#${copy}`;
}

export async function writeDatasets(dir: string, result: DistilResult): Promise<WrittenDatasets> {
  await mkdir(dir, { recursive: true });
  const pc: string[] = [];
  const msgs: string[] = [];
  for (const r of result.records) {
    for (let copy = 1; copy <= r.copies; copy++) {
      const id = lineId(r.id, copy);
      pc.push(JSON.stringify({ id, prompt: r.prompt, completion: r.completion, kind: r.kind }));
      msgs.push(JSON.stringify({ id, messages: [...r.prompt, ...r.completion] }));
    }
  }
  const join = (lines: string[]): string => (lines.length === 0 ? '' : `${lines.join('\n')}\n`);
  const pcText = join(pc);
  const out: WrittenDatasets = {
    dir,
    promptCompletionFile: path.join(dir, PROMPT_COMPLETION_FILE),
    messagesFile: path.join(dir, MESSAGES_FILE),
    provenanceFile: path.join(dir, PROVENANCE_FILE),
    statsFile: path.join(dir, STATS_FILE),
    sha256: createHash('sha256').update(pcText, 'utf8').digest('hex'),
    lines: pc.length,
  };
  await writeAtomic(out.promptCompletionFile, pcText);
  await writeAtomic(out.messagesFile, join(msgs));
  await writeAtomic(out.provenanceFile, join(result.provenance.map((p) => JSON.stringify(p))));
  await writeAtomic(out.statsFile, `${JSON.stringify(result.stats, null, 2)}\n`);
  return out;
}
