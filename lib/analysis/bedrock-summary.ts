/**
 * The investigation's LLM summary on Amazon Bedrock (Converse API: one user message, the rules as
 * the system prompt, temperature 0, bounded output). Advisory only: see lib/analysis/summary.ts.
 * The SDK package is loaded at the first call (lib/runtime/lazy-sdk.ts).
 */
import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SUMMARY_INSTRUCTIONS, SummaryError, summaryPrompt, type SummaryInput, type Summarizer } from './summary';

export interface BedrockSummarizerOptions {
  readonly client: Pick<BedrockRuntimeClient, 'send'>;
  /** A Bedrock text model of the function's region that supports Converse (its id, not an ARN). */
  readonly modelId: string;
  /**
   * Output bound: two short paragraphs.
   * @default 400
   */
  readonly maxTokens?: number;
}

export class BedrockSummarizer implements Summarizer {
  public readonly model: string;
  public readonly source: string;
  private readonly maxTokens: number;

  public constructor(private readonly options: BedrockSummarizerOptions) {
    this.model = options.modelId;
    this.source = `Bedrock ${options.modelId}`;
    this.maxTokens = options.maxTokens ?? 400;
    if (!Number.isInteger(this.maxTokens) || this.maxTokens < 50 || this.maxTokens > 2000) throw new SummaryError(this.model, `maxTokens must be an integer in [50, 2000], got ${this.maxTokens}`);
  }

  public async summarize(input: SummaryInput, signal: AbortSignal): Promise<string> {
    const { ConverseCommand } = await import('@aws-sdk/client-bedrock-runtime');
    let out;
    try {
      out = await this.options.client.send(
        new ConverseCommand({
          modelId: this.model,
          system: [{ text: SUMMARY_INSTRUCTIONS }],
          messages: [{ role: 'user', content: [{ text: summaryPrompt(input) }] }],
          inferenceConfig: { maxTokens: this.maxTokens, temperature: 0 },
        }),
        { abortSignal: signal },
      );
    } catch (err) {
      throw new SummaryError(this.model, `Bedrock Converse failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
    const text = (out.output?.message?.content ?? [])
      .map((block) => block.text ?? '')
      .join('')
      .trim();
    if (!text) throw new SummaryError(this.model, `Bedrock Converse answered no text (stopReason ${out.stopReason ?? 'none'})`);
    return out.stopReason === 'max_tokens' ? `${text}…` : text;
  }
}
