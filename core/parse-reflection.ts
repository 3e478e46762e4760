/**
 * Lenient parsing of a reflection `{ "step": int, "experience": string }`. Servers that ignore
 * `response_format` wrap JSON in prose or code fences, or answer in words; anything that cannot
 * be read, or names a step outside 1..T, is reported as invalid (recorded, never thrown).
 */
export type ParsedReflection =
  | { valid: true; step: number; experience: string }
  | { valid: false; step: number | null; experience: string | null; error: string };

export function parseReflection(raw: string, trajectoryLength: number): ParsedReflection {
  const candidate = extractObject(raw);
  let step: number | null = null;
  let experience: string | null = null;
  if (candidate) {
    const stepValue = candidate.step ?? candidate.tau ?? candidate.Step;
    const expValue = candidate.experience ?? candidate.lesson ?? candidate.Experience;
    if (typeof stepValue === 'number') step = stepValue;
    else if (typeof stepValue === 'string' && /^\s*\d+\s*$/.test(stepValue)) step = Number(stepValue);
    if (typeof expValue === 'string') experience = expValue.trim();
  } else {
    const m = /step\W{0,3}(\d+)/i.exec(raw);
    if (m) step = Number(m[1]);
    const e = /experience\W{0,3}(.+)/i.exec(raw);
    if (e) experience = e[1].trim().replace(/^["']|["'},]+$/g, '');
  }
  if (step === null) return { valid: false, step, experience, error: `no step number found in the reflection: ${JSON.stringify(raw.slice(0, 200))}` };
  if (!Number.isInteger(step) || step < 1 || step > trajectoryLength) {
    return { valid: false, step, experience, error: `step ${step} is out of range; expected an integer between 1 and ${trajectoryLength}` };
  }
  if (!experience) return { valid: false, step, experience, error: 'the reflection has no experience text' };
  return { valid: true, step, experience };
}

function extractObject(raw: string): Record<string, unknown> | null {
  const attempts = [raw.trim()];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(raw);
  if (fenced) attempts.push(fenced[1].trim());
  const braces = /\{[\s\S]*\}/.exec(raw);
  if (braces) attempts.push(braces[0]);
  for (const text of attempts) {
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // try the next candidate
    }
  }
  return null;
}
