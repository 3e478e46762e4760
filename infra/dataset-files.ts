/** The files of an iteration's dataset directory (what trainers and `leafe trace` read). */
export const PROMPT_COMPLETION_FILE = 'train.prompt-completion.jsonl';
export const MESSAGES_FILE = 'train.messages.jsonl';
export const PROVENANCE_FILE = 'provenance.jsonl';
export const STATS_FILE = 'stats.json';
/**
 * `trl sft --dataset_name <dir>` calls datasets.load_dataset(<dir>), which loads every data file
 * of a directory into one split; the prompt-completion and messages files have different
 * columns, so TRL gets a directory of its own holding only `train.jsonl` (a hard link).
 */
export const TRL_DIR = 'trl';
/** LLaMA-Factory reads `<dataset_dir>/dataset_info.json`; this names the messages file `leafe_train`. */
export const LLAMAFACTORY_INFO_FILE = 'dataset_info.json';
export const LLAMAFACTORY_DATASET = 'leafe_train';
