import type { Trajectory } from '../../core/trajectory';
import type { ArtifactStore } from '../../infra/artifact-store';

/** A session's trajectory (core/trajectory.ts) as one content-addressed blob in the artifact store. */
export async function saveTrajectory(store: ArtifactStore, t: Trajectory): Promise<string> {
  return store.put(JSON.stringify(t));
}

export async function loadTrajectory(store: ArtifactStore, ref: string): Promise<Trajectory> {
  return JSON.parse(await store.getText(ref)) as Trajectory;
}
