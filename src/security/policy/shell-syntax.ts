/**
 * The little shell knowledge the command policy needs. This is deliberately NOT a shell parser: it over-splits
 * (quotes do not protect a metacharacter here), which can only make the policy refuse more, never less.
 */

/**
 * Characters and sequences that only mean something to a shell: command separators and pipes (`;` `&` `|`),
 * substitutions (`` ` `` `$(` `${`), redirections (`<` `>`) and line breaks. In argv mode they would reach the
 * program literally, which is never what a caller who writes them means, so they need `shell: true`.
 */
const SHELL_SYNTAX = /[;&|`<>\n\r]|\$[({]/;

/** In the one-string form without a shell, quotes and backslashes would need a shell to be understood too. */
const STRING_FORM_SYNTAX = /[;&|`<>\n\r'"\\]|\$[({]/;

export const hasShellSyntax = (text: string): boolean => SHELL_SYNTAX.test(text);

/** The first shell metacharacter in a text, for error messages (`newline` instead of a raw line break). */
export function firstShellSyntax(text: string, pattern: 'argv' | 'string' = 'argv'): string | undefined {
  const found = (pattern === 'argv' ? SHELL_SYNTAX : STRING_FORM_SYNTAX).exec(text)?.[0];
  if (found === '\n') return 'newline';
  if (found === '\r') return 'carriage return';
  return found;
}

/**
 * Every piece of a shell command that the shell may run as a command of its own: split at every separator,
 * pipe, substitution, grouping and redirection character, wherever it stands (quoted or not). A redirection
 * target becomes a piece of its own, so an allowlist has to allow it explicitly.
 */
export function shellSegments(command: string): string[] {
  return command
    .split(/\|\||&&|[;&|\n\r()`{}<>]|\$(?=[({])/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The text with the shell's cheapest disguises removed: quotes and backslashes (`r''m`, `r\m`, `"rm"`) and
 * `$IFS` used as a space. Only for deny matching; a deny list stays advisory (`$(printf rm)` still passes it).
 */
export function undisguised(command: string): string {
  return command.replace(/\$\{?IFS\}?/g, ' ').replace(/['"\\]/g, '');
}

/**
 * One argv element as policy text: as is, unless it is empty or holds whitespace or quotes; then POSIX
 * single-quoted, so `['ls', '-l x']` is the text `ls '-l x'` and cannot pass for `ls -l x`.
 */
export function quoteArg(arg: string): string {
  if (arg !== '' && !/[\s'"\\]/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
