/**
 * The investigation's optional LLM summary (issue 13): the Bedrock adapter at the SDK boundary
 * (aws-sdk-client-mock on the Converse API), the bound and the note of `summarizeInvestigation`,
 * and the investigate function's wiring from its environment. No network.
 */
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { BedrockSummarizer } from '../../../lib/analysis/bedrock-summary';
import { llmSummaryOf, MAX_SUMMARY_CHARS, summarizeInvestigation, SummaryError, summaryPrompt, SUMMARY_INSTRUCTIONS, type Summarizer, type SummaryInput } from '../../../lib/analysis/summary';
import type { InvestigationResult } from '../../../lib/analysis/types';
import { summarizerFromEnvironment } from '../../../lib/runtime/investigate-lambda';
import { EnvironmentError } from '../../../lib/runtime/errors';

const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const RESULT: InvestigationResult = {
  startedAt: '2026-12-07T12:15:00.000Z',
  completedAt: '2026-12-07T12:16:00.000Z',
  hypotheses: [
    { id: 'recent-deploy-rollback', statement: '部署 matching-engine v5.13.0 后异常开始', statementEn: 'the anomaly began after deploying matching-engine v5.13.0', confidence: 0.88, evidence: [{ label: 'deploy', value: 'v5.13.0', at: '2026-12-07T12:00:00.000Z', source: 'kube:replicasets' }], suggestion: '建议回滚' },
    { id: 'traffic-increase', statement: '流量上升', statementEn: 'traffic rose', confidence: 0.12, evidence: [] },
  ],
  trend: { metric: 'matching_engine_latency_p99', threshold: 0.1, status: 'crossing', etaSeconds: 420, points: 15 },
  risk: { score: 0.55, level: 'MEDIUM', factors: { stepRisk: 0.8 }, suggestion: '建议回滚' },
  similar: [{ incidentId: 'INC-20261101-004', score: 0.8, rootCause: 'a deploy', resolutionSteps: ['rollback'] }],
  checks: [{ name: 'resources', status: 'timed_out', error: 'no answer within 19 s' }],
};
const INPUT: SummaryInput = { incident: { id: 'INC-20261207-001', service: 'matching-engine', playbook: 'matching-engine-latency' }, result: RESULT };
const now = () => new Date('2026-12-07T12:16:02.000Z');

describe('BedrockSummarizer', () => {
  const bedrock = mockClient(BedrockRuntimeClient);
  beforeEach(() => bedrock.reset());
  afterAll(() => bedrock.restore());
  const summarizer = () => new BedrockSummarizer({ client: new BedrockRuntimeClient({ region: 'eu-west-1' }), modelId: MODEL });

  describe('Method: summarize', () => {
    it('sends one Converse call to the configured model: the rules as system prompt, the result as data, temperature 0, bounded tokens', async () => {
      // prepare
      bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: '部署后延迟上升。' }, { text: '\n\nLatency rose after the deploy.' }] } }, stopReason: 'end_turn' } as never);
      const controller = new AbortController();
      // act
      const text = await summarizer().summarize(INPUT, controller.signal);
      // assess
      expect(text).toBe('部署后延迟上升。\n\nLatency rose after the deploy.');
      const calls = bedrock.commandCalls(ConverseCommand);
      expect(calls).toHaveLength(1);
      const input = calls[0]!.args[0].input;
      expect(input.modelId).toBe(MODEL);
      expect(input.inferenceConfig).toEqual({ maxTokens: 400, temperature: 0 });
      expect(input.system).toEqual([{ text: SUMMARY_INSTRUCTIONS }]);
      expect(SUMMARY_INSTRUCTIONS).toContain('do not recommend any action beyond the "suggestion" of the given hypotheses');
      expect(SUMMARY_INSTRUCTIONS).toContain('do not approve, reject or decide anything');
      expect(SUMMARY_INSTRUCTIONS).toMatch(/Simplified Chinese.*English/);
      expect(input.messages).toEqual([{ role: 'user', content: [{ text: summaryPrompt(INPUT) }] }]);
      // the call can be cut: the signal goes to the SDK
      expect(((calls[0]!.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined)?.abortSignal).toBe(controller.signal);
    });

    it('gives the model the hypotheses with their confidence and evidence, the trend, the risk, similar incidents, and checks without an answer', () => {
      const facts = JSON.parse(summaryPrompt(INPUT).replace(/^<investigation>\n|\n<\/investigation>$/g, '')) as Record<string, unknown>;
      expect(facts).toMatchObject({
        incident: INPUT.incident,
        hypotheses: [{ id: 'recent-deploy-rollback', confidence: 0.88, suggestion: '建议回滚', evidence: RESULT.hypotheses[0]!.evidence }, { id: 'traffic-increase', confidence: 0.12 }],
        trend: RESULT.trend,
        risk: { level: 'MEDIUM', score: 0.55, suggestion: '建议回滚' },
        similarIncidents: RESULT.similar,
        checksWithoutAnswer: ['resources'],
      });
    });

    it('marks a text cut at the token bound', async () => {
      bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: '部署后延迟' }] } }, stopReason: 'max_tokens' } as never);
      expect(await summarizer().summarize(INPUT, new AbortController().signal)).toBe('部署后延迟…');
    });

    it('throws SummaryError naming the model when Bedrock refuses, and when it answers no text', async () => {
      bedrock.on(ConverseCommand).rejectsOnce(Object.assign(new Error('You don\'t have access to the model with the specified model ID.'), { name: 'AccessDeniedException' }));
      await expect(summarizer().summarize(INPUT, new AbortController().signal)).rejects.toEqual(expect.objectContaining({ name: 'SummaryError', model: MODEL, message: "LLM summary by anthropic.claude-3-haiku-20240307-v1:0: Bedrock Converse failed: AccessDeniedException: You don't have access to the model with the specified model ID." }));
      bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [] } }, stopReason: 'guardrail_intervened' } as never);
      await expect(summarizer().summarize(INPUT, new AbortController().signal)).rejects.toThrow(`LLM summary by ${MODEL}: Bedrock Converse answered no text (stopReason guardrail_intervened)`);
    });

    it('refuses an unbounded maxTokens', () => {
      expect(() => new BedrockSummarizer({ client: new BedrockRuntimeClient({}), modelId: MODEL, maxTokens: 100_000 })).toThrow(SummaryError);
    });
  });
});

describe('summarizeInvestigation', () => {
  const fake = (summarize: Summarizer['summarize']): Summarizer => ({ model: MODEL, source: `Bedrock ${MODEL}`, summarize });

  it('stores the text with model, time and label', async () => {
    const out = await summarizeInvestigation(fake(async () => '  摘要。\n\nSummary.  '), INPUT, { now });
    expect(out).toEqual({ llmSummary: { model: MODEL, text: '摘要。\n\nSummary.', generatedAt: '2026-12-07T12:16:02.000Z', label: `LLM summary (Bedrock ${MODEL}), advisory; decides nothing` } });
  });

  it(`cuts a text longer than ${MAX_SUMMARY_CHARS} characters`, async () => {
    const out = await summarizeInvestigation(fake(async () => 'x'.repeat(5000)), INPUT, { now });
    expect('llmSummary' in out && out.llmSummary.text.length).toBe(MAX_SUMMARY_CHARS);
  });

  it.each([
    ['an error', async () => Promise.reject(new Error('socket hang up')), 'LLM summary by anthropic.claude-3-haiku-20240307-v1:0: socket hang up'],
    ['an empty answer', async () => '   ', 'LLM summary by anthropic.claude-3-haiku-20240307-v1:0: the answer has no text'],
    ['no answer in time', () => new Promise<string>(() => undefined), 'LLM summary by anthropic.claude-3-haiku-20240307-v1:0: no answer within 0.05 s'],
  ])('turns %s into a note, never a throw', async (_case, summarize, why) => {
    const out = await summarizeInvestigation(fake(summarize as Summarizer['summarize']), INPUT, { now, timeoutMs: 50 });
    expect(out).toEqual({ llmSummaryNote: `LLM summary (Bedrock ${MODEL}), advisory; decides nothing: not generated (${why}); the investigation is complete without it` });
  });
});

describe('llmSummaryOf', () => {
  it('reads a stored summary, labels one stored without its label, and ignores a malformed one', () => {
    expect(llmSummaryOf({ llmSummary: { model: MODEL, text: 't', generatedAt: 'g' } })?.label).toBe(`LLM summary (Bedrock ${MODEL}), advisory; decides nothing`);
    expect(llmSummaryOf({ llmSummary: { model: MODEL, text: 42 } })).toBeUndefined();
    expect(llmSummaryOf(undefined)).toBeUndefined();
  });
});

describe('summarizerFromEnvironment (the investigate function)', () => {
  it('is off without INVESTIGATION_SUMMARY_MODEL_ID', () => {
    expect(summarizerFromEnvironment({})).toBeUndefined();
  });

  it('names the model from the variable', () => {
    expect(summarizerFromEnvironment({ INVESTIGATION_SUMMARY_MODEL_ID: MODEL })).toMatchObject({ model: MODEL, source: `Bedrock ${MODEL}` });
  });

  it('refuses a value that is not a model id, naming the variable', () => {
    const bad = () => summarizerFromEnvironment({ INVESTIGATION_SUMMARY_MODEL_ID: 'arn:aws:bedrock:eu-west-1::foundation-model/x' });
    expect(bad).toThrow(EnvironmentError);
    expect(bad).toThrow(/INVESTIGATION_SUMMARY_MODEL_ID: a Bedrock foundation model id/);
  });
});
