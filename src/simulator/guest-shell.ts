/**
 * A minimal POSIX shell for the simulated guest OS (`sh -c '…'`, `bash -c '…'`): `;`, `&&`, `||`, `|`, quotes,
 * `$VAR`, `2>&1`, `>/dev/null`. The commands it runs come from the OS (guest-os.ts); an unknown one exits 127.
 */

export interface RunResult {
  stdout: Buffer;
  stderr: Buffer;
  code: number;
  /** How long it runs. */
  ms: number;
  /** Never exits (`sleep infinity`, a lone `yes`). */
  forever?: boolean;
  /** `exit N` in a shell: stop the script. */
  exit?: boolean;
}

export type Program = (args: string[], stdin: Buffer, env: ShellEnv) => RunResult;

export interface ShellEnv {
  vars: Record<string, string>;
  lastCode: number;
  /** Where output goes when it has no downstream reader (so `yes` knows whether to stop). */
  piped: boolean;
  shell: 'sh' | 'bash';
}

export const ok = (text = '', ms = 0): RunResult => ({
  stdout: Buffer.from(text, 'utf8'),
  stderr: Buffer.alloc(0),
  code: 0,
  ms,
});
export const fail = (code: number, err: string, out = ''): RunResult => ({
  stdout: Buffer.from(out, 'utf8'),
  stderr: Buffer.from(err, 'utf8'),
  code,
  ms: 0,
});

/** The commands a script can run: the guest OS's builtins and programs. */
export interface ShellCommands {
  runInShell(words: string[], stdin: Buffer, env: ShellEnv): RunResult;
}

type Token = { op: string } | { word: string; quoted: boolean };

/** Splits a script into words and operators, honouring quotes, backslashes and `$VAR` expansion. */
function tokenize(script: string, env: ShellEnv): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const expand = (): string => {
    // at '$'
    i++;
    if (script[i] === '?') {
      i++;
      return String(env.lastCode);
    }
    let name = '';
    if (script[i] === '{') {
      const end = script.indexOf('}', i);
      name = script.slice(i + 1, end < 0 ? script.length : end);
      i = end < 0 ? script.length : end + 1;
    } else {
      while (i < script.length && /[A-Za-z0-9_]/.test(script[i])) name += script[i++];
      if (!name) return '$';
    }
    return env.vars[name] ?? '';
  };
  while (i < script.length) {
    const c = script[i];
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '\n' || c === ';') {
      tokens.push({ op: ';' });
      i++;
      continue;
    }
    if (c === '#') {
      while (i < script.length && script[i] !== '\n') i++;
      continue;
    }
    const two = script.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      tokens.push({ op: two });
      i += 2;
      continue;
    }
    if (c === '|' || c === '&') {
      tokens.push({ op: c === '&' ? ';' : '|' });
      i++;
      continue;
    }
    const redirect = /^(?:[12]?>&[12]|[12]?>>?\s*\S+|<\s*\S+)/.exec(script.slice(i));
    if (redirect && (c === '>' || c === '<' || /^[12]>/.test(script.slice(i)))) {
      tokens.push({ op: `redir:${redirect[0].replace(/\s+/g, '')}` });
      i += redirect[0].length;
      continue;
    }
    let word = '';
    let quoted = false;
    while (i < script.length && !/[\s;&|]/.test(script[i])) {
      const ch = script[i];
      if (ch === "'") {
        quoted = true;
        const end = script.indexOf("'", i + 1);
        word += script.slice(i + 1, end < 0 ? script.length : end);
        i = end < 0 ? script.length : end + 1;
      } else if (ch === '"') {
        quoted = true;
        i++;
        while (i < script.length && script[i] !== '"') {
          if (script[i] === '\\' && /["\\$`]/.test(script[i + 1] ?? '')) {
            word += script[i + 1];
            i += 2;
          } else if (script[i] === '$') word += expand();
          else word += script[i++];
        }
        i++;
      } else if (ch === '\\') {
        word += script[i + 1] ?? '';
        i += 2;
      } else if (ch === '$') {
        word += expand();
      } else if (ch === '>' || ch === '<') {
        break;
      } else {
        word += ch;
        i++;
      }
    }
    if (word || quoted) tokens.push({ word, quoted });
  }
  return tokens;
}

export function runScript(script: string, env: ShellEnv, os: ShellCommands): RunResult {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let ms = 0;
  let code = 0;
  // statements separated by ; and chained by && / ||; variable expansion needs $? of the previous statement,
  // so the script is tokenized statement by statement
  const statements = splitStatements(script);
  for (const statement of statements) {
    const skip = (statement.op === '&&' && code !== 0) || (statement.op === '||' && code === 0);
    if (skip) continue;
    env.lastCode = code;
    const pipeline = tokenize(statement.text, env);
    const r = runPipeline(pipeline, env, os);
    out.push(r.stdout);
    err.push(r.stderr);
    ms += r.ms;
    code = r.code;
    if (r.forever) return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, ms, forever: true };
    if (r.exit) break;
  }
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), code, ms };
}

/** Splits at top-level `;`, `&&`, `||` (outside quotes), keeping the operator that leads into each part. */
function splitStatements(script: string): Array<{ op: string; text: string }> {
  const parts: Array<{ op: string; text: string }> = [];
  let op = ';';
  let current = '';
  let quote: string | undefined;
  for (let i = 0; i < script.length; i++) {
    const c = script[i];
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"') current += script[i++];
      current += c;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    const two = script.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      parts.push({ op, text: current });
      op = two;
      current = '';
      i++;
      continue;
    }
    if (c === ';' || c === '\n' || (c === '&' && script[i + 1] !== '>' && script[i - 1] !== '>')) {
      parts.push({ op, text: current });
      op = ';';
      current = '';
      continue;
    }
    current += c;
  }
  parts.push({ op, text: current });
  return parts.filter((p) => p.text.trim());
}

/** Stages run side by side (the pipeline takes as long as its slowest stage); stdout feeds the next stdin. */
function runPipeline(tokens: Token[], env: ShellEnv, os: ShellCommands): RunResult {
  const stages: Token[][] = [[]];
  for (const t of tokens) {
    if ('op' in t && t.op === '|') stages.push([]);
    else stages[stages.length - 1].push(t);
  }
  let stdin: Buffer = Buffer.alloc(0);
  const errors: Buffer[] = [];
  let ms = 0;
  let last: RunResult = ok();
  for (const [index, stage] of stages.entries()) {
    const words = stage.filter((t): t is { word: string; quoted: boolean } => 'word' in t).map((t) => t.word);
    const redirects = stage
      .filter((t): t is { op: string } => 'op' in t && t.op.startsWith('redir:'))
      .map((t) => t.op.slice('redir:'.length));
    if (!words.length) continue;
    const r = os.runInShell(words, stdin, { ...env, piped: index < stages.length - 1 });
    let { stdout, stderr } = r;
    for (const redirect of redirects) {
      if (redirect === '2>&1') {
        stdout = Buffer.concat([stdout, stderr]);
        stderr = Buffer.alloc(0);
      } else if (redirect === '>&2' || redirect === '1>&2') {
        stderr = Buffer.concat([stderr, stdout]);
        stdout = Buffer.alloc(0);
      } else if (/^1?>>?\/dev\/null$/.test(redirect)) {
        stdout = Buffer.alloc(0);
      } else if (/^2>>?\/dev\/null$/.test(redirect)) {
        stderr = Buffer.alloc(0);
      }
    }
    errors.push(stderr);
    ms = Math.max(ms, r.ms);
    stdin = stdout;
    last = { ...r, stdout, stderr };
    if (r.exit) break;
  }
  return { ...last, stderr: Buffer.concat(errors), ms };
}
