import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson, specDifferences } from '../contract/experiment-fingerprint';
import { writeFileAtomic } from '../infra/atomic-file';
import { hasStageResultsUnder, stagesDir } from '../infra/stage-files';
import { experimentKeyPrefix } from '../contract/stage-keys';

/**
 * `<runDir>/experiments/<id>/spec.json`: the result-defining spec an experiment id was first run
 * with (core/experiment-fingerprint.ts). Its stage results, datasets and trainer checkpoints
 * belong to that spec; a later run under the same id must bring the same one.
 */
export interface SpecRecord {
  experimentId: string;
  specFile: string;
  sha256: string;
  spec: Record<string, unknown>;
}

export const specRecordFile = (runDir: string, experimentId: string) => path.join(runDir, 'experiments', experimentId, 'spec.json');

export function specRecord(experimentId: string, specFile: string, spec: Record<string, unknown>): SpecRecord {
  return { experimentId, specFile, sha256: createHash('sha256').update(canonicalJson(spec)).digest('hex'), spec };
}

async function readRecord(file: string): Promise<SpecRecord | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as SpecRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`${file}: cannot read the recorded spec (${(err as Error).message}); expected the JSON leafe wrote there`, { cause: err });
  }
}

/** Stage results recorded for this experiment id (activities/store/store-activities.ts names them). */
/**
 * Checks that `wanted` may run in `runDir`: refused (nothing is started or written) when any of
 * their ids was run with a different spec, naming the id and what differs. Then records the
 * specs of ids seen for the first time. Returns warnings for ids whose stage results predate
 * spec records (they cannot be checked).
 */
export async function claimExperimentIds(runDir: string, studyId: string, wanted: SpecRecord[]): Promise<string[]> {
  const conflicts: string[] = [];
  const fresh: SpecRecord[] = [];
  const warnings: string[] = [];
  for (const w of wanted) {
    const file = specRecordFile(runDir, w.experimentId);
    const recorded = await readRecord(file);
    if (!recorded) {
      fresh.push(w);
      if (await hasStageResultsUnder(runDir, experimentKeyPrefix(w.experimentId))) {
        warnings.push(`experiment ${w.experimentId} has stage results in ${stagesDir(runDir)} from a run that recorded no spec; they are reused as they are (their spec cannot be checked)`);
      }
    } else if (recorded.sha256 !== w.sha256) {
      const diff = specDifferences(recorded.spec, w.spec);
      conflicts.push(`  - ${w.experimentId} (first run from ${recorded.specFile}): ${diff.length ? diff.join(', ') : 'the recorded spec differs'}`);
    }
  }
  if (conflicts.length) {
    throw new Error(
      `--id ${studyId}: reused with a different spec; these experiments already ran under it, and their recorded stage results, datasets and checkpoints belong to the old spec:\n${conflicts.join('\n')}\n` +
        `expected the same spec to resume them, or a new --id for the changed spec (records: ${path.join(runDir, 'experiments', '<id>', 'spec.json')})`,
    );
  }
  for (const w of fresh) await writeFileAtomic(specRecordFile(runDir, w.experimentId), JSON.stringify(w, null, 2));
  return warnings;
}
