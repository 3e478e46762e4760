import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTE_KEYS } from '../contract/search-attribute-keys';

/** The `temporal` CLI's names of the attribute types leafe uses. */
const CLI_TYPE_NAMES: Partial<Record<SearchAttributeType, string>> = { [SearchAttributeType.KEYWORD]: 'Keyword', [SearchAttributeType.INT]: 'Int' };

/** The project's search attributes as the CLI registers them (name → type), from the workflows' keys. */
export const SEARCH_ATTRIBUTES: Record<string, string> = Object.fromEntries(
  SEARCH_ATTRIBUTE_KEYS.map((key) => {
    const type = CLI_TYPE_NAMES[key.type];
    if (!type) throw new Error(`search attribute ${key.name}: type ${key.type} has no CLI name here; expected one of ${Object.keys(CLI_TYPE_NAMES).join(', ')}`);
    return [key.name, type];
  }),
);
