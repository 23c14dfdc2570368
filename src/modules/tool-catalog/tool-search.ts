/**
 * The ranking behind search_tools: simple, deterministic and explainable, with no model and no library. A query
 * is cut into words (lower case, a light plural stem, a few synonyms such as lxc → container); each word scores
 * where it best matches a tool: in its name (8), title (4), argument names or toolset (2), or description (1). A whole-word
 * match counts fully, a prefix of a word (3+ letters) half. A tool that matches every word of the query gets a
 * bonus of 3, and one whose name is the query itself 20. Ties sort by name. Each hit says which word matched where.
 */

export interface SearchableTool {
  name: string;
  title: string;
  description: string;
  /** Argument names (input schema properties). */
  args: readonly string[];
  /** Its toolset's name and description (src/common/tools/toolsets.ts), e.g. `ha High availability`. */
  toolset?: string;
}

export interface ToolHit {
  name: string;
  score: number;
  /** `word:field` for each query word that matched, e.g. `snapshot:name`, `rollback:description`. */
  matched: string[];
}

export const FIELD_WEIGHTS = { name: 8, title: 4, argument: 2, toolset: 2, description: 1 } as const;
type Field = keyof typeof FIELD_WEIGHTS;

const ALL_WORDS_BONUS = 3;
const EXACT_NAME_BONUS = 20;

const STOPWORDS = new Set(
  'a an and are as at be by do for from how i in is it me my of on or the this to what which with'.split(' '),
);

/** A few words models use for what the tools call otherwise. */
const SYNONYMS: Record<string, string> = {
  lxc: 'container',
  ct: 'container',
  qemu: 'vm',
  kvm: 'vm',
  machine: 'vm',
  remove: 'delete',
  erase: 'delete',
  boot: 'start',
  poweroff: 'stop',
  halt: 'stop',
  restart: 'reboot',
  checkpoint: 'snapshot',
};

/** Plural and a few verb endings off, so `snapshots` finds `snapshot` and `vms` finds `vm`. */
export function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && word.endsWith('sses')) return word.slice(0, -2);
  if (word.length > 2 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us'))
    return word.slice(0, -1);
  return word;
}

/** The words of a text as the ranking compares them. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w && !STOPWORDS.has(w))
    .map((w) => stem(SYNONYMS[w] ?? w));
}

/** How well one query word matches one field's words: 1 whole word, 0.5 a prefix (3+ letters), else 0. */
function matchOf(word: string, fieldWords: readonly string[]): number {
  if (fieldWords.includes(word)) return 1;
  if (word.length >= 3 && fieldWords.some((w) => w.startsWith(word))) return 0.5;
  return 0;
}

/** The tools matching `query`, best first; an empty query (no words) matches nothing. */
export function rankTools(query: string, tools: readonly SearchableTool[]): ToolHit[] {
  const queryWords = [...new Set(words(query))];
  if (!queryWords.length) return [];
  const normalisedQuery = query
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  const hits: ToolHit[] = [];
  for (const tool of tools) {
    const fields: Record<Field, string[]> = {
      name: words(tool.name),
      title: words(tool.title),
      argument: tool.args.flatMap(words),
      toolset: words(tool.toolset ?? ''),
      description: words(tool.description),
    };
    let score = 0;
    const matched: string[] = [];
    for (const word of queryWords) {
      let best = 0;
      let where: Field | undefined;
      for (const field of Object.keys(FIELD_WEIGHTS) as Field[]) {
        const value = FIELD_WEIGHTS[field] * matchOf(word, fields[field]);
        if (value > best) [best, where] = [value, field];
      }
      if (where) {
        score += best;
        matched.push(`${word}:${where}`);
      }
    }
    if (!matched.length) continue;
    if (matched.length === queryWords.length) score += ALL_WORDS_BONUS;
    if (tool.name === normalisedQuery) score += EXACT_NAME_BONUS;
    hits.push({ name: tool.name, score, matched });
  }
  return hits.sort((a, b) => b.score - a.score || a.name.localeCompare(b.name));
}
