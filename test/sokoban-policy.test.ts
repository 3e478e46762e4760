import { describe, expect, it } from 'vitest';
import { type TrajectoryStep, renderAgentMessages, renderReflectionMessages } from '../core/prompts';
import { createRandom } from '../core/random';
import type { SimSkill } from '../contract/sim-skill';
import type { SimRequest } from '../sim/policy';
import { createSokobanPolicy } from '../sim/policies/sokoban-policy';
import { parseObservation } from '../envs/sokoban/sokoban-observation';
import { createSokobanProvider } from '../envs/sokoban/sokoban-provider';
import { SokobanEnvironment } from '../envs/sokoban/sokoban-environment';
import { parseAction } from '../envs/sokoban/sokoban-actions';
import { legalMoves } from '../envs/sokoban/sokoban-rules';
import { parseLevel } from '../envs/sokoban/sokoban-level';

const perfect: SimSkill = { firstTry: 1, fixWithFeedback: 1, fixWithExperience: 1, reflectionAccuracy: 1 };
const hopeless: SimSkill = { firstTry: 0, fixWithFeedback: 0, fixWithExperience: 0, reflectionAccuracy: 0 };

function request(messages: SimRequest['messages'], wantsReflection = false): SimRequest {
  return { model: 'sim', messages, seed: 0, temperature: 1, wantsReflection };
}

async function playEpisode(taskId: string, env: SokobanEnvironment | Awaited<ReturnType<ReturnType<typeof createSokobanProvider>['open']>>, skill: SimSkill, seed: number, horizon: number, instructions: string) {
  const policy = createSokobanPolicy();
  const initialObservation = await env.reset();
  const steps: TrajectoryStep[] = [];
  const rand = createRandom(seed);
  for (let t = 0; t < horizon; t++) {
    const messages = renderAgentMessages({ taskId, instructions, initialObservation, steps });
    const req = request(messages);
    expect(policy.handles(req)).toBe(true);
    const action = policy.act(req, skill, rand);
    const before = parseObservation(steps.length ? steps[steps.length - 1].observation : initialObservation);
    const dir = parseAction(action);
    expect(dir, action).not.toBeNull();
    const legal = legalMoves(before, before).map((m) => m.dir);
    if (legal.length > 0) expect(legal, `${action} in\n${steps.at(-1)?.observation ?? initialObservation}`).toContain(dir);
    const r = await env.step(action);
    steps.push({ action, observation: r.observation, feedback: r.feedback });
    if (r.done) return { steps, success: r.success, initialObservation };
  }
  return { steps, success: false, initialObservation };
}

describe('sokoban sim policy', () => {
  it('recognises Sokoban prompts only', () => {
    const policy = createSokobanPolicy();
    expect(policy.handles(request([{ role: 'user', content: 'Task id: humaneval/1\n\nWrite a function.' }]))).toBe(false);
  });

  it('with skill 1.0 solves generated levels and the example levels through the environment', async () => {
    const generated = createSokobanProvider({ kind: 'sokoban', count: 6, seed: 3 });
    const files = createSokobanProvider({ kind: 'sokoban', levels: 'examples/levels/leafe-small.txt' });
    for (const provider of [generated, files]) {
      for (const taskId of await provider.listTasks()) {
        const env = await provider.open(taskId, 0);
        const result = await playEpisode(taskId, env, perfect, 1, 80, provider.instructions());
        expect(result.success, `${taskId}: ${result.steps.map((s) => s.feedback).join('\n')}`).toBe(true);
      }
    }
  });

  it('with skill 0 still plays only legal moves, and usually fails', async () => {
    const provider = createSokobanProvider({ kind: 'sokoban', count: 5, seed: 9 });
    let successes = 0;
    for (const taskId of await provider.listTasks()) {
      const env = await provider.open(taskId, 0);
      const result = await playEpisode(taskId, env, hopeless, 7, 30, provider.instructions());
      if (result.success) successes++;
    }
    expect(successes).toBeLessThan(2);
  });

  it('uses fixWithFeedback after a reported mistake and fixWithExperience with a lesson', async () => {
    const level = parseLevel(['#######', '#@ $ .#', '#     #', '#######'].join('\n'));
    const env = new SokobanEnvironment(level);
    const initialObservation = await env.reset();
    const r = await env.step('up');
    expect(r.feedback).toMatch(/Nothing happened/);
    const steps: TrajectoryStep[] = [{ action: 'up', observation: r.observation, feedback: r.feedback }];
    const policy = createSokobanPolicy();
    const onlyFeedback: SimSkill = { ...hopeless, fixWithFeedback: 1 };
    const onlyExperience: SimSkill = { ...hopeless, fixWithExperience: 1 };
    const afterMistake = request(renderAgentMessages({ taskId: 't', instructions: '', initialObservation, steps }));
    const withLesson = request(renderAgentMessages({ taskId: 't', instructions: '', initialObservation, steps, experience: 'push right' }));
    for (let seed = 0; seed < 5; seed++) {
      expect(parseAction(policy.act(afterMistake, onlyFeedback, createRandom(seed)))).toBe('right');
      expect(parseAction(policy.act(afterMistake, onlyExperience, createRandom(seed)))).not.toBe('right');
      expect(parseAction(policy.act(withLesson, onlyExperience, createRandom(seed)))).toBe('right');
    }
  });

  it('is deterministic given the rand stream', async () => {
    const provider = createSokobanProvider({ kind: 'sokoban', count: 1, seed: 11 });
    const half: SimSkill = { firstTry: 0.5, fixWithFeedback: 0.5, fixWithExperience: 0.5, reflectionAccuracy: 0.5 };
    const a = await playEpisode('sokoban-11-0', await provider.open('sokoban-11-0', 0), half, 99, 20, provider.instructions());
    const b = await playEpisode('sokoban-11-0', await provider.open('sokoban-11-0', 0), half, 99, 20, provider.instructions());
    expect(b.steps).toEqual(a.steps);
  });

  it('reflection blames the push that caused the first deadlock and names the box', async () => {
    const level = parseLevel(['#######', '#     #', '# $@ .#', '#     #', '#######'].join('\n'));
    const env = new SokobanEnvironment(level);
    const initialObservation = await env.reset();
    const steps: TrajectoryStep[] = [];
    for (const action of ['up', 'Action: down', 'left']) {
      const r = await env.step(action);
      steps.push({ action, observation: r.observation, feedback: r.feedback });
    }
    expect(steps[2].feedback).toMatch(/Deadlock/);
    const messages = renderReflectionMessages({ taskId: 'demo#0', instructions: '', initialObservation, steps });
    const policy = createSokobanPolicy();
    expect(policy.handles(request(messages, true))).toBe(true);
    const good = policy.reflect(request(messages, true), perfect, createRandom(1));
    expect(good.step).toBe(3);
    expect(good.experience).toMatch(/Pushing the box from \(2, 2\) left to \(2, 1\) made it stuck \(a wall with no goal along it\)/);
    expect(good.experience).toMatch(/move (up|down|right) instead/);
    const bad = policy.reflect(request(messages, true), hopeless, createRandom(1));
    expect([1, 2]).toContain(bad.step);
    expect(bad.experience).toMatch(/Be more careful/);
  });

  it('reflection blames the first wasted move when nothing deadlocked', async () => {
    const level = parseLevel(['#######', '#@ $ .#', '#     #', '#######'].join('\n'));
    const env = new SokobanEnvironment(level);
    const initialObservation = await env.reset();
    const steps: TrajectoryStep[] = [];
    for (const action of ['right', 'down', 'up', 'right']) {
      const r = await env.step(action);
      steps.push({ action, observation: r.observation, feedback: r.feedback });
    }
    const messages = renderReflectionMessages({ taskId: 'demo#1', instructions: '', initialObservation, steps });
    const reflection = createSokobanPolicy().reflect(request(messages, true), perfect, createRandom(2));
    expect(reflection.step).toBe(2);
    expect(reflection.experience).toMatch(/Moving down at this point was a wasted move; moving right/);
  });
});
