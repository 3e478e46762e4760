// Placeholder: the code-environment helper replaces this file (see its prompt).
export interface CodeTask {
  id: string;
  /** What the agent is shown: the problem statement (HumanEval prompt / MBPP text + signature hint). */
  statement: string;
  /** A complete reference program that passes the tests, when the data set has one. */
  reference?: string;
  /** Function name tested, when known. */
  entryPoint?: string;
}

export async function loadCodeTasks(_file: string): Promise<CodeTask[]> {
  throw new Error('not implemented yet');
}
