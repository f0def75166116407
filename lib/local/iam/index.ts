/** The local IAM check (issue 12, "IAM proven, not hoped"): handlers run under their synthesized roles. */
export { AccessDeniedError, IamCheckError, IamTemplateError, UnknownFunctionError, UnmappedCallError } from './errors';
export { authorizeLocal, currentCaller, IamCheck, installSdkHook, uninstallSdkHook } from './check';
export type { IamCheckOptions, IamDecision } from './check';
export { denialCode, iamRequests } from './requests';
export type { IamRequest, RequestWorld } from './requests';
export { FUNCTION_METADATA_KEY, readTemplate, stackFacts, synthesizeTemplate } from './template';
export type { CfnTemplate, FunctionRole, IamWorld, StackFacts } from './template';
