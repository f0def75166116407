/**
 * The compile benchmark's generated playbooks (bench/compile.ts) are valid: `npm run bench` once
 * stopped at its first benchmark because a variant scaled the `1h` inside pod_restart_count_1h
 * into an unknown metric.
 * @lane pure
 */
import { compileAll, generatePlaybooks, scaleThresholds } from '../../bench/compile';

describe('bench/compile: generated playbooks', () => {
  it('scales thresholds written with a unit, and leaves numbers inside names alone', () => {
    expect(scaleThresholds('pod_restart_count_1h > 3 for 5min', 2)).toBe('pod_restart_count_1h > 3 for 10min');
    expect(scaleThresholds('api_latency_p99 > 200ms and cpu > 85%', 0.5)).toBe('api_latency_p99 > 100ms and cpu > 43%');
    expect(scaleThresholds('x.2h > 1', 2)).toBe('x.2h > 1');
  });

  it('generates playbooks that all load and compile: every seed, varied', () => {
    // 132 playbooks: each seed several times, with every threshold factor and step variation
    const playbooks = generatePlaybooks(132);

    expect(compileAll(playbooks)).toBeGreaterThan(0);
    expect(new Set(playbooks.map((p) => p.file)).size).toBe(132);
  });
});
