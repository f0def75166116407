#!/usr/bin/env python3
"""Lists the surviving and uncovered mutants of a Stryker JSON report (reports/mutation/mutation.json)
as Markdown: per file, line:column, mutator, the original code and its replacement.
Usage: python3 bench/mutation/survivors.py [report.json] > bench/mutation/survivors-list.md"""
import json, sys

report = json.load(open(sys.argv[1] if len(sys.argv) > 1 else 'reports/mutation/mutation.json'))
rows, totals = [], {'killed': 0, 'timeout': 0, 'survived': 0, 'nocov': 0}
for path, f in sorted(report['files'].items()):
    src = f['source'].split('\n')
    counts = {'Killed': 0, 'Timeout': 0, 'Survived': 0, 'NoCoverage': 0}
    for m in f['mutants']:
        counts[m['status']] = counts.get(m['status'], 0) + 1
    totals['killed'] += counts['Killed']; totals['timeout'] += counts['Timeout']; totals['survived'] += counts['Survived']; totals['nocov'] += counts['NoCoverage']
    detected = counts['Killed'] + counts['Timeout']
    valid = detected + counts['Survived'] + counts['NoCoverage']
    left = [m for m in f['mutants'] if m['status'] in ('Survived', 'NoCoverage')]
    rows.append((path, detected, valid, left, src))
valid = totals['killed'] + totals['timeout'] + totals['survived'] + totals['nocov']
print(f"Mutation score {100 * (totals['killed'] + totals['timeout']) / valid:.2f} % ({totals['killed']} killed, {totals['timeout']} timed out, {totals['survived']} survived, {totals['nocov']} not covered; static mutants ignored)\n")
# A mutant reached both while the test files load and by tests ("hybrid") makes Stryker restart a mocha
# worker before and after it: keep mutated code out of test files' load time (see stryker.config.json).
hybrid = [m for f in report['files'].values() for m in f['mutants'] if m.get('static') and m['status'] not in ('Ignored', 'NoCoverage')]
if hybrid:
    print(f"**{len(hybrid)} mutants ran with static coverage** (each restarts a test process): {', '.join(sorted({m['location']['start']['line'].__str__() for m in hybrid}))[:300]}\n")
print('| file | score | left |\n| --- | --- | --- |')
for path, detected, v, left, _ in rows:
    print(f"| {path} | {100 * detected / v if v else 100:.1f} % | {len(left)} |")
for path, _, _, left, src in rows:
    if not left:
        continue
    print(f"\n### {path}\n")
    for m in sorted(left, key=lambda m: (m['location']['start']['line'], m['location']['start']['column'])):
        s, e = m['location']['start'], m['location']['end']
        line = src[s['line'] - 1]
        orig = line[s['column'] - 1:(e['column'] - 1) if e['line'] == s['line'] else None].strip()
        rep = (m.get('replacement') or '').replace('\n', ' ')
        status = 'no test reaches it' if m['status'] == 'NoCoverage' else 'survived'
        print(f"- L{s['line']}:{s['column']} {m['mutatorName']} ({status}): `{orig[:90]}` → `{rep[:90]}`")
