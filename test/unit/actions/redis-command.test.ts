/** Unit tests of redis_command's command parser and caps (allow-listed UNLINK patterns); no Redis. */
import { action, parseUnlinkCommand, patternCovered, type RedisCommandParams } from '../../../lib/actions/redis_command';
import { createPolicy } from '../../../lib/policy';
import { loadPolicy } from '../../../lib/policy/files';

const policy = loadPolicy();
const checkCaps = (p: RedisCommandParams) => action.checkCaps?.(p, policy) ?? [];
const pipeline = (pattern: string) => `redis-cli --scan --pattern ${pattern} | xargs redis-cli UNLINK`;

describe('redis_command', () => {
  describe('Function: parseUnlinkCommand', () => {
    it.each([
      ["redis-cli --scan --pattern 'cache:*' | xargs redis-cli UNLINK", 'cache:*'],
      ['redis-cli --scan --pattern "cache:user:*" | xargs redis-cli UNLINK', 'cache:user:*'],
      ['  redis-cli  --scan --pattern cache:*|xargs redis-cli UNLINK ', 'cache:*'],
    ])('reads the pattern of %s', (command, pattern) => {
      expect(parseUnlinkCommand(command)).toBe(pattern);
    });

    it.each([
      'FLUSHALL',
      'FLUSHDB',
      'DEL cache:1',
      'KEYS *',
      'CONFIG SET maxmemory 0',
      "redis-cli --scan --pattern 'cache:*' | xargs redis-cli DEL",
      "redis-cli --scan --pattern 'cache:*' | xargs redis-cli UNLINK; redis-cli FLUSHALL",
      "redis-cli -n 0 --scan --pattern 'cache:*' | xargs redis-cli UNLINK",
      "redis-cli --scan --pattern 'cache:*' | xargs redis-cli UNLINK && redis-cli FLUSHALL",
    ])('refuses %s', (command) => {
      expect(parseUnlinkCommand(command)).toBeNull();
    });
  });

  describe('Function: patternCovered', () => {
    it.each([
      ['cache:*', 'cache:*', true],
      ['cache:user:*', 'cache:*', true],
      ['cache:1', 'cache:*', true],
      ['*', 'cache:*', false],
      ['session:*', 'cache:*', false],
      ['cach*', 'cache:*', false],
      ['CACHE:*', 'cache:*', false],
      ['cache:*', '*', false],
      ['cache:1', 'cache:1', true],
    ])('%s under %s: %s', (pattern, allowed, covered) => {
      expect(patternCovered(pattern, allowed)).toBe(covered);
    });
  });

  describe('Method: checkCaps', () => {
    it('accepts the seed flush_expired_keys step', () => {
      expect(checkCaps({ command: "redis-cli --scan --pattern 'cache:*' | xargs redis-cli UNLINK" })).toEqual([]);
    });

    it.each(['FLUSHALL', 'FLUSHDB', 'DEL session:1', 'KEYS *', 'CONFIG SET maxmemory-policy noeviction'])('refuses %s', (command) => {
      expect(checkCaps({ command })).toEqual([expect.stringContaining('only "redis-cli --scan --pattern')]);
    });

    it.each(["'*'", "'session:*'", "'ca*'"])('refuses pattern %s outside cache:*', (pattern) => {
      expect(checkCaps({ command: pipeline(pattern) })).toEqual([expect.stringContaining('is not under an allowed prefix (cache:*)')]);
    });

    it('follows the prefixes of the policy it is given', () => {
      const sessions = createPolicy({ ...policy.document, caps: { ...policy.caps, redis_unlink_prefixes: ['session:*'] } });
      expect(action.checkCaps?.({ command: pipeline("'session:*'") }, sessions)).toEqual([]);
      expect(action.checkCaps?.({ command: pipeline("'cache:*'") }, sessions)).toHaveLength(1);
    });
  });
});
