import { fill } from './templates';

/** Chat messages in the OpenAI format. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TrajectoryStep {
  action: string;
  observation: string;
  feedback: string;
}

/** Everything the agent's prompt at the next step is built from (resolved texts). */
export interface AgentContext {
  taskId: string;
  instructions: string;
  initialObservation: string;
  /** Steps taken so far, in order (replayed prefix included). */
  steps: TrajectoryStep[];
  /** Experience note from a reflection; appended to the last user message when present. */
  experience?: string | null;
}

/**
 * The agent prompt h_t: system instructions, the task, then one assistant/user pair per step.
 * The same function renders h_τ for distillation (with experience = null), so the training
 * context is exactly what the model saw minus the experience note.
 */
export function renderAgentMessages(ctx: AgentContext): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: 'system', content: fill('agentSystem', { instructions: ctx.instructions }) },
    { role: 'user', content: fill('taskMessage', { taskId: ctx.taskId, observation: ctx.initialObservation }) },
  ];
  for (const step of ctx.steps) {
    messages.push({ role: 'assistant', content: step.action });
    messages.push({ role: 'user', content: fill('stepMessage', { feedback: step.feedback, observation: step.observation }) });
  }
  if (ctx.experience) {
    const last = messages[messages.length - 1];
    last.content += fill('experienceNote', { experience: ctx.experience });
  }
  return messages;
}

export function renderReflectionMessages(ctx: AgentContext): ChatMessage[] {
  const trajectory = ctx.steps
    .map((s, i) => fill('reflectionStep', { n: i + 1, action: s.action, feedback: s.feedback }))
    .join('\n');
  return [
    { role: 'system', content: fill('reflectionSystem', { steps: ctx.steps.length }) },
    { role: 'user', content: fill('reflectionUser', { taskId: ctx.taskId, observation: ctx.initialObservation, trajectory }) },
  ];
}
