/**
 * The investigation's optional LLM summary in the stack (issue 13): `investigation.summaryModelId`
 * gives the investigate function alone the model's id and bedrock:InvokeModel on that model's ARN;
 * off by default; a bad value is refused at synth naming the field. Synthesized in memory, no
 * bundling, no AWS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../../bin/sre-agent';
import { CORE_FUNCTION_SPECS, type CoreFunctionName } from '../../../lib/infra/core-functions';
import { StackConfigError } from '../../../lib/infra/errors';
import type { SreAgentStack } from '../../../lib/infra/sre-agent-stack';
import { investigationSummaryEnvironmentSchema } from '../../../lib/runtime/environment';

const REPO = path.resolve(__dirname, '../../..');
const FIXTURE_MANIFEST = path.join(REPO, 'test/fixtures/infra/index.json');
const CDK_JSON_CONTEXT = (JSON.parse(fs.readFileSync(path.join(REPO, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
const BASE_CONFIG = (CDK_JSON_CONTEXT['sre-agent:config'] ?? {}) as Record<string, unknown>;
const MODEL = 'anthropic.claude-3-haiku-20240307-v1:0';
const OTHERS = (Object.keys(CORE_FUNCTION_SPECS) as CoreFunctionName[]).filter((n) => n !== 'investigate');

function synth(config: Record<string, unknown>): { stack: SreAgentStack; template: Template } {
  const { stack } = buildApp({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [], 'sre-agent:config': config }, manifestFile: FIXTURE_MANIFEST });
  return { stack, template: Template.fromStack(stack) };
}

interface Statement {
  readonly Action: string | string[];
  readonly Resource: unknown;
}

function view(stack: SreAgentStack, template: Template) {
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
  const fnOf = (name: CoreFunctionName) => stack.core.agentFunctionFor(name);
  const variables = (name: CoreFunctionName) => (json.Resources[stack.getLogicalId(fnOf(name).function.node.defaultChild as never)]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  const bedrockGrants = (name: CoreFunctionName): string[] => {
    const role = stack.getLogicalId(fnOf(name).role.node.defaultChild as never);
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: role }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .flatMap((st) => [st.Action].flat().filter((a) => a.startsWith('bedrock:')).flatMap((a) => [st.Resource].flat().map((r) => `${a} on ${JSON.stringify(r)}`)))
      .sort();
  };
  return { variables, bedrockGrants };
}

const modelArn = (id: string) => JSON.stringify({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':bedrock:', { Ref: 'AWS::Region' }, `::foundation-model/${id}`]] });

describe('the investigation LLM summary in the stack (cdk.json investigation.summaryModelId)', () => {
  describe('configured', () => {
    let stack: SreAgentStack;
    let v: ReturnType<typeof view>;
    beforeAll(() => {
      let template: Template;
      ({ stack, template } = synth({ ...BASE_CONFIG, investigation: { summaryModelId: MODEL } }));
      v = view(stack, template);
    }, 180_000);

    it('gives the investigate function the model id, which its schema parses, and InvokeModel on that model alone', () => {
      // GIVEN / WHEN: the stack above / THEN
      expect(v.variables('investigate').INVESTIGATION_SUMMARY_MODEL_ID).toBe(MODEL);
      expect(investigationSummaryEnvironmentSchema.parse(v.variables('investigate')).INVESTIGATION_SUMMARY_MODEL_ID).toBe(MODEL);
      expect(v.bedrockGrants('investigate')).toEqual([`bedrock:InvokeModel on ${modelArn(MODEL)}`]);
    });

    it.each(OTHERS)('%s gets neither the variable nor a Bedrock grant', (name) => {
      expect(v.variables(name).INVESTIGATION_SUMMARY_MODEL_ID).toBeUndefined();
      expect(v.bedrockGrants(name)).toEqual([]);
    });

    it('is cdk-nag AwsSolutions clean', () => {
      expect(new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(stack).violations).toEqual([]);
    });
  });

  it('is off by default: no variable, no Bedrock grant for the investigation', () => {
    const { stack, template } = synth(BASE_CONFIG);
    const v = view(stack, template);
    expect(v.variables('investigate').INVESTIGATION_SUMMARY_MODEL_ID).toBeUndefined();
    expect(v.bedrockGrants('investigate')).toEqual([]);
  }, 180_000);

  it.each([
    [{ summaryModelId: 'arn:aws:bedrock:eu-west-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0' }, 'sre-agent:config.investigation.summaryModelId: a Bedrock foundation model id'],
    [{ summaryModelId: 'Claude Haiku' }, 'sre-agent:config.investigation.summaryModelId: a Bedrock foundation model id'],
    [{ summaryModelId: 'amazon.titan-embed-text-v2:0' }, 'sre-agent:config.investigation.summaryModelId: a text model: an embedding or rerank model cannot write a summary'],
    [{ summaryModelId: MODEL, autoApprove: true }, 'sre-agent:config.investigation'],
  ])('refuses investigation %j at synth, naming the field', (investigation, field) => {
    expect(() => synth({ ...BASE_CONFIG, investigation })).toThrow(StackConfigError);
    expect(() => synth({ ...BASE_CONFIG, investigation })).toThrow(field);
  });
});
