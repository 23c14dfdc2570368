/**
 * A small JSON syntax checker for the config file. JSON.parse's own messages quote a piece of the input
 * ("Unexpected token 's', "{"token_value": s..." is not valid JSON"), which may be a secret, and some of them give
 * no position at all. This scanner reports line and column and a reason that never contains input text, and it
 * finds duplicate keys, which JSON.parse silently resolves to the last one (two `proxmox` sections after a paste).
 */
export interface JsonPosition {
  line: number;
  column: number;
}

export interface JsonSyntaxReport {
  /** The first syntax error, if any. */
  error?: JsonPosition & { reason: string };
  /** Every key that appears twice in the same object, as a dotted path. */
  duplicates: Array<JsonPosition & { path: string }>;
}

const MAX_DEPTH = 64;
const NUMBER_RE = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class SyntaxFailure extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function checkJsonSyntax(text: string): JsonSyntaxReport {
  const duplicates: JsonSyntaxReport['duplicates'] = [];
  let i = 0;

  const fail = (reason: string): never => {
    throw new SyntaxFailure(i, reason);
  };
  const skipWhitespace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expectChar = (c: string, what: string): void => {
    skipWhitespace();
    if (text[i] !== c) {
      fail(i >= text.length ? `unexpected end of file, expected ${what}` : `expected ${what}`);
    }
    i++;
  };

  const readString = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return JSON.parse(text.slice(start, i)) as string;
      }
      if (c < 0x20) fail('control character (e.g. a line break) inside a string; write it as \\n');
      if (c === 0x5c) {
        const next = text[i + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('invalid \\u escape in a string');
          i += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) {
          i += 2;
        } else {
          fail('invalid escape in a string (a Windows path needs \\\\ or /)');
        }
      } else {
        i++;
      }
    }
    i = start;
    return fail('string is not closed (missing ")');
  };

  const readValue = (path: string, depth: number): void => {
    skipWhitespace();
    if (depth > MAX_DEPTH) fail(`nested more than ${MAX_DEPTH} levels deep`);
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      skipWhitespace();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        skipWhitespace();
        if (text[i] !== '"') {
          fail(text[i] === '}' ? 'trailing comma before }' : 'expected a double-quoted key');
        }
        const keyOffset = i;
        const key = readString();
        const keyPath = path ? `${path}.${key}` : key;
        if (seen.has(key)) duplicates.push({ path: keyPath, ...positionOf(text, keyOffset) });
        seen.add(key);
        expectChar(':', "':' after the key");
        readValue(keyPath, depth + 1);
        skipWhitespace();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(
          i >= text.length ? 'unexpected end of file, expected , or }' : "expected ',' or '}' after a value",
        );
      }
    }
    if (c === '[') {
      i++;
      skipWhitespace();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (let index = 0; ; index++) {
        readValue(`${path}[${index}]`, depth + 1);
        skipWhitespace();
        if (text[i] === ',') {
          i++;
          skipWhitespace();
          if (text[i] === ']') fail('trailing comma before ]');
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(
          i >= text.length ? 'unexpected end of file, expected , or ]' : "expected ',' or ']' after a value",
        );
      }
    }
    if (c === '"') {
      readString();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (m) {
      i += m[0].length;
      return;
    }
    if (i >= text.length) fail('unexpected end of file, expected a value');
    if (c === "'") fail("strings must use double quotes, not '");
    if (c === '/') fail('comments are not allowed in JSON');
    fail('expected a value (a string in double quotes, a number, true, false, null, an object or an array)');
  };

  try {
    readValue('', 0);
    skipWhitespace();
    if (i < text.length) fail('unexpected text after the end of the JSON value');
    return { duplicates };
  } catch (error) {
    if (!(error instanceof SyntaxFailure)) throw error;
    return { error: { ...positionOf(text, error.offset), reason: error.reason }, duplicates };
  }
}

function positionOf(text: string, offset: number): JsonPosition {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
