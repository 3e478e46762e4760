/**
 * Every text the model or the user reads, in one place. `{{name}}` placeholders are filled by
 * `fill`; the environments keep their own texts and fill them with `fillTemplate`, the one
 * placeholder filler. Changing a template changes prompts (and so simulator and model
 * behaviour): keep the markers the simulator relies on (TASK_MARKER, EXPERIENCE_MARKER) stable.
 */
export const TASK_MARKER = 'Task id:';
export const EXPERIENCE_MARKER = 'Lesson from an earlier attempt:';

export const templates = {
  agentSystem: `You are an agent solving a task step by step in an environment.
{{instructions}}
Reply with exactly one action.`,

  taskMessage: `${TASK_MARKER} {{taskId}}

{{observation}}`,

  stepMessage: `Feedback: {{feedback}}

{{observation}}`,

  experienceNote: `

${EXPERIENCE_MARKER} {{experience}}`,

  reflectionSystem: `You review an agent's trajectory in an environment and find where it went wrong.
Answer with JSON only: {"step": <integer>, "experience": "<short lesson>"}.
"step" is the 1-based number of the first step whose action was a mistake (between 1 and {{steps}}).
"experience" is one or two sentences the agent should remember when it retries from that step.`,

  reflectionUser: `${TASK_MARKER} {{taskId}}

Initial observation:
{{observation}}

Trajectory:
{{trajectory}}

Which step went wrong first, and what should the agent do differently there?`,

  reflectionStep: `--- Step {{n}} ---
Action:
{{action}}
Feedback:
{{feedback}}`,
} as const;

export type TemplateName = keyof typeof templates;

export type TemplateVars = Record<string, string | number>;

/**
 * Replaces every `{{name}}` in `text` with `vars[name]`, in one pass (values are not scanned for
 * placeholders). A placeholder without a value is a bug: it throws, naming `what` and the key.
 */
export function fillTemplate(text: string, vars: TemplateVars, what = 'template'): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!Object.hasOwn(vars, key)) throw new Error(`${what}: missing value for {{${key}}}`);
    return String(vars[key]);
  });
}

export function fill(name: TemplateName, vars: TemplateVars): string {
  return fillTemplate(templates[name], vars, `template '${name}'`);
}
