/**
 * Serializable environment settings, as they appear in specs and workflow inputs. Pure types: the
 * one definition; spec/experiment-spec-schema.ts validates exactly this shape (a compile-time check).
 */
export interface SandboxLimits {
  /** Wall-clock limit per program run, ms. */
  wallMs?: number;
  /** CPU time limit per program run, seconds. */
  cpuSeconds?: number;
  /** Address-space limit, MiB. */
  memoryMb?: number;
  /** Bytes of stdout+stderr kept; the rest is discarded. */
  outputBytes?: number;
}

export interface CodeEnvSpec {
  kind: 'code';
  /** JSONL or JSONL.gz file in HumanEval or MBPP format. */
  tasks: string;
  sandbox?: SandboxLimits;
}

export interface SokobanEnvSpec {
  kind: 'sokoban';
  /** XSB/Boxoban level file; when absent, levels are generated. */
  levels?: string;
  /** Generated levels: how many, their size and box count, and the generator seed. */
  count?: number;
  width?: number;
  height?: number;
  boxes?: number;
  seed?: number;
}

export interface HttpEnvSpec {
  kind: 'http';
  /** AgentGym environment server, e.g. http://127.0.0.1:36001 */
  baseUrl: string;
  /** AgentGym environment name (alfworld, sciworld, webshop, textcraft, babyai...). */
  env: string;
  /** Task ids (AgentGym "data_idx"/"idx" values); default: 0..count-1. */
  taskIds?: number[];
  count?: number;
}

export type EnvSpec = CodeEnvSpec | SokobanEnvSpec | HttpEnvSpec;
