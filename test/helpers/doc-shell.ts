import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// The docs' fenced blocks, found by their `<!-- snippet: NAME -->` marker, and a small interpreter of the shell
// subset their curl blocks use. Shared by the docs-snippets suite and the demo suite (which runs a walk-through
// against the real demo process).

export interface Snippet {
  name: string;
  lang: string;
  body: string;
}

export function readSnippets(file: string): Map<string, Snippet> {
  const text = readFileSync(file, 'utf8');
  const found = new Map<string, Snippet>();
  const marker = /<!-- snippet: ([\w-]+) -->\s*\n```(\w+)\n([\s\S]*?)\n```/g;
  for (const m of text.matchAll(marker)) {
    assert.ok(!found.has(m[1]), `${file}: snippet ${m[1]} appears twice`);
    found.set(m[1], { name: m[1], lang: m[2], body: m[3] });
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------------
// The shell subset of the curl blocks: `NAME=value`, `NAME=$(curl … | jq -r PATH)`, `curl -s [-X M] [-H h]… [-d
// body] URL`; single quotes, double quotes with $NAME / ${NAME}, adjacent quoted parts, `\` line continuations and
// `#` comment lines. Variables the test presets (PMP, KEY, OPERATOR_KEY) win over the snippet's own assignments,
// which only show the reader what to set.

export interface CurlResult {
  command: string;
  status: number;
  body: string;
  json?: any;
}

function shellWords(line: string, vars: Record<string, string>): string[] {
  const words: string[] = [];
  let word: string | null = null;
  const expand = (s: string) =>
    s.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => {
      assert.ok(name in vars, `snippet uses $${name} before setting it`);
      return vars[name];
    });
  for (let i = 0; i < line.length;) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      assert.ok(end > 0, `unterminated ' in: ${line}`);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      assert.ok(end > 0, `unterminated " in: ${line}`);
      word = (word ?? '') + expand(line.slice(i + 1, end));
      i = end + 1;
    } else {
      let j = i;
      while (j < line.length && !' \t\'"'.includes(line[j])) j++;
      word = (word ?? '') + expand(line.slice(i, j));
      i = j;
    }
  }
  if (word !== null) words.push(word);
  return words;
}

async function runCurl(line: string, vars: Record<string, string>): Promise<CurlResult> {
  const words = shellWords(line, vars);
  assert.equal(words.shift(), 'curl', line);
  let method: string | undefined;
  let body: string | undefined;
  let url: string | undefined;
  const headers: Record<string, string> = {};
  while (words.length) {
    const word = words.shift()!;
    if (word === '-s') continue;
    if (word === '-X') method = words.shift();
    else if (word === '-H') {
      const header = words.shift()!;
      const colon = header.indexOf(':');
      headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
    } else if (word === '-d') body = words.shift();
    else if (word.startsWith('-'))
      throw new Error(`curl option ${word} is outside the subset this test runs`);
    else {
      assert.equal(url, undefined, `one URL per curl: ${line}`);
      url = word;
    }
  }
  assert.ok(url, `no URL in: ${line}`);
  const res = await fetch(url, { method: method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined; // event streams and empty bodies
  }
  return { command: line, status: res.status, body: text, json };
}

/** `jq -r` for the paths the docs use: .a.b, .a[0].b; a missing value prints "null", as jq does. */
function jqPath(value: any, path: string): string {
  assert.match(path, /^(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])?)+$/, `jq path outside the subset: ${path}`);
  let current = value;
  for (const m of path.matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?/g)) {
    current = current?.[m[1]];
    if (m[2] !== undefined) current = current?.[Number(m[2])];
  }
  return current === undefined || current === null ? 'null' : String(current);
}

/** Runs a curl block; returns every curl's result, in order, and the variables. Captured values must not be null. */
export async function runShell(
  block: string,
  preset: Record<string, string>,
): Promise<{ runs: CurlResult[]; vars: Record<string, string> }> {
  const vars = { ...preset };
  const results: CurlResult[] = [];
  const lines = block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of lines) {
    const capture = /^([A-Za-z_]\w*)=\$\((curl .*) \| jq -r (\S+)\)$/.exec(line);
    const assignment = /^([A-Za-z_]\w*)=(.*)$/.exec(line);
    if (capture) {
      const result = await runCurl(capture[2], vars);
      results.push(result);
      const value = jqPath(result.json, capture[3].replace(/^'(.*)'$/, '$1'));
      assert.notEqual(value, 'null', `${capture[1]}: ${capture[3]} of ${result.status} ${result.body}`);
      vars[capture[1]] = value;
    } else if (assignment) {
      if (!(assignment[1] in preset)) vars[assignment[1]] = shellWords(assignment[2], vars).join(' ');
    } else if (line.startsWith('curl ')) {
      results.push(await runCurl(line, vars));
    } else {
      throw new Error(`line outside the shell subset this test runs: ${line}`);
    }
  }
  return { runs: results, vars };
}
