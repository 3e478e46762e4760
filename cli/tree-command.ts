import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import type { EpisodeTree } from '../core/tree';
import { ArtifactStore } from '../infra/artifact-store';
import { renderTreeHtml } from '../report/tree-html';
import type { EpisodeSummary } from '../contract/episode-summary';
import { addInspectionOptions, withInspection, type InspectionFlags } from './inspection-options';
import { renderTreeText, treeSummary } from './render-tree';

const EPISODE_TYPES = new Set(['episodeWorkflow', 'storedEpisodeWorkflow']);

/**
 * The tree of a finished episode: an `episodeWorkflow` (e.g. run by `leafe explore`) returns it;
 * a `storedEpisodeWorkflow` (experiments) returns a summary whose treeRef is in the artifact store.
 */
export async function loadEpisodeTree(client: Client, runDir: string, workflowId: string): Promise<EpisodeTree> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe().catch((err: unknown) => {
    throw new Error(`episode workflow id: ${JSON.stringify(workflowId)} is not a workflow on this server (${err instanceof Error ? err.message : String(err)}); expected an episode id such as <experimentId>/it0/explore/<taskId>`);
  });
  if (!EPISODE_TYPES.has(d.type)) throw new Error(`episode workflow id: ${JSON.stringify(workflowId)} is a ${d.type}; expected an episodeWorkflow or storedEpisodeWorkflow`);
  if (d.status.name !== 'COMPLETED') throw new Error(`episode ${workflowId} is ${d.status.name}; a tree needs it COMPLETED`);
  const result = (await handle.result()) as EpisodeTree | EpisodeSummary;
  if (!('treeRef' in result)) return result;
  const ref = result.treeRef;
  const store = ArtifactStore.forRunDir(runDir);
  try {
    return JSON.parse(await store.getText(ref)) as EpisodeTree;
  } catch (err) {
    throw new Error(`episode ${workflowId}: treeRef ${ref} not readable in ${store.root} (${(err as Error).message}); expected the run directory the experiment ran with (--run-dir)`, { cause: err });
  }
}

export function defaultTreeHtmlPath(runDir: string, workflowId: string): string {
  return path.join(runDir, 'trees', `${workflowId.replace(/[^A-Za-z0-9._-]+/g, '_')}.html`);
}

export async function writeTreeHtml(tree: EpisodeTree, file: string): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, renderTreeHtml(tree), 'utf8');
  return file;
}

/** `leafe tree <episodeWorkflowId>`: the exploration tree as text and as a standalone HTML/SVG file. */
export function registerTreeCommand(program: Command): void {
  addInspectionOptions(
    program
      .command('tree')
      .description('render the exploration tree of an episode as text and as a standalone HTML/SVG file')
      .argument('<episodeWorkflowId>', 'episode workflow id (explore: explore-<time>/<task>; experiments: <experimentId>/it<n>/explore/<task>)')
      .option('--html <file>', 'where to write the HTML file (default: <runDir>/trees/<id>.html)')
      .option('--json', 'print the tree summary as JSON'),
  ).action(async (workflowId: string, opts: InspectionFlags & { html?: string; json?: boolean }) => {
    await withInspection(opts, async (ctx) => {
      const tree = await loadEpisodeTree(ctx.client, ctx.runDir, workflowId);
      const file = await writeTreeHtml(tree, path.resolve(opts.html ?? defaultTreeHtmlPath(ctx.runDir, workflowId)));
      process.stdout.write(opts.json ? `${JSON.stringify({ ...treeSummary(tree), html: file }, null, 2)}\n` : `${renderTreeText(tree)}\n\nhtml: ${file}\n`);
    });
  });
}
