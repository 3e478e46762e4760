/**
 * Feedback text from a test run. Deterministic for a deterministic program: only test sources,
 * statuses and harness messages (already free of paths and addresses) go in, in plan order.
 */
import { codeTemplates as t, render } from './feedback-templates';
import type { TestOutcome, TestRun } from './run-tests';

export const DEFAULT_FEEDBACK_CHARS = 2000;
const TEST_SOURCE_CHARS = 160;

export function formatFeedback(run: TestRun, limits: { wallMs: number; cpuSeconds: number }, maxChars = DEFAULT_FEEDBACK_CHARS): string {
  const parts: string[] = [];
  if (run.load) {
    const l = run.load;
    if (l.kind === 'syntax') parts.push(render(t.syntaxError, { message: l.message }));
    else if (l.kind === 'missing') parts.push(l.message.replace(/^the program does not define a function named (.*)$/, (_, e: string) => render(t.missingFunction, { entryPoint: e })));
    else if (l.kind === 'timeout' || l.kind === 'cpu') parts.push(render(t.loadTimeout, { message: l.message }));
    else parts.push(render(t.loadError, { message: l.message }));
    parts.push(render(t.summary, { passed: 0, total: run.total }));
    return truncate(parts.join('\n'), maxChars);
  }
  if (run.passed === run.total && !run.killed) return render(t.allPassed, { total: run.total });
  parts.push(render(t.summary, { passed: run.passed, total: run.total }));
  if (run.killed) parts.push(render(t.killed, { reason: killReason(run, limits) }));
  const failed = run.tests.filter((x) => x.status !== 'pass');
  const lines = [t.failedHeader as string];
  for (const f of failed) lines.push(render(t.failedTest, { test: clip(f.source), reason: reason(f) }));
  // Drop whole failure lines from the end rather than cutting one in the middle.
  let body = [...parts, ...lines].join('\n');
  let shown = failed.length;
  while (body.length > maxChars && shown > 1) {
    shown--;
    body = [...parts, ...lines.slice(0, shown + 1), render(t.moreFailures, { count: failed.length - shown })].join('\n');
  }
  return truncate(body, maxChars);
}

function killReason(run: TestRun, limits: { wallMs: number; cpuSeconds: number }): string {
  const k = run.killed!;
  if (k.kind === 'wall') return render(t.killedWall, { seconds: limits.wallMs / 1000 });
  if (k.kind === 'signal') {
    if (k.signal === 'SIGXCPU') return render(t.killedCpu, { seconds: limits.cpuSeconds });
    return render(t.killedSignal, { signal: k.signal });
  }
  if (k.kind === 'unresponsive') return t.killedUnresponsive;
  return render(t.killedExit, { code: k.code });
}

function reason(f: TestOutcome): string {
  switch (f.status) {
    case 'fail':
      return f.message ? `${t.assertionFailed}: ${f.message}` : t.assertionFailed;
    case 'not-run':
      return t.notRun;
    default:
      return f.message;
  }
}

function clip(source: string): string {
  const one = source.replace(/\s*\n\s*/g, ' ').trim();
  return one.length <= TEST_SOURCE_CHARS ? one : one.slice(0, TEST_SOURCE_CHARS - 3) + '...';
}

function truncate(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const note = render(t.truncated, { more: 0 });
  const keep = Math.max(0, maxChars - note.length - 8);
  return text.slice(0, keep) + render(t.truncated, { more: text.length - keep });
}
