/**
 * Text that travels through workflow history. Short texts are inline; long ones live in the
 * artifact store and only their hash, size and a preview go through history (Temporal payloads
 * are capped at 2 MB and histories at 50 MB). Pure: safe to import from workflows.
 */
export type Text =
  | { inline: string }
  | { ref: string; bytes: number; preview: string };

export function isRef(t: Text): t is { ref: string; bytes: number; preview: string } {
  return 'ref' in t;
}

/** The preview of a text: the text itself when inline. */
export function previewOf(t: Text): string {
  return isRef(t) ? t.preview : t.inline;
}
