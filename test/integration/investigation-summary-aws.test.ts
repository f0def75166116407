/**
 * The investigation's LLM summary as the deployed investigate function wires it
 * (`summarizerFromEnvironment`, from its synthesized environment), its Bedrock Converse calls
 * (aws-sdk-client-mock) evaluated against the synthesized roles by the IAM check: allowed for the
 * investigate function on its model, denied on another model and to other functions. No AWS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { buildApp } from '../../bin/sre-agent';
import type { SummaryInput } from '../../lib/analysis/summary';
import { IamCheck, stackFacts } from '../../lib/local/iam';
import { summarizerFromEnvironment } from '../../lib/runtime/investigate-lambda';
import { deniedCalls } from '../helpers/iam';

const REPO = path.resolve(__dirname, '../..');
const FIXTURE_MANIFEST = path.join(REPO, 'test/fixtures/infra/index.json');
const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const BASE_CONFIG = (CDK_JSON_CONTEXT['sre-agent:config'] ?? {}) as Record<string, unknown>;
const WORLD = { environment: { INCIDENTS_TABLE: 'sre-agent-incidents', BREAKERS_TABLE: 'sre-agent-breakers', APPROVALS_TABLE: 'sre-agent-approvals', REPORTS_BUCKET: 'sre-agent-reports' } };
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const INPUT: SummaryInput = {
  incident: { id: 'INC-20261207-001', service: 'matching-engine', playbook: 'matching-engine-latency' },
  result: { startedAt: '2026-12-07T12:15:00.000Z', completedAt: '2026-12-07T12:16:00.000Z', hypotheses: [{ id: 'recent-deploy-rollback', statement: '部署后异常开始', statementEn: 'after a deploy', confidence: 0.88, evidence: [] }], similar: [], checks: [] },
};

describe('the investigation LLM summary under the synthesized roles', () => {
  let check: IamCheck;
  let bedrock: ReturnType<typeof mockClient>;
  beforeAll(() => {
    const { stack } = buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], 'sre-agent:config': { ...BASE_CONFIG, investigation: { summaryModelId: MODEL } } }, manifestFile: FIXTURE_MANIFEST });
    check = new IamCheck(stackFacts(Template.fromStack(stack).toJSON() as never, WORLD), { enforce: false });
  }, 180_000);
  beforeEach(() => {
    bedrock = mockClient(BedrockRuntimeClient);
    bedrock.on(ConverseCommand).resolves({ output: { message: { role: 'assistant', content: [{ text: '摘要。\n\nSummary.' }] } }, stopReason: 'end_turn' } as never);
  });
  afterEach(() => bedrock.restore());

  it('lets the investigate function, wired from its synthesized environment, ask its model: every call allowed', async () => {
    // prepare
    const summarizer = summarizerFromEnvironment(check.role('investigate').environment as NodeJS.ProcessEnv);
    // act
    const text = await summarizer!.summarize(INPUT, new AbortController().signal);
    // assess
    expect(text).toBe('摘要。\n\nSummary.');
    expect(bedrock.commandCalls(ConverseCommand).map((c) => c.args[0].input.modelId)).toEqual([MODEL]);
    expect(await deniedCalls(check, 'investigate', 'BedrockRuntimeClient', bedrock)).toEqual([]);
  });

  it('denies another model to the investigate function, and the model to other functions', async () => {
    await summarizerFromEnvironment({ INVESTIGATION_SUMMARY_MODEL_ID: 'anthropic.claude-3-5-sonnet-20240620-v1:0' })!.summarize(INPUT, new AbortController().signal);
    expect(await deniedCalls(check, 'investigate', 'BedrockRuntimeClient', bedrock)).toEqual(['bedrock:InvokeModel on arn:aws:bedrock:local::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0']);
    bedrock.resetHistory();
    await summarizerFromEnvironment({ INVESTIGATION_SUMMARY_MODEL_ID: MODEL })!.summarize(INPUT, new AbortController().signal);
    for (const fn of ['report', 'evaluate', 'approvalRequest']) expect(await deniedCalls(check, fn, 'BedrockRuntimeClient', bedrock)).toEqual([`bedrock:InvokeModel on arn:aws:bedrock:local::foundation-model/${MODEL}`]);
  });

  it('leaves the other functions without the variable: they could not build a summarizer', () => {
    for (const fn of ['report', 'evaluate', 'approvalRequest', 'trigger']) expect(summarizerFromEnvironment(check.role(fn).environment as NodeJS.ProcessEnv)).toBeUndefined();
  });
});
