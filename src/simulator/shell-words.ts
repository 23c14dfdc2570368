/** Why a command line could not be split without a shell acting on it. */
export type ShellSyntax =
  | { kind: 'unterminated'; quote: "'" | '"' }
  | { kind: 'trailing-backslash' }
  /** `$` or a backtick inside double quotes: a shell would expand it. */
  | { kind: 'expansion-in-quotes'; char: string }
  /** An unquoted character of the caller's `refuse` set, at index `at` of the line. */
  | { kind: 'unquoted'; char: string; at: number };

/**
 * Splits a command line the way sh does for the quoting our client writes ('…', "…", \x). An unquoted character of
 * `refuse` is what a shell would act on, so it ends the split with a ShellSyntax instead of being taken literally;
 * `#` counts only at the start of a word (elsewhere a shell keeps it), as it does in sh. Used by the simulator's
 * SSH endpoint and by the tests' fake SSH node, which refuses more (globs, braces, `~`, comments).
 */
export function splitShellWords(line: string, refuse: string): string[] | ShellSyntax {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return { kind: 'unterminated', quote: "'" };
      word = (word ?? '') + line.slice(i + 1, close);
      i = close;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '$' || line[j] === '`') return { kind: 'expansion-in-quotes', char: line[j] };
        if (line[j] === '\\' && j + 1 < line.length && '$`"\\\n'.includes(line[j + 1])) j++;
        text += line[j];
      }
      if (j >= line.length) return { kind: 'unterminated', quote: '"' };
      word = (word ?? '') + text;
      i = j;
    } else if (c === '\\') {
      if (i + 1 >= line.length) return { kind: 'trailing-backslash' };
      word = (word ?? '') + line[++i];
    } else if (refuse.includes(c) && !(c === '#' && word !== undefined)) {
      return { kind: 'unquoted', char: c, at: i };
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
