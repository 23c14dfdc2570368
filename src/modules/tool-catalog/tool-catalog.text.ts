import type { ToolSearchDto } from './dto/tool-catalog.dto.js';

/** One line per hit: what a model reads to pick a tool. */
export const searchText = (r: ToolSearchDto): string =>
  r.tools.length === 0
    ? 'No tool matches; try other words, or search_tools with a toolset and no query.'
    : [
        `${r.total} tool${r.total === 1 ? '' : 's'} match${r.total === 1 ? 'es' : ''}${r.total > r.tools.length ? ` (first ${r.tools.length})` : ''}:`,
        ...r.tools.map((t) => `- ${t.name} [${t.toolset}, ${t.risk}]: ${t.title}. ${t.description}`),
      ].join('\n');
