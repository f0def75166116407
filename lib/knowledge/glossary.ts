/**
 * Bilingual concepts of the exchange's incidents: each group lists the Chinese and English ways
 * of saying one thing. The embedded index adds one concept token per group a text mentions, to
 * entries and queries alike, so "延迟" finds "latency" and "连接池耗尽" finds "pool exhausted"
 * without a model. Word matching (BM25) does the rest. Terms are matched lower-cased, as
 * substrings (Chinese has no spaces); English terms of three letters or fewer match whole words.
 */
export const CONCEPTS: Readonly<Record<string, readonly string[]>> = {
  latency: ['飙升', '升高', 'slower', 'slowdown', 'degraded', '延迟', '时延', '响应慢', '响应时间', '变慢', '卡顿', 'latency', 'slow', 'p99', 'response time', 'lag spike'],
  traffic_surge: ['被打爆', '打爆', '冲击', 'flood', 'flooded', 'hammering', 'overwhelmed', 'rally', 'listing', '流量激增', '流量突增', '流量暴涨', '请求量激增', '突发流量', '洪峰', '行情', '暴涨', 'surge', 'spike in traffic', 'traffic spike', 'burst', 'qps', 'request rate', 'rate limit', '限流'],
  websocket: ['websocket', '长连接', '推送连接', 'ws 连接'],
  deploy: ['版本', '新版', 'version', '部署', '发布', '上线', '新版本', '变更', 'deploy', 'release', 'rollout', 'new version', 'upgrade'],
  rollback: ['回滚', '回退', '退回', 'rollback', 'roll back', 'rolled back', 'revert', 'undo'],
  matching_engine: ['撮合', '撮合引擎', 'matching engine', 'matching-engine', 'order matching', 'match latency'],
  gc: ['gc', '垃圾回收', '停顿', 'stop-the-world', 'gc pause', 'garbage collect', 'full gc', 'heap'],
  thread_dump: ['线程', '线程转储', 'thread dump', 'jstack', 'thread'],
  database: ['数据库', 'mysql', 'rds', 'mariadb', 'aurora', 'database', ' db '],
  connections: ['连接', '连接数', 'connection', 'connections', 'too many connections'],
  pool: ['连接池', '池', 'pool', 'hikari', 'pooling'],
  exhausted: ['到顶', '顶满', 'maxed out', 'at its ceiling', 'ceiling', 'full', '耗尽', '打满', '用尽', '占满', '满了', '上限', 'exhaust', 'exhausted', 'max_connections', 'limit reached', 'saturat', 'ran out'],
  leak: ['never released', 'not freed', '不释放', '泄漏', '泄露', '未释放', '没有释放', 'leak', 'leaking', 'not released', 'not closed'],
  slow_query: ['慢查询', '慢 sql', 'slow query', 'slow queries', 'long transaction', '长事务', 'full table scan', '全表扫描'],
  idle_kill: ['空闲连接', 'sleep', '清理连接', 'kill', 'idle'],
  redis: ['redis', 'elasticache', '缓存', 'cache'],
  memory: ['缓冲', 'buffer', 'buffers', '内存', 'memory', 'mem ', 'ram', 'heap', '堆'],
  eviction: ['驱逐', '淘汰', 'evict', 'eviction', 'evicted'],
  big_key: ['大 key', '大key', 'big key', 'bigkey', 'large key'],
  scale_up: ['扩容', '升配', '扩大', '加节点', 'scale up', 'scale out', 'scale-up', 'upsize', 'larger node', 'node type', 'resize'],
  replicas: ['扩缩容', '伸缩', '弹性', '副本', '实例数', 'pod 数', 'replica', 'replicas', 'hpa', 'autoscal', '自动伸缩'],
  kafka: ['offset', 'offsets', 'partition', '分区', 'kafka', 'msk', '消息队列', '消息', 'topic', 'queue'],
  consumer_lag: ['不前进', 'not moving', 'stuck', '积压', '堆积', '消费延迟', '消费滞后', 'lag', 'backlog', 'consumer lag', 'offset lag'],
  consumer: ['消费者', '消费组', 'consumer', 'consumer group'],
  oom: ['oom', 'oomkilled', '内存溢出', '内存不足', 'out of memory', 'killed'],
  restart: ['重启', '重新启动', 'restart', 'restarted', 'crashloop', 'crash loop', 'crashloopbackoff', '崩溃'],
  memory_limit: ['内存限制', 'memory limit', 'resources.limits', '调大内存', 'raise the memory'],
  certificate: ['证书', 'tls', 'ssl', 'certificate', 'cert', 'x509', 'https'],
  expiry: ['过期', '到期', '失效', 'expire', 'expiry', 'expired', 'expiring'],
  renew: ['续期', '更新证书', '续签', 'renew', 'renewal', 'rotate', 'rotation'],
  error_rate: ['错误率', '报错', '5xx', '500', 'error rate', 'errors', 'failures', '失败率'],
  timeout: ['超时', 'timeout', 'timed out', 'time out'],
  cpu: ['cpu', '处理器', '算力'],
  dns: ['dns', '域名解析', 'nxdomain', 'coredns'],
  network: ['网络', '丢包', '抖动', 'network', 'packet loss', 'jitter'],
  disk: ['磁盘', '存储', 'disk', 'storage', 'iops', 'volume'],
  config: ['配置', '参数', 'config', 'configuration', 'setting', 'parameter'],
  feature_flag: ['降级', '功能开关', '关闭功能', 'degrade', 'feature flag', 'disable feature', 'kill switch'],
  wallet: ['钱包', '提币', '充值', 'wallet', 'withdrawal', 'deposit'],
  settlement: ['清算', '结算', 'settlement', 'clearing'],
  market_data: ['行情数据', '行情推送', 'market data', 'market-data', 'ticker', 'order book', '盘口', '深度'],
  order: ['订单', '下单', 'order', 'orders', 'order-service'],
  api_gateway: ['网关', 'api gateway', 'alb', 'load balancer', '负载均衡', 'nginx', 'ingress'],
  node: ['节点', 'node', 'nodes', 'ec2', '宿主机'],
  trading_pair: ['交易对', 'trading pair', 'btc', 'eth', 'usdt'],
  bot: ['机器人', '爬虫', '刷单', 'bot', 'scraper', 'abusive client'],
  index: ['索引', 'index', 'missing index'],
  lock: ['加锁', '锁顺序', 'lock order', '锁', '死锁', '锁等待', 'lock', 'deadlock', 'lock wait'],
  replication: ['从库', '主库', 'read replica', 'primary', 'behind the primary', 'replica', '复制', '主从延迟', '同步延迟', 'replica lag', 'replication'],
  api: ['接口', 'api', 'endpoint', '请求'],
  duplicate: ['重复', '重试', 'duplicate', 'duplicates', 'retry', 'retries', 'retry storm'],
  stuck: ['卡住', '卡在', '停滞', '阻塞', 'stuck', 'hang', 'hung', 'blocked', 'blocking'],
  migration: ['迁移', '数据迁移', 'migration', 'backfill'],
  misconfig: ['拼写错误', '配置错误', '写错', 'typo', 'misconfig', 'misspelled', 'wrong config'],
  blockchain: ['区块', '链上', '以太坊', '比特币节点', '全节点', 'block', 'blocks', 'blockchain', 'eth', 'full node', 'out of sync', '同步落后'],
  external_dependency: ['外部', '第三方', '汇率', 'external', 'third party', 'third-party', 'fx rate', 'upstream'],
  sync_call: ['同步调用', 'synchronous', 'synchronously', 'blocking call'],
  batch_job: ['批任务', '批处理', '批量', '定时任务', '对账', 'batch', 'job', 'cron', 'reconciliation', 'nightly'],
  health_check: ['健康检查', '探活', 'health check', 'healthcheck', 'probe', '502'],
  market_maker: ['做市', '做市商', 'market maker', 'market-maker'],
  audit_log: ['审计日志', '日志', 'audit log', 'logging', 'log', 'logs'],
  noisy_neighbour: ['抢占', '同机', '同一台', '同一节点', 'noisy neighbour', 'noisy neighbor', 'co-located', 'cpu steal'],
  fee: ['手续费', '费率', 'fee', 'fees'],
  promotion: ['促销', '活动', '大促', 'promotion', 'campaign', 'sale'],
  listing: ['上币', '新币', '上线公告', 'listing', 'new token', 'announcement'],
  slow_client: ['慢客户端', '客户端', 'slow client', 'slow clients', 'client'],
  unbounded: ['无上限', '没有上限', '不设上限', 'unbounded', 'without a cap', 'no cap', 'no limit', 'uncapped'],
  typo_key: ['key 名', '配置项', 'config key', 'setting name'],
};

/** The concept token of a group (one word for Intl.Segmenter: letters and underscores). */
export const conceptToken = (name: string) => `kbconcept${name.replace(/_/g, '')}`;

const SHORT = 3;

/** The concepts a text mentions (lower-cased substring matches; short English terms as whole words). */
export function conceptsOf(text: string): string[] {
  const lower = ` ${text.toLowerCase()} `;
  const found: string[] = [];
  for (const [name, terms] of Object.entries(CONCEPTS)) {
    if (terms.some((t) => (/^[a-z0-9 ]+$/.test(t.trim()) && t.trim().length <= SHORT ? new RegExp(`(^|[^a-z0-9])${t.trim()}([^a-z0-9]|$)`).test(lower) : lower.includes(t)))) found.push(name);
  }
  return found;
}

/** One concept token per concept the text mentions, space-separated. */
export function conceptTokens(text: string): string {
  return conceptsOf(text).map(conceptToken).join(' ');
}
