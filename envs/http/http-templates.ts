/**
 * Texts the model reads from the http (AgentGym) environment adapter. Kept apart from
 * core/templates.ts so the adapter's texts stay with it; `{{name}}` placeholders are filled
 * by core's `fillTemplate`.
 */
export const httpTemplates = {
  /** Default agent instructions; per-env hints below are appended. */
  instructions: `Reply with exactly one action, as plain text, with no explanation. When the observation lists available actions, reply with one of them verbatim.`,

  envHints: {
    textcraft: `Actions look like "get 1 oak log", "craft 4 oak planks using 1 oak log" or "inventory". Use only the crafting commands given in the task.`,
    babyai: `Actions look like "turn left", "turn right", "move forward", "go to red ball 1", "pick up key 1", "toggle".`,
    alfworld: `Actions look like "go to countertop 1", "take apple 1 from countertop 1", "put apple 1 in/on fridge 1", "open fridge 1", "heat egg 1 with microwave 1", "look", "inventory".`,
    sciworld: `Actions look like "look around", "open door to kitchen", "go to kitchen", "pick up thermometer", "focus on substance", "wait".`,
    webshop: `Actions are "search[keywords]" when a search bar is shown, or "click[value]" where value is one of the clickables listed.`,
  } as Record<string, string>,

  /** Appended to an observation when the server lists the actions that are possible now. */
  availableActions: `

Available actions:
{{actions}}`,

  /** Feedback when the agent acts after the episode ended; answered without asking the server. */
  afterDone: `The episode is already over ({{outcome}}); the action "{{action}}" was not executed.`,
  outcomeSuccess: 'the task was solved',
  outcomeFailure: 'the task was not solved',
} as const;
