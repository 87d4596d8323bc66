#!/usr/bin/env python3
"""Lists Rust functions longer than a limit (80 lines by default), outside tests.

DEVELOPERS.md: functions short enough to read at once. A function is counted
from its `fn` line to its closing brace. Test code is skipped: files named
`tests.rs` or `*_tests.rs`, `tests/` and `benches/` directories, and
`#[cfg(test)] mod … { … }` blocks.

Usage: scripts/long-functions.py [--max N] [PATH...]   (default: the workspace crates)
Exits 1 when a function is over the limit, so it can be a check.
"""
import os
import re
import sys

FN = re.compile(r'^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?(?:extern\s+"[^"]*"\s+)?fn\s+([A-Za-z_][A-Za-z0-9_]*)')
CFG_TEST = re.compile(r'^\s*#\[cfg\(test\)\]')
MOD = re.compile(r'^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+\w+\s*\{')


def strip(line, state):
    """The line without comments, strings and char literals; `state` carries a
    block comment or a raw/normal string across lines."""
    out = []
    i, n = 0, len(line)
    while i < n:
        if state['block']:
            j = line.find('*/', i)
            if j < 0:
                return ''.join(out)
            state['block'] = False
            i = j + 2
            continue
        if state['string'] is not None:
            end = state['string']
            if end == '"':
                if line[i] == '\\':
                    i += 2
                    continue
                if line[i] == '"':
                    state['string'] = None
                i += 1
                continue
            j = line.find(end, i)
            if j < 0:
                return ''.join(out)
            state['string'] = None
            i = j + len(end)
            continue
        c = line[i]
        if line.startswith('//', i):
            break
        if line.startswith('/*', i):
            state['block'] = True
            i += 2
            continue
        m = re.match(r'b?r(#*)"', line[i:])
        if m and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == '_')):
            state['string'] = '"' + m.group(1)
            i += m.end()
            continue
        if c == '"':
            state['string'] = '"'
            i += 1
            continue
        if c == "'":
            m = re.match(r"'(\\.|\\u\{[0-9a-fA-F]+\}|\\x[0-9a-fA-F]{2}|[^\\'])'", line[i:])
            if m:
                i += m.end()
                continue
        out.append(c)
        i += 1
    return ''.join(out)


def functions(path):
    """(name, first line, length) of each non-test function of a file."""
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    state = {'block': False, 'string': None}
    depth = 0
    open_fns = []  # (name, start, depth at which its body opened)
    skip_until = None  # depth: inside a #[cfg(test)] module
    pending_test = False
    pending_fn = None
    found = []
    for no, raw in enumerate(lines, 1):
        code = strip(raw, state)
        if skip_until is None:
            if CFG_TEST.match(raw):
                pending_test = True
            elif pending_test and MOD.match(raw):
                skip_until = depth
                pending_test = False
            elif pending_test and raw.strip() and not raw.strip().startswith('#'):
                pending_test = False
            m = FN.match(code)
            if m and skip_until is None:
                pending_fn = (m.group(1), no)
        for c in code:
            if c == '{':
                if pending_fn is not None:
                    open_fns.append((pending_fn[0], pending_fn[1], depth))
                    pending_fn = None
                depth += 1
            elif c == '}':
                depth -= 1
                if open_fns and open_fns[-1][2] == depth:
                    name, start, _ = open_fns.pop()
                    found.append((name, start, no - start + 1))
                if skip_until is not None and depth == skip_until:
                    skip_until = None
            elif c == ';' and pending_fn is not None:
                pending_fn = None  # a declaration without a body
    return found


def rust_files(roots):
    for root in roots:
        if os.path.isfile(root):
            yield root
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in ('target', 'tests', 'benches', '.git', 'fuzz')]
            for name in sorted(filenames):
                if name.endswith('.rs') and name != 'tests.rs' and not name.endswith('_tests.rs'):
                    yield os.path.join(dirpath, name)


def main(argv):
    limit = 80
    if argv[:1] == ['--max']:
        limit, argv = int(argv[1]), argv[2:]
    roots = argv or [d for d in ('drg-core/src', 'drg-cli/src', 'drg-ffi/src', 'drg-py/src', 'drg-packs/src', 'drg-serve/src') if os.path.isdir(d)]
    long = []
    for path in rust_files(roots):
        for name, start, length in functions(path):
            if length > limit:
                long.append((length, path, start, name))
    for length, path, start, name in sorted(long, reverse=True):
        print(f'{length:5} lines  {path}:{start}  {name}')
    if long:
        print(f'{len(long)} function(s) over {limit} lines', file=sys.stderr)
        return 1
    print(f'no function over {limit} lines', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
