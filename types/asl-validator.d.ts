// asl-validator 4 ships no type declarations; this is the part of its API we use.
declare module 'asl-validator' {
  interface AslValidationResult {
    isValid: boolean;
    errors: { 'Error code': string; Message: string; path?: string }[];
  }
  function validator(definition: object, options?: { checkPaths?: boolean; checkArn?: boolean }): AslValidationResult;
  export default validator;
}
