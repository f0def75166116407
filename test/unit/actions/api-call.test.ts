/** api_call (seed scenario 2): the endpoint's answer is recorded, bounded, on the timeline and as an output. */
import { action, RESPONSE_BODY_LIMIT } from '../../../lib/actions/api_call';
import type { HttpOps } from '../../../lib/actions/ports';
import { actionContext } from '../../helpers/action-context';

const params = action.params.parse({ endpoint: 'matching-engine:8080/admin/gc' });
const answering = (status: number, body: string, truncated?: boolean): HttpOps => ({ request: async () => ({ status, body, ...(truncated ? { truncated } : {}) }) });

describe('api_call', () => {
  it('puts the response body in after and the response_body output', async () => {
    // act
    const r = await action.run(params, actionContext({ targets: { http: answering(200, '{"gc":"triggered","pause_ms":42}') } }));

    // assess
    expect(r.after).toEqual({ status: 200, body: '{"gc":"triggered","pause_ms":42}' });
    expect(r.outputs).toEqual({ response_status: 200, response_body: '{"gc":"triggered","pause_ms":42}' });
    expect(r.summary).toContain('→ 200: {"gc":"triggered","pause_ms":42}');
  });

  it(`keeps the first ${RESPONSE_BODY_LIMIT} characters of a longer body and says it was cut`, async () => {
    const r = await action.run(params, actionContext({ targets: { http: answering(200, 'x'.repeat(10_000)) } }));

    expect((r.outputs?.response_body as string).length).toBe(RESPONSE_BODY_LIMIT);
    expect(r.after).toMatchObject({ status: 200, bodyTruncated: true });
    expect((r.after as { body: string }).body).toHaveLength(RESPONSE_BODY_LIMIT);
  });

  it('says a body the adapter already cut was cut', async () => {
    const r = await action.run(params, actionContext({ targets: { http: answering(200, 'partial', true) } }));

    expect(r.after).toEqual({ status: 200, body: 'partial', bodyTruncated: true });
  });
});
