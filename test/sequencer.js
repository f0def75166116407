// jest's default order, and `--shard=1/2` / `--shard=2/2` meaning the services and pure lanes
// (test/lanes.js) instead of two halves by hash.
const Sequencer = require('@jest/test-sequencer').default;
const { laneOf, LANES } = require('./lanes');

class LaneSequencer extends Sequencer {
  shard(tests, { shardIndex, shardCount }) {
    if (shardCount !== LANES.length) return super.shard(tests, { shardIndex, shardCount });
    const lane = LANES[shardIndex - 1];
    return tests.filter((t) => laneOf(t.path) === lane);
  }
}

module.exports = LaneSequencer;
