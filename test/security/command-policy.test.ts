import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandPolicyConfig } from '../../src/config/app-config.js';
import { DEFAULT_DENY_PATTERNS } from '../../src/config/command-policy.defaults.js';
import {
  compileCommandPolicy,
  evaluateCommand,
  type CommandDecision,
  type CommandInput,
} from '../../src/security/policy/command-policy.js';

type Rules = Partial<Pick<CommandPolicyConfig, 'mode' | 'allowPatterns' | 'denyPatterns' | 'allowShell'>>;

/** The loader's defaults (deny_all, no allow patterns, the built-in deny list, no shell) plus overrides. */
const policy = (rules: Rules = {}) =>
  compileCommandPolicy({
    mode: 'deny_all',
    allowPatterns: [],
    denyPatterns: [...DEFAULT_DENY_PATTERNS],
    allowShell: false,
    ...rules,
  });

const evaluate = (input: CommandInput, rules?: Rules) => evaluateCommand(input, policy(rules));
const codeOf = (d: CommandDecision) =>
  d.allowed ? d.code : d.error === 'VALIDATION' ? 'VALIDATION' : d.code;
const argv = (...command: string[]): CommandInput => ({ command });
const sh = (command: string): CommandInput => ({ command, shell: true });

const UNAME_ONLY: Rules = { mode: 'allowlist', allowPatterns: ['^uname'] };
const UNAME_SHELL: Rules = { ...UNAME_ONLY, allowShell: true };
const AUDIT_SHELL: Rules = { mode: 'audit_only', allowShell: true };

describe('command policy: shape of the command', () => {
  test('E7: empty or whitespace commands are denied CMD_POLICY_EMPTY, in every form', () => {
    const empties: CommandInput[] = [
      { command: '' },
      { command: '   ' },
      { command: undefined },
      { command: null },
      argv(),
      argv(''),
      argv(' \t'),
      sh(' '),
      sh('&&'),
      sh(' ; ; '),
    ];
    for (const input of empties) {
      const d = evaluate(input, { mode: 'audit_only', allowShell: true });
      assert.equal(codeOf(d), 'CMD_POLICY_EMPTY', JSON.stringify(input));
      assert.equal(d.allowed, false);
      if (!d.allowed && d.error === 'POLICY_DENIED') assert.equal(d.message, 'Command cannot be empty');
    }
  });

  test('wrong types are validation errors naming the field and what is allowed', () => {
    const cases: Array<[CommandInput, RegExp]> = [
      [
        { command: 42 },
        /command must be an argv array of strings, or one string \(a command line or, with shell: true, a script\)/,
      ],
      [{ command: ['ls', 1] }, /command\[1\] must be a string/],
      [{ command: 'ls', shell: 'yes' }, /shell must be true or false/],
      [{ command: ['ls', '-l'], shell: true }, /with shell: true, command is one string/],
    ];
    for (const [input, message] of cases) {
      const d = evaluate(input, { mode: 'audit_only', allowShell: true });
      assert.equal(codeOf(d), 'VALIDATION');
      assert.match(d.message, message);
    }
  });

  test('E3: a NUL byte is refused in argv and in shell form (it cannot be passed to a process)', () => {
    assert.match(
      evaluate(argv('echo', 'a\0b'), { mode: 'audit_only' }).message,
      /command\[1\] contains a NUL byte/,
    );
    assert.equal(codeOf(evaluate(sh('echo a\0b'), AUDIT_SHELL)), 'VALIDATION');
  });

  test('every shell metacharacter in argv needs shell: true (CMD_POLICY_SHELL_REQUIRED)', () => {
    const syntax = [
      'a;b',
      'a && b',
      'a || b',
      'a | b',
      '`id`',
      '$(id)',
      '${HOME}',
      '> /etc/passwd',
      '< x',
      'a\nb',
      'a\rb',
      'a &',
    ];
    for (const arg of syntax) {
      const d = evaluate(argv('echo', arg), { mode: 'audit_only', allowShell: true });
      assert.equal(codeOf(d), 'CMD_POLICY_SHELL_REQUIRED', JSON.stringify(arg));
      assert.match(d.message, /command\[1\] contains shell syntax/);
    }
    // harmless in argv: quotes, globs, plain dollar words reach the program literally
    for (const arg of ["it's", '"quoted"', '*.log', '$HOME', 'a=b', '--help']) {
      assert.equal(
        codeOf(evaluate(argv('echo', arg), { mode: 'audit_only' })),
        'CMD_POLICY_AUDIT_ALLOW',
        arg,
      );
    }
  });

  test('one string without shell: true is split by POSIX word rules and judged as the argv that runs', () => {
    const plain = evaluate({ command: 'uname -a' }, { mode: 'allowlist', allowPatterns: ['uname -a'] });
    assert.equal(codeOf(plain), 'CMD_POLICY_ALLOW');
    // the policy sees the split words (quoted when they hold spaces), exactly as an array would show them
    const quoted = { mode: 'allowlist' as const, allowPatterns: ["echo 'a b' c"] };
    for (const command of ["echo 'a b' c", 'echo "a b" c', 'echo a\\ b c', '  echo   "a b"\tc ']) {
      assert.equal(codeOf(evaluate({ command }, quoted)), 'CMD_POLICY_ALLOW', command);
    }
    assert.equal(codeOf(evaluate(argv('echo', 'a b', 'c'), quoted)), 'CMD_POLICY_ALLOW');
    // a split that differs from the allowed words is not allowed: `echo a b c` is four words
    assert.equal(codeOf(evaluate({ command: 'echo a b c' }, quoted)), 'CMD_POLICY_NOT_ALLOWLISTED');
    // quotes keep shell characters literal words; quoted `$`, `*` and `#` are data, not syntax
    for (const command of ["echo '$HOME' '*.log' '#x' 'a;b'"]) {
      const d = evaluate({ command }, { mode: 'audit_only' });
      assert.equal(
        codeOf(d),
        'CMD_POLICY_SHELL_REQUIRED',
        'a word holding ; still needs a shell, like an array element',
      );
      assert.match(d.message, /word 5 of command contains shell syntax \(;\)/);
    }
    assert.equal(
      codeOf(evaluate({ command: "ls '*.log' '$HOME' '~' a#b" }, { mode: 'audit_only' })),
      'CMD_POLICY_SHELL_REQUIRED',
    );
    assert.equal(
      codeOf(evaluate({ command: "ls '*.log' '$HOME' '~' 'a#b'" }, { mode: 'audit_only' })),
      'CMD_POLICY_AUDIT_ALLOW',
    );
  });

  test('shell syntax in one string needs shell: true; the refusal names every character and both ways out', () => {
    const cases: Array<[string, RegExp]> = [
      ['uname; id', /; \(command separator\)/],
      ['uname -a | grep x', /\| \(pipe\)/],
      ['uname && id', /& \(background or &&\)/],
      ['echo hi > /tmp/x', /> \(redirect\)/],
      ['cat < /etc/passwd', /< \(redirect\)/],
      ['echo $HOME', /\$ \(variable or substitution\)/],
      ['echo "$HOME"', /\$ \(variable or substitution\)/],
      ['echo `id`', /` \(command substitution\)/],
      ['echo $(id)', /\$ \(variable or substitution\), \( \(subshell\), \) \(subshell\)/],
      ['(ls)', /\( \(subshell\)/],
      ['ls *.log', /\* \(glob\)/],
      ['ls file?', /\? \(glob\)/],
      ['ls [ab]', /\[ \(glob\)/],
      ['ls ~/x', /~ \(home directory\)/],
      ['ls # comment', /# \(comment\)/],
      ['uname\nid', /\\n \(line break\)/],
      ['LANG=C ls', /= \(variable assignment before the program\)/],
      ['sleep 10 &', /& \(background or &&\)/],
    ];
    for (const [command, named] of cases) {
      const d = evaluate({ command }, { mode: 'audit_only', allowShell: true });
      assert.equal(codeOf(d), 'CMD_POLICY_SHELL_REQUIRED', command);
      assert.match(d.message, /^command contains shell syntax: /, command);
      assert.match(d.message, named, command);
      assert.match(
        d.message,
        /pass shell: true .* or pass command as an argv array such as \["ls", "-l", "\/tmp"\]/,
      );
      // and with shell: true the same string is a script the policy judges as one
      assert.equal(codeOf(evaluate(sh(command), AUDIT_SHELL)), 'CMD_POLICY_AUDIT_ALLOW', command);
    }
    // several kinds are all named, once each
    const many = evaluate({ command: 'cat /x | grep y > /z; echo $?' }, { mode: 'audit_only' });
    assert.match(
      many.message,
      /\| \(pipe\), > \(redirect\), ; \(command separator\), \$ \(variable or substitution\), \? \(glob\)/,
    );
  });

  test('a string that POSIX cannot split is a validation error saying what to fix', () => {
    const cases: Array<[string, RegExp]> = [
      ["echo it's", /unclosed single \('\) quote/],
      ['echo "abc', /unclosed double \("\) quote/],
      ['echo abc\\', /ends with a lone backslash/],
    ];
    for (const [command, message] of cases) {
      const d = evaluate({ command }, { mode: 'audit_only' });
      assert.equal(codeOf(d), 'VALIDATION', command);
      assert.match(d.message, message, command);
    }
    assert.equal(
      codeOf(evaluate({ command: 'echo it\\\'s "a\\"b"' }, { mode: 'audit_only' })),
      'CMD_POLICY_AUDIT_ALLOW',
    );
  });

  test('the split string obeys the array rules: deny patterns, NUL, the argv limit', () => {
    assert.equal(
      codeOf(evaluate({ command: 'rm -rf /' }, { mode: 'audit_only' })),
      'CMD_POLICY_DENY_PATTERN',
    );
    assert.equal(
      codeOf(evaluate({ command: "sh -c 'rm -rf /'" }, { mode: 'audit_only' })),
      'CMD_POLICY_DENY_PATTERN',
    );
    const long = evaluate({ command: `echo ${'x '.repeat(300)}` }, { mode: 'audit_only' });
    assert.equal(codeOf(long), 'VALIDATION');
    assert.match(long.message, /at most 256 words \(it has 301\)/);
  });

  test('shell: true is refused unless command_policy.allow_shell is on, whatever the command', () => {
    for (const rules of [
      { mode: 'audit_only' as const },
      { mode: 'allowlist' as const, allowPatterns: ['uname'] },
    ]) {
      const d = evaluate(sh('uname'), rules);
      assert.equal(codeOf(d), 'CMD_POLICY_SHELL_NOT_ALLOWED');
    }
    assert.equal(codeOf(evaluate(sh('uname'), { ...UNAME_ONLY, allowShell: true })), 'CMD_POLICY_ALLOW');
  });

  test('a refusal never echoes the command (it may carry secrets)', () => {
    const secret = 'hunter2-CANARY';
    for (const d of [
      evaluate(argv('mysql', `-p${secret}`)),
      evaluate(argv('echo', `${secret};x`)),
      evaluate(sh(`echo ${secret}; reboot`), AUDIT_SHELL),
    ]) {
      assert.equal(d.allowed, false);
      assert.ok(!JSON.stringify(d).includes(secret), JSON.stringify(d));
    }
  });
});

describe('command policy: modes and allowlist (E5: full match, shell pieces one by one)', () => {
  test('defaults (deny_all, empty allowlist) deny every command; audit_only allows what no deny rule matches', () => {
    const denied = evaluate(argv('uname', '-a'));
    assert.equal(codeOf(denied), 'CMD_POLICY_NOT_ALLOWLISTED');
    assert.equal(denied.message, 'Command not allowlisted by policy');
    const audited = evaluate(argv('uname', '-a'), { mode: 'audit_only' });
    assert.deepEqual(audited, {
      allowed: true,
      code: 'CMD_POLICY_AUDIT_ALLOW',
      message: 'Allowed (audit-only mode)',
      shell: false,
    });
  });

  test('deny_all and allowlist behave the same (the reference treats them alike)', () => {
    for (const mode of ['deny_all', 'allowlist'] as const) {
      assert.equal(codeOf(evaluate(argv('uname'), { mode, allowPatterns: ['uname'] })), 'CMD_POLICY_ALLOW');
      assert.equal(
        codeOf(evaluate(argv('id'), { mode, allowPatterns: ['uname'] })),
        'CMD_POLICY_NOT_ALLOWLISTED',
      );
    }
  });

  test('allow patterns match the WHOLE command: ^uname allows `uname`, not `uname -a`', () => {
    assert.equal(codeOf(evaluate(argv('uname'), UNAME_ONLY)), 'CMD_POLICY_ALLOW');
    assert.equal(codeOf(evaluate(argv('uname', '-a'), UNAME_ONLY)), 'CMD_POLICY_NOT_ALLOWLISTED');
    assert.equal(codeOf(evaluate(argv('xuname'), UNAME_ONLY)), 'CMD_POLICY_NOT_ALLOWLISTED');
    // operator anchors are harmless; matching is case-insensitive like the reference
    const anchored = { mode: 'allowlist' as const, allowPatterns: ['^uname -a$'] };
    assert.equal(codeOf(evaluate(argv('uname', '-a'), anchored)), 'CMD_POLICY_ALLOW');
    assert.equal(codeOf(evaluate(argv('UNAME', '-A'), anchored)), 'CMD_POLICY_ALLOW');
  });

  test('E5 without shell: `uname; rm -rf /`, `uname\\nrm -rf /`, `uname $(rm -rf /)` need a shell and are refused', () => {
    for (const command of ['uname; rm -rf /', 'uname\nrm -rf /', 'uname $(rm -rf /)', 'uname `rm -rf /`']) {
      assert.equal(codeOf(evaluate({ command }, UNAME_ONLY)), 'CMD_POLICY_SHELL_REQUIRED', command);
      assert.equal(
        codeOf(evaluate(argv('uname', command.slice(5)), UNAME_ONLY)),
        'CMD_POLICY_SHELL_REQUIRED',
      );
    }
  });

  test('E5 with shell allowed: every piece the shell could run must be allowlisted on its own', () => {
    assert.equal(codeOf(evaluate(sh('uname; rm -rf /'), UNAME_SHELL)), 'CMD_POLICY_DENY_PATTERN');
    for (const script of [
      'uname; id',
      'uname\nid',
      'uname $(id)',
      'uname `id`',
      'uname | sh',
      'uname > /etc/motd',
    ]) {
      assert.equal(codeOf(evaluate(sh(script), UNAME_SHELL)), 'CMD_POLICY_NOT_ALLOWLISTED', script);
    }
    assert.equal(codeOf(evaluate(sh('uname && uname'), UNAME_SHELL)), 'CMD_POLICY_ALLOW');
  });

  test('a pattern with \\S+ or \\s cannot swallow a separator: pieces are matched, not the whole script', () => {
    const ping: Rules = { mode: 'allowlist', allowPatterns: ['ping -c \\d{1,3}\\s+\\S+'], allowShell: true };
    assert.equal(codeOf(evaluate(argv('ping', '-c', '1', '10.0.0.1'), ping)), 'CMD_POLICY_ALLOW');
    assert.equal(codeOf(evaluate(sh('ping -c 1 10.0.0.1'), ping)), 'CMD_POLICY_ALLOW');
    assert.equal(codeOf(evaluate(sh('ping -c 1 x;id'), ping)), 'CMD_POLICY_NOT_ALLOWLISTED');
    assert.equal(codeOf(evaluate(sh('ping -c 1\nid'), ping)), 'CMD_POLICY_NOT_ALLOWLISTED');
    // an argv element with a space is quoted in the policy text, so it cannot pass for two arguments
    assert.equal(
      codeOf(evaluate(argv('ping', '-c', '1', 'host --flood'), ping)),
      'CMD_POLICY_NOT_ALLOWLISTED',
    );
  });
});

describe('command policy: default deny rules (E6)', () => {
  const dangerousShell = [
    'rm -rf /',
    'rm -fr /',
    'rm -r -f /',
    '/bin/rm -rf /',
    "r''m -rf /",
    'r\\m -rf /',
    '"rm" -rf /',
    'rm${IFS}-rf${IFS}/',
    ':(){ :|:& };:',
    ':(){:|:&};:',
    'echo hi; reboot',
    'sh -c "rm -rf /"',
    'mkfs.ext4 /dev/sda',
    'dd if=/dev/zero of=/dev/sda bs=1M',
    'cat /dev/zero > /dev/sda',
    'shutdown -h now',
    'poweroff',
    'halt',
    'init 0',
    'systemctl reboot',
  ];

  test('are denied CMD_POLICY_DENY_PATTERN even in audit_only with shell allowed', () => {
    for (const script of dangerousShell) {
      const d = evaluate(sh(script), AUDIT_SHELL);
      assert.equal(codeOf(d), 'CMD_POLICY_DENY_PATTERN', script);
      assert.equal(d.message, 'Command blocked by deny policy pattern');
    }
  });

  test('match argv commands too, including a shell script handed over as one argument', () => {
    for (const command of [
      ['rm', '-rf', '/'],
      ['/usr/bin/rm', '-r', '-f', '/var'],
      ['sh', '-c', 'rm -rf /'],
      ['bash', '-c', 'reboot'],
      ['reboot'],
      ['dd', 'if=/dev/zero', 'of=/dev/nvme0n1'],
    ]) {
      assert.equal(
        codeOf(evaluate({ command }, { mode: 'audit_only' })),
        'CMD_POLICY_DENY_PATTERN',
        command.join(' '),
      );
    }
  });

  test('deny rules win over the allowlist', () => {
    const d = evaluate(argv('rm', '-rf', '/tmp/x'), { mode: 'allowlist', allowPatterns: ['rm .*'] });
    assert.equal(codeOf(d), 'CMD_POLICY_DENY_PATTERN');
  });

  test('pinned: the deny list is advisory; encodings it cannot see pass audit_only+shell, and nothing else', () => {
    const advisory = ['$(printf rm) -rf /', 'echo cm0gLXJmIC8= | base64 -d | sh'];
    for (const script of advisory) {
      assert.equal(codeOf(evaluate(sh(script), AUDIT_SHELL)), 'CMD_POLICY_AUDIT_ALLOW', script);
      // the defaults (deny_all, no shell) refuse them, as does any allowlist that does not allow every piece
      assert.equal(codeOf(evaluate(sh(script))), 'CMD_POLICY_SHELL_NOT_ALLOWED', script);
      assert.equal(codeOf(evaluate({ command: script })), 'CMD_POLICY_SHELL_REQUIRED', script);
      assert.equal(codeOf(evaluate(sh(script), { ...UNAME_SHELL })), 'CMD_POLICY_NOT_ALLOWLISTED', script);
    }
  });

  test('harmless look-alikes are not denied', () => {
    for (const script of [
      'rm -f /tmp/x.log',
      'cat /etc/reboot-notes.txt',
      'echo done > /dev/null',
      'init 3',
      'ls -la',
    ]) {
      assert.equal(codeOf(evaluate(sh(script), AUDIT_SHELL)), 'CMD_POLICY_AUDIT_ALLOW', script);
    }
  });
});
