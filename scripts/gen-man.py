#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Man pages of libalcatraz, generated from include/alcatraz/alcatraz.h.

    gen-man.py --list HEADER
        prints the public functions, one per line (never fails on
        undocumented ones: meson uses it at configure time)
    gen-man.py HEADER OUTDIR VERSION
        writes libalcatraz.3 and one NAME.3 per function into OUTDIR; exits 1
        naming every function that has no /** */ comment

Each function's comment is kernel-doc-like: "name - summary", then
"@param: text" lines (indented continuation lines), then free text.  The
sentence starting with "Returns" becomes RETURN VALUE, and the error codes it
names (-EXXX, -ALCATRAZ_E_XXX) become ERRORS, each explained by the text
after the code in the header (a parenthesis, or a "for/when/if/on/while"
clause) or else by strerror().
"""

import errno
import os
import re
import sys

FUNC_RE = re.compile(r'\b(alcatraz_[a-z0-9_]+)\s*\(')
CODE_RE = re.compile(r'-(ALCATRAZ_E_[A-Z0-9_]+|E[A-Z0-9]+)\b')
CLAUSE_WORDS = ('for', 'when', 'if', 'on', 'while', 'once', 'after')


# --------------------------------------------------------------------------
# Parsing the header


class Func:
    def __init__(self, name, proto, doc, section, line):
        self.name = name
        self.proto = proto
        self.doc = doc          # None when undocumented
        self.section = section
        self.line = line


class Header:
    def __init__(self, path):
        self.path = path
        self.text = open(path, encoding='utf-8').read()
        self.funcs = []
        self.types = []         # (doc summary, verbatim declaration)
        self.codes = []         # (name, explanation) of ALCATRAZ_E_*
        self.intro = ''         # the file's first comment
        self.sections = []      # (title, intro text or '')
        self._parse()

    def _parse(self):
        text = self.text
        n = len(text)
        pos = 0
        doc = None
        section = None
        banner = 0      # 1: after a dash line, 2: after a title, 3: after its closing line
        while pos < n:
            if text.startswith('/*', pos):
                end = text.index('*/', pos) + 2
                body = text[pos:end]
                plain = strip_comment(body)
                pos = end
                if 'SPDX-License-Identifier' in body:
                    continue
                if not self.intro and not self.funcs and not body.startswith('/**'):
                    self.intro = plain
                elif body.startswith('/**'):
                    doc, banner = plain, 0
                elif re.fullmatch(r'-+', plain.strip()):
                    banner = 3 if banner == 2 else 1
                elif banner == 1 and '\n' not in plain.strip():
                    section = [plain.strip(), '']
                    self.sections.append(section)
                    banner = 2
                elif banner == 3 and section is not None:
                    section[1], banner = plain, 0
                else:
                    banner = 0
                continue
            if text.startswith('#', pos) and (pos == 0 or text[pos - 1] == '\n'):
                pos = text.find('\n', pos) + 1 or n
                continue
            if text[pos].isspace() or text[pos] == '}':
                pos += 1
                continue
            m = re.compile(r'extern\s+"C"\s*\{').match(text, pos)
            if m:
                pos = m.end()
                continue
            # A declaration: up to ';' at brace depth 0 (or a lone brace).
            end, depth = pos, 0
            while end < n:
                c = text[end]
                if text.startswith('/*', end):
                    end = text.index('*/', end) + 2
                    continue
                if c == '{':
                    depth += 1
                elif c == '}':
                    depth -= 1
                    if depth < 0:
                        break
                elif c == ';' and depth == 0:
                    break
                end += 1
            decl = text[pos:end + 1]
            self._declaration(decl, doc, section, text.count('\n', 0, pos) + 1)
            doc, banner = None, 0
            pos = end + 1

    def _declaration(self, decl, doc, section, line):
        flat = ' '.join(decl.split())
        m = FUNC_RE.search(flat)
        if m and '{' not in flat and flat.endswith(');'):
            self.funcs.append(Func(m.group(1), flat, doc, section[0] if section else '', line))
            return
        if flat.startswith('enum {') and 'ALCATRAZ_E_' in flat:
            for cm in re.finditer(r'/\*(.*?)\*/\s*(ALCATRAZ_E_[A-Z0-9_]+)', decl, re.S):
                self.codes.append((cm.group(2), ' '.join(cm.group(1).split())))
            return
        if doc is not None and ('{' in flat or flat.startswith(('struct', 'enum'))):
            self.types.append((doc.strip(), decl.strip()))


def strip_comment(body):
    """The text of a /* */ comment: delimiters and leading ' * ' removed,
    indentation after the star kept (tabs mark code, spaces continuation)."""
    inner = body[3:-2] if body.startswith('/**') else body[2:-2]
    out = []
    for line in inner.split('\n'):
        s = line.strip(' ')
        if s.startswith('*'):
            s = s[1:]
            if s.startswith(' '):
                s = s[1:]
        out.append(s.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return '\n'.join(out)


class Doc:
    """A function's comment split into summary, parameters and paragraphs."""

    def __init__(self, name, text):
        lines = text.split('\n')
        head = lines.pop(0).strip()
        m = re.match(re.escape(name) + r'\s+-\s+(.*)$', head)
        if not m:
            raise ValueError(f'{name}: comment does not start with "{name} - summary"')
        self.summary = m.group(1).strip().rstrip('.')
        self.params = []
        while lines and lines[0].startswith('@'):
            pm = re.match(r'@(\w+):\s*(.*)$', lines.pop(0))
            if not pm:
                raise ValueError(f'{name}: malformed @parameter line')
            words = [pm.group(2)]
            while lines and lines[0][:1] in (' ', '\t') and lines[0].strip():
                words.append(lines.pop(0).strip())
            self.params.append((pm.group(1), ' '.join(words)))
        paras, cur = [], []
        for l in lines:
            if l.strip():
                cur.append(l.strip())
            elif cur:
                paras.append(' '.join(cur))
                cur = []
        if cur:
            paras.append(' '.join(cur))
        # The "Returns ..." sentence leaves the description for RETURN VALUE.
        self.returns = ''
        self.paras = []
        for p in paras:
            m = re.search(r'(?:^|(?<=[.;] ))Returns\b', p)
            if m and not self.returns:
                start = m.start()
                rest = p[start:]
                em = re.search(r'\.(\s+(?=[A-Za-z$])|$)', rest)
                stop = start + (em.end() if em else len(rest))
                self.returns = p[start:stop].strip()
                p = (p[:start] + p[stop:]).strip()
            if p:
                self.paras.append(p)


# --------------------------------------------------------------------------
# roff output


def esc(s):
    """Plain text for a roff body line; identifiers are never hyphenated."""
    s = s.replace('\\', '\\e')
    s = re.sub(r'(^|(?<=[\s(/"]))-', r'\\-', s)
    return s


INLINE_RE = re.compile(
    r'(?P<func>\balcatraz_[a-z0-9_]+)\(\)'
    r'|@(?P<param>\w+)'
    r'|(?P<code>-(?:ALCATRAZ_E_[A-Z0-9_]+|E[A-Z0-9]+)\b)'
    r'|(?P<const>\$?\bALCATRAZ_[A-Z0-9_]+)'
    r'|`(?P<tick>[^`]+)`')


def inline(s):
    out, last = [], 0
    for m in INLINE_RE.finditer(s):
        out.append(esc(s[last:m.start()]))
        if m.group('func'):
            out.append(r'\fB%s\fP()' % m.group('func'))
        elif m.group('param'):
            out.append(r'\fI%s\fP' % m.group('param'))
        elif m.group('code'):
            out.append(r'\fB%s\fP' % esc(m.group('code')))
        elif m.group('const'):
            out.append(r'\fB%s\fP' % m.group('const'))
        else:
            out.append(r'\fB%s\fP' % esc(m.group('tick')))
        last = m.end()
    out.append(esc(s[last:]))
    # Identifiers are never hyphenated: \% before each word holding one.
    line = re.sub(r'(^|(?<= ))(?=\S*[A-Za-z0-9]_[A-Za-z0-9])', r'\\%', ''.join(out))
    return '\\&' + line if line[:1] in ('.', "'") else line


def quote_arg(s):
    """A macro argument: escaped, double quotes doubled, then quoted."""
    return '"' + esc(s).replace('"', '""') + '"'


def split_params(proto):
    """'int f(int a, char *b);' -> ('int ', 'f', ['int ', 'a'], ...)"""
    m = re.match(r'(.*?)\b(alcatraz_[a-z0-9_]+)\s*\((.*)\)\s*;$', proto)
    ret, name, args = m.group(1), m.group(2), m.group(3).strip()
    params = []
    if args and args != 'void':
        for a in args.split(','):
            a = a.strip()
            pm = re.match(r'(.*?)(\w+)$', a)
            params.append((pm.group(1), pm.group(2)))
    return ret, name, params


def synopsis(proto):
    ret, name, params = split_params(proto)
    lines = ['.nf', '.B #include <alcatraz/alcatraz.h>', '.PP']
    if not params:
        lines.append('.BI ' + quote_arg(f'{ret}{name}(void);'))
    else:
        indent = ' ' * len(f'{ret}{name}(')
        for i, (typ, pname) in enumerate(params):
            lead = f'{ret}{name}(' if i == 0 else indent
            tail = ');' if i == len(params) - 1 else ','
            lines.append('.BI ' + quote_arg(lead + typ) + ' ' + pname + ' ' + quote_arg(tail))
    lines += ['.fi', '.PP', r'Link with \fI\-lalcatraz\fP (\fBpkg\-config \-\-libs alcatraz\fP).']
    return lines


def error_clauses(returns):
    """{code: explanation} for every code the Returns sentence names."""
    found = {}
    for m in CODE_RE.finditer(returns):
        code = m.group(1)
        rest = returns[m.end():].lstrip()
        why = ''
        if rest.startswith('('):
            depth, i = 0, 0
            for i, c in enumerate(rest):
                depth += c == '('
                depth -= c == ')'
                if depth == 0:
                    break
            why = rest[1:i].strip()
            why = why[0].upper() + why[1:] + '.' if why else ''
        else:
            w = re.match(r'(\w+)\b', rest)
            if w and w.group(1) in CLAUSE_WORDS:
                cl = re.match(r'(.*?)(?:,\s|;\s| or -|\.\s*$|$)', rest).group(1)
                why = 'Returned ' + cl.strip().rstrip('.') + '.'
        found.setdefault(code, [])
        if why and why not in found[code]:
            found[code].append(why)
    return found


def default_why(code, hdr):
    for name, text in hdr.codes:
        if name == code:
            return text.rstrip('.') + '.'
    num = getattr(errno, code, None)
    return os.strerror(num) + '.' if num else ''


def see_also_lines(names):
    names = sorted(set(names), key=lambda n: (n != 'libalcatraz', n))
    out = []
    for i, n in enumerate(names):
        sect = '1' if n == 'alcatraz-run' else '3'
        out.append(f'.BR {n} ({sect})' + (',' if i < len(names) - 1 else ''))
    return out


def th(name, version, title='libalcatraz Manual', sect=3):
    return [r'.\" SPDX-License-Identifier: LGPL-2.1-or-later',
            r'.\" Generated by scripts/gen-man.py from include/alcatraz/alcatraz.h: edit the header.',
            f'.TH {name} {sect} "" "alcatraz {version}" "{title}"',
            '.nh']


def type_name(decl):
    m = re.match(r'\s*((?:struct|enum)\s+\w+)', decl)
    return m.group(1) if m else None


def types_used(text, hdr, depth=2):
    """The defined (non-opaque) types TEXT names, and the types those name."""
    found = []
    for doc, decl in hdr.types:
        name = type_name(decl)
        if name and '{' in decl and re.search(re.escape(name) + r'\b', text):
            found.append((doc, decl))
            if depth > 1:
                inner = decl[decl.index('{'):]
                found += [t for t in types_used(inner, hdr, depth - 1) if t not in found]
    return found


def function_page(f, hdr, version):
    d = Doc(f.name, f.doc)
    ret, _, _ = split_params(f.proto)
    out = th(f.name, version)
    out += ['.SH NAME', f'{f.name} \\- ' + inline(d.summary)]
    out += ['.SH SYNOPSIS'] + synopsis(f.proto)
    out += ['.SH DESCRIPTION', inline(d.summary[0].upper() + d.summary[1:] + '.')]
    if d.params:
        for pname, ptext in d.params:
            out += ['.TP', r'\fI%s\fP' % pname, inline(ptext)]
        out.append('.PP')
    for p in d.paras:
        out += [inline(p), '.PP']
    if out[-1] == '.PP':
        out.pop()
    for doc, decl in types_used(f.proto, hdr):
        out += ['.PP', inline(doc.rstrip('.') + ':')] + code_block(decl)
    out.append('.SH RETURN VALUE')
    if d.returns:
        out.append(inline(d.returns))
    elif ret.strip() == 'void':
        out.append('None.')
    elif ret.strip() == 'int':
        out.append('Returns 0 on success, or a negative errno value on failure '
                   r'(see \%\fBlibalcatraz\fP(3)).')
    else:
        out.append(inline(d.summary[0].upper() + d.summary[1:] + '.'))
    codes = error_clauses(d.returns)
    if codes:
        out.append('.SH ERRORS')
        for code, whys in codes.items():
            text = ' '.join(whys) or default_why(code, hdr)
            out += ['.TP', r'.B \-' + code, inline(text)]
    refs = set(FUNC_RE.findall(f.doc or '')) - {f.name}
    refs &= {g.name for g in hdr.funcs}
    group = [g.name for g in hdr.funcs if g.section == f.section]
    if f.section and group and group[0] != f.name:
        refs.add(group[0])
    out += ['.SH SEE ALSO'] + see_also_lines(list(refs) + ['libalcatraz'])
    return '\n'.join(out) + '\n'


def code_block(text, outdent=False):
    out = ['.PP', '.in +4n', '.EX']
    for l in text.split('\n'):
        if outdent and l.startswith('\t'):
            l = l[1:]
        l = l.replace('\t', '    ').replace('\\', '\\e')
        out.append('\\&' + l if l[:1] in ('.', "'") else l)
    out += ['.EE', '.in']
    return out


def prose_and_code(text):
    """A comment's text: paragraphs, with tab-indented lines as code."""
    out, para, code = [], [], []

    def flush():
        if para:
            out.extend(['.PP', inline(' '.join(para))])
            para.clear()
        if code:
            out.extend(code_block('\n'.join(code), outdent=True))
            code.clear()

    for l in text.split('\n'):
        if l.startswith('\t'):
            if para:
                flush()
            code.append(l)
        elif not l.strip():
            if code and not para:
                # blank line inside code keeps the block open only if more follows
                flush()
            else:
                flush()
        else:
            if code:
                flush()
            para.append(l.strip())
    flush()
    return out


def overview_page(hdr, version):
    out = th('libalcatraz', version)
    out += ['.SH NAME', r'libalcatraz \- run untrusted code in KVM microVMs']
    out += ['.SH SYNOPSIS', '.nf', '.B #include <alcatraz/alcatraz.h>', '.fi', '.PP',
            r'Link with \fI\-lalcatraz\fP (\fBpkg\-config \-\-libs alcatraz\fP).']
    out.append('.SH DESCRIPTION')
    intro = hdr.intro
    first, _, rest = intro.partition('\n')
    body = prose_and_code(rest.strip('\n'))
    if body and body[0] == '.PP':
        body = body[1:]
    out += body
    titles = [''] + [s[0] for s in hdr.sections]
    for title in titles:
        funcs = [f for f in hdr.funcs if f.section == title]
        if not funcs:
            continue
        out.append('.SS ' + quote_arg(title or 'General'))
        sec_intro = next((s[1] for s in hdr.sections if s[0] == title), '')
        if sec_intro:
            out += prose_and_code(sec_intro)
        for f in funcs:
            summary = Doc(f.name, f.doc).summary if f.doc else ''
            out += ['.TP', f'.BR {f.name} (3)', inline(summary)]
    if hdr.types:
        out.append('.SH DATA TYPES')
        for doc, decl in hdr.types:
            out += ['.PP', inline(doc.rstrip('.') + '.')]
            out += code_block(decl)
    if hdr.codes:
        out.append('.SH ERRORS')
        out.append('Functions return negative errno values, or one of these codes '
                   r'(negated), which \fBalcatraz_strerror\fP() describes:')
        for name, text in hdr.codes:
            if name == 'ALCATRAZ_E_BASE':
                continue
            out += ['.TP', '.B ' + name, inline(text.rstrip('.') + '.')]
    out += ['.SH SEE ALSO'] + see_also_lines(['alcatraz-run'])
    return '\n'.join(out) + '\n'


def main(argv):
    if len(argv) == 3 and argv[1] == '--list':
        for f in Header(argv[2]).funcs:
            print(f.name)
        return 0
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    hdr = Header(argv[1])
    outdir, version = argv[2], argv[3]
    missing = [f for f in hdr.funcs if not f.doc]
    for f in missing:
        print(f'{argv[1]}:{f.line}: {f.name} has no /** {f.name} - summary */ comment: '
              'no man page', file=sys.stderr)
    if missing:
        return 1
    os.makedirs(outdir, exist_ok=True)
    pages = {'libalcatraz.3': overview_page(hdr, version)}
    try:
        for f in hdr.funcs:
            pages[f.name + '.3'] = function_page(f, hdr, version)
    except ValueError as e:
        print(f'{argv[1]}: {e}', file=sys.stderr)
        return 1
    for name, text in pages.items():
        path = os.path.join(outdir, name)
        old = open(path).read() if os.path.exists(path) else None
        if old != text:
            with open(path, 'w') as fh:
                fh.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
