/**
 * Every text of the code environment the model reads; `{{name}}` placeholders are filled by
 * core's `fillTemplate`. Feedback must be deterministic:
 * never put durations, pids or temp paths here.
 */
export const codeTemplates = {
  instructions: `An action is a complete Python 3 program in a single \`\`\`python code block.
The program must define the requested function with the exact name and signature from the task, plus any helpers and imports it needs.
Do not read input or print anything: the function is called by hidden tests, and you get back which tests failed and why.`,

  summary: '{{passed}}/{{total}} tests passed.',
  allPassed: 'All {{total}} tests passed.',
  syntaxError: 'The program does not compile: {{message}}',
  loadError: 'The program raised an error while being loaded (before any test ran): {{message}}',
  loadTimeout: 'The program did not finish loading (before any test ran): {{message}}. Do not run long computations or read input at top level.',
  missingFunction: 'The program does not define the function `{{entryPoint}}` that the tests call.',
  noProgram: 'The answer contains no program.',
  failedHeader: 'Failed tests:',
  failedTest: '- `{{test}}`: {{reason}}',
  assertionFailed: 'assertion failed',
  killed: 'The program was killed ({{reason}}) before all tests ran; tests not run count as failed.',
  killedWall: 'wall-clock limit of {{seconds}} s exceeded',
  killedCpu: 'CPU time limit of {{seconds}} s exceeded',
  killedSignal: 'terminated by {{signal}}',
  killedExit: 'it exited with code {{code}}',
  killedUnresponsive: 'a test ran past its time limit and could not be interrupted',
  notRun: 'not run: the program was killed',
  truncated: '... ({{more}} more characters of feedback omitted)',
  moreFailures: '- ... and {{count}} more failed tests',
} as const;
