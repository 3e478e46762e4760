import { ApplicationFailure } from '@temporalio/activity';
import { PATH_OUTSIDE_RUN_DIR } from '../contract/failure-types';
import { insideRunDir } from '../infra/paths';

/** A workflow-given relative path inside the run directory; one that leaves it fails without retrying. */
export function runDirPath(runDir: string, relativePath: string): string {
  try {
    return insideRunDir(runDir, relativePath);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, PATH_OUTSIDE_RUN_DIR);
  }
}
