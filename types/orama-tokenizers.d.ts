/**
 * @orama/tokenizers publishes its types only through package.json `exports`, which this
 * project's `moduleResolution: node` does not read; the declaration of the one entry we use,
 * as in node_modules/@orama/tokenizers/dist/commonjs/mandarin.d.ts.
 */
declare module '@orama/tokenizers/mandarin' {
  import type { DefaultTokenizer, DefaultTokenizerConfig } from '@orama/orama';
  export function createTokenizer(config?: DefaultTokenizerConfig & { language: 'mandarin' }): DefaultTokenizer;
}

/** Likewise for @orama/orama's `./components` entry (its default tokenizer, with the English stemmer). */
declare module '@orama/orama/components' {
  import type { DefaultTokenizer, DefaultTokenizerConfig } from '@orama/orama';
  export const tokenizer: { createTokenizer(config?: DefaultTokenizerConfig): DefaultTokenizer };
}
