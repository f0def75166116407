/**
 * What the README tells a newcomer holds in a clone (issue 14's new-user findings): every HTTP
 * route it names is one the local API answers (it once said `GET /dead-letters`, which is
 * `/api/dead-letters`), and every file it links to or names as a path exists inside the
 * repository (it once sent readers to `../shared/DESIGN.md`, outside any clone).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { hasRoute } from '../../lib/local/server';

const ROOT = path.resolve(__dirname, '../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** Sample values for a `<id>` placeholder: an incident, an approval, a playbook. */
const IDS = ['INC-20260101-001', '00000000-0000-4000-8000-000000000000', 'traffic-surge'];

/** `GET /api/incidents/<id>` → every concrete path it stands for (`a|b` at the end: each). */
function concrete(route: string): string[] {
  // `<name>` stands for a playbook (`traffic-surge`).
  const bare = route.split('?')[0]!.replace(/<name>/g, 'traffic-surge');
  const tails = /\/([a-z]+(?:\|[a-z]+)+)$/.exec(bare);
  const paths = tails ? tails[1]!.split('|').map((t) => bare.replace(/\/[a-z|]+$/, `/${t}`)) : [bare];
  return paths.flatMap((p) => (p.includes('<id>') ? IDS.map((id) => p.replace(/<id>/g, id)) : [p]));
}

describe('the README', () => {
  const routes = [...README.matchAll(/`((?:GET|POST)(?:\|(?:GET|POST))?) (\/[^`\s]*)`/g)].map((m) => ({ methods: m[1]!.split('|'), route: m[2]! }));

  it('names at least the routes a newcomer uses', () => {
    expect(routes.map((r) => r.route)).toEqual(expect.arrayContaining(['/api/dead-letters', '/events', '/api/breakers/reset']));
  });

  it.each(routes.map((r) => [`${r.methods.join('|')} ${r.route}`, r]))('names a route the local API answers: %s', (_label, r) => {
    for (const method of r.methods) expect([method, r.route, concrete(r.route).some((p) => hasRoute(method, p))]).toEqual([method, r.route, true]);
  });

  it('does not name a route the API lacks (the check can fail)', () => {
    expect(hasRoute('GET', '/dead-letters')).toBe(false);
    expect(hasRoute('GET', '/api/dead-letters')).toBe(true);
  });

  it('links only to files inside the repository that exist', () => {
    const links = [...README.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
    expect(links).toEqual(expect.arrayContaining(['docs/DESIGN.md', 'docs/dashboard.png']));
    for (const link of links) {
      const target = path.resolve(ROOT, link);
      expect([link, target.startsWith(`${ROOT}${path.sep}`), existsSync(target)]).toEqual([link, true, true]);
    }
  });

  it('sends nobody outside the clone: no ../ path in text or code', () => {
    expect(README.match(/(?:^|[\s`(])\.\.\/[\w./-]+/gm) ?? []).toEqual([]);
  });
});
