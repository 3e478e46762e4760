/**
 * Writes a distillation result as the files trainers read. Every file is written to a temp
 * name and renamed, so a crash (or a retried activity) never leaves a half-written dataset.
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DistilResult } from '../../core/distil';
import { writeFileAtomic } from '../../infra/atomic-file';
import { LLAMAFACTORY_DATASET, LLAMAFACTORY_INFO_FILE, MESSAGES_FILE, PROMPT_COMPLETION_FILE, PROVENANCE_FILE, STATS_FILE, TRL_DIR } from '../../infra/dataset-files';

export interface WrittenDatasets {
  dir: string;
  /** TRL conversational prompt-completion: {"id","prompt","completion","kind"} per line. */
  promptCompletionFile: string;
  /** OpenAI chat format: {"id","messages"} per line (LLaMA-Factory sharegpt with role/content tags). */
  messagesFile: string;
  /** One RecordProvenance per unique record (not per replicated line). */
  provenanceFile: string;
  statsFile: string;
  /** Directory for `trl sft --dataset_name`: contains only train.jsonl (= the prompt-completion file). */
  trlDatasetDir: string;
  /** dataset_info.json for `llamafactory-cli train` (dataset_dir = dir, dataset = leafe_train). */
  llamaFactoryInfoFile: string;
  /** sha256 (hex) of the prompt-completion file: identifies the training data of an iteration. */
  sha256: string;
  /** Lines in each trainer file (records × copies). */
  lines: number;
}

/** Hard link (no second copy of a large file); copy where the filesystem has no links. */
async function linkAtomic(from: string, to: string): Promise<void> {
  const tmp = `${to}.${process.pid}.${Date.now().toString(36)}.tmp`;
  await rm(tmp, { force: true });
  try {
    await link(from, tmp);
  } catch {
    await copyFile(from, tmp);
  }
  await rename(tmp, to);
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
    trlDatasetDir: path.join(dir, TRL_DIR),
    llamaFactoryInfoFile: path.join(dir, LLAMAFACTORY_INFO_FILE),
    sha256: createHash('sha256').update(pcText, 'utf8').digest('hex'),
    lines: pc.length,
  };
  await writeFileAtomic(out.promptCompletionFile, pcText);
  await writeFileAtomic(out.messagesFile, join(msgs));
  await writeFileAtomic(out.provenanceFile, join(result.provenance.map((p) => JSON.stringify(p))));
  await writeFileAtomic(out.statsFile, `${JSON.stringify(result.stats, null, 2)}\n`);
  await mkdir(out.trlDatasetDir, { recursive: true });
  await linkAtomic(out.promptCompletionFile, path.join(out.trlDatasetDir, 'train.jsonl'));
  const info = {
    [LLAMAFACTORY_DATASET]: {
      file_name: MESSAGES_FILE,
      formatting: 'sharegpt',
      columns: { messages: 'messages' },
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
    },
  };
  await writeFileAtomic(out.llamaFactoryInfoFile, `${JSON.stringify(info, null, 2)}\n`);
  return out;
}
