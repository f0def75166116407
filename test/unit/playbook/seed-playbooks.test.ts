/**
 * The seed's YAML blocks are valid input as written, and playbooks/*.yaml carry them unchanged:
 * an SRE who knows the design document recognises every step, parameter and message.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { compilePlaybook, loadPlaybook, loadPlaybookText, PLAYBOOK_DIR } from '../../../lib/playbook';
import { defaultPolicy } from '../../../lib/policy/files';

// A copy of ../shared/seed/000_8202dee69d1ec0e7.txt, so the test runs in any clone.
const SEED = readFileSync(path.join(__dirname, '../../fixtures/seed/design-doc.md'), 'utf8');
const yamlBlocks = [...SEED.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]);
const playbookBlocks = yamlBlocks.filter((b) => /^playbook:/m.test(b));
const detectionBlocks = yamlBlocks.filter((b) => /^detection:/m.test(b));

describe('seed playbook blocks', () => {
  it('finds the seven playbooks in the design document', () => {
    expect(playbookBlocks.map((b) => parse(b).playbook)).toEqual([
      'traffic-surge',
      'matching-engine-latency',
      'rds-connection-exhaustion',
      'redis-memory-pressure',
      'kafka-consumer-lag',
      'pod-oom-killed',
      'certificate-expiry-warning',
    ]);
  });

  it.each(playbookBlocks.map((b) => [parse(b).playbook as string, b]))('%s loads and compiles verbatim', (name, block) => {
    // GIVEN the block exactly as the seed writes it
    // WHEN it is loaded and compiled
    const machine = compilePlaybook(loadPlaybookText(`seed:${name}`, block), defaultPolicy(), { sourcePath: `seed:${name}` });
    // THEN every step has its state
    for (const step of parse(block).steps) expect(machine.asl.States[step.name]).toBeDefined();
  });

  it.each(playbookBlocks.map((b) => [parse(b).playbook as string, b]))('playbooks/%s.yaml keeps the seed fields unchanged', (name, block) => {
    const seed = parse(block);
    const file = loadPlaybook(path.join(PLAYBOOK_DIR, `${name}.yaml`)).spec;
    expect(file.steps).toEqual(seed.steps);
    expect(file.risk).toBe(seed.risk);
    expect(file.trigger).toBe(seed.trigger);
  });

  it('keeps the seed detection blocks in the playbooks that have one', () => {
    const byFirstMetric = new Map(detectionBlocks.map((b) => [String(parse(b).detection.primary[0]), parse(b).detection]));
    let matched = 0;
    for (const name of ['traffic-surge', 'matching-engine-latency', 'rds-connection-exhaustion']) {
      const detection = loadPlaybook(path.join(PLAYBOOK_DIR, `${name}.yaml`)).spec.detection!;
      expect(detection).toEqual(byFirstMetric.get(String(detection.primary[0])));
      matched++;
    }
    expect(matched).toBe(3);
  });
});
