/**
 * Feedback text from a test run. Deterministic for a deterministic program: only test sources,
 * statuses and harness messages (already free of paths and addresses) go in, in plan order.
 */
import { fillTemplate } from '../../core/templates';
import { codeTemplates as t } from './feedback-templates';
import type { TestOutcome, TestRun } from './run-tests';

export const DEFAULT_FEEDBACK_CHARS = 2000;
const TEST_SOURCE_CHARS = 160;

export function formatFeedback(run: TestRun, limits: { wallMs: number; cpuSeconds: number }, maxChars = DEFAULT_FEEDBACK_CHARS): string {
  const parts: string[] = [];
  if (run.load) {
    const l = run.load;
    if (l.kind === 'syntax') parts.push(fillTemplate(t.syntaxError, { message: l.message }));
    else if (l.kind === 'missing') parts.push(l.message.replace(/^the program does not define a function named (.*)$/, (_, e: string) => fillTemplate(t.missingFunction, { entryPoint: e })));
    else if (l.kind === 'timeout' || l.kind === 'cpu') parts.push(fillTemplate(t.loadTimeout, { message: l.message }));
    else parts.push(fillTemplate(t.loadError, { message: l.message }));
    parts.push(fillTemplate(t.summary, { passed: 0, total: run.total }));
    return truncate(parts.join('\n'), maxChars);
  }
  if (run.passed === run.total && !run.killed) return fillTemplate(t.allPassed, { total: run.total });
  parts.push(fillTemplate(t.summary, { passed: run.passed, total: run.total }));
  if (run.killed) parts.push(fillTemplate(t.killed, { reason: killReason(run, limits) }));
  const failed = run.tests.filter((x) => x.status !== 'pass');
  const lines = [t.failedHeader as string];
  for (const f of failed) lines.push(fillTemplate(t.failedTest, { test: clip(f.source), reason: reason(f) }));
  // Drop whole failure lines from the end rather than cutting one in the middle.
  let body = [...parts, ...lines].join('\n');
  let shown = failed.length;
  while (body.length > maxChars && shown > 1) {
    shown--;
    body = [...parts, ...lines.slice(0, shown + 1), fillTemplate(t.moreFailures, { count: failed.length - shown })].join('\n');
  }
  return truncate(body, maxChars);
}

function killReason(run: TestRun, limits: { wallMs: number; cpuSeconds: number }): string {
  const k = run.killed!;
  if (k.kind === 'wall') return fillTemplate(t.killedWall, { seconds: limits.wallMs / 1000 });
  if (k.kind === 'signal') {
    if (k.signal === 'SIGXCPU') return fillTemplate(t.killedCpu, { seconds: limits.cpuSeconds });
    return fillTemplate(t.killedSignal, { signal: k.signal });
  }
  if (k.kind === 'unresponsive') return t.killedUnresponsive;
  return fillTemplate(t.killedExit, { code: k.code });
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
  const note = fillTemplate(t.truncated, { more: 0 });
  const keep = Math.max(0, maxChars - note.length - 8);
  return text.slice(0, keep) + fillTemplate(t.truncated, { more: text.length - keep });
}
