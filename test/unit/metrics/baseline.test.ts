/** The baseline function's logic (lib/metrics/baseline.ts) at the AWS SDK boundary (aws-sdk-client-mock). */
import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { baselineTargets, publishBaselines } from '../../../lib/metrics/baseline';
import { detectionAlarms } from '../../../lib/metrics/detection';
import { defaultCatalogue } from '../../../lib/playbook/catalogue-file';

const cw = mockClient(CloudWatchClient);
const NOW = new Date('2026-03-09T12:00:42.000Z');
const { alarms } = detectionAlarms({ playbook: 'traffic-surge', service: 'trading-api', detection: { primary: ['api_request_rate > baseline * 3', 'api_request_rate > baseline * 5 for 2min', 'websocket_connections > baseline * 2'] } }, defaultCatalogue());

beforeEach(() => cw.reset());

describe('Function: baselineTargets', () => {
  it('lists each metric and dimensions once, with the catalogue baseline and the metric’s own statistic', () => {
    expect(baselineTargets(alarms)).toEqual([
      { metric: 'api_request_rate', namespace: 'Exchange/TradingAPI', metricName: 'RequestCount', dimensions: { service: 'trading-api' }, stat: 'Sum', period: 60, unit: 'Count/Second', offsetSeconds: 604800, windowSeconds: 3600 },
      { metric: 'websocket_connections', namespace: 'Exchange/MarketData', metricName: 'WebSocketConnections', dimensions: { service: 'trading-api' }, stat: 'Maximum', period: 60, unit: 'Count', offsetSeconds: 604800, windowSeconds: 3600 },
    ]);
  });
});

describe('Function: publishBaselines', () => {
  it('reads the hour centred a week before the current minute and publishes its mean at that minute', async () => {
    // prepare
    cw.on(GetMetricDataCommand).callsFake((input: { MetricDataQueries: { MetricStat: { Metric: { MetricName: string } } }[] }) => ({
      MetricDataResults: [{ Values: input.MetricDataQueries[0]!.MetricStat.Metric.MetricName === 'RequestCount' ? [900, 1100, 1000] : [] }],
    }));
    cw.on(PutMetricDataCommand).resolves({});
    // act
    const run = await publishBaselines(baselineTargets(alarms), new CloudWatchClient({}), NOW);
    // assess
    const get = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
    expect([get.StartTime, get.EndTime]).toEqual([new Date('2026-03-02T11:30:00.000Z'), new Date('2026-03-02T12:30:00.000Z')]);
    expect(get.MetricDataQueries?.[0]?.MetricStat).toEqual({ Metric: { Namespace: 'Exchange/TradingAPI', MetricName: 'RequestCount', Dimensions: [{ Name: 'service', Value: 'trading-api' }] }, Period: 60, Stat: 'Sum' });
    expect(cw.commandCalls(PutMetricDataCommand)[0]!.args[0].input).toEqual({
      Namespace: 'SreAgent/Baseline',
      MetricData: [{ MetricName: 'api_request_rate', Dimensions: [{ Name: 'service', Value: 'trading-api' }], Timestamp: new Date('2026-03-09T12:00:00.000Z'), Value: 1000, Unit: 'Count/Second' }],
    });
    // No data a week ago: nothing published (the alarm sees no data, never a zero baseline).
    expect(run.missing).toEqual(['websocket_connections {"service":"trading-api"}']);
  });

  it('fails naming the baseline when CloudWatch refuses the read', async () => {
    cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }));
    await expect(publishBaselines(baselineTargets(alarms), new CloudWatchClient({}), NOW)).rejects.toMatchObject({ name: 'MetricError', metric: 'api_request_rate', message: 'baseline of api_request_rate: GetMetricData failed: User is not authorized' });
  });
});
