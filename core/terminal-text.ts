/**
 * Text from a model or an environment, made safe to print on a terminal: escape sequences (CSI,
 * OSC, and the rest) and control characters other than tab and newline are removed, so a
 * program's output cannot clear the operator's screen, recolour it, set the window title or
 * move the cursor over earlier lines.
 */
// eslint-disable-next-line no-control-regex
const ESCAPE_SEQUENCES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?|\x9b[0-?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function terminalSafe(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, '').replace(CONTROL_CHARACTERS, '');
}
