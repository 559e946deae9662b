import { deploymentDoc } from './deployment.doc.ts';
import { intentDoc } from './intent.doc.ts';
import { intentOutcomeDoc } from './intent-outcome.doc.ts';
import type { LoopObjectType, LoopType } from './loop-types.ts';
import { registryDoc } from './registry.doc.ts';
import { requestDoc } from './request.doc.ts';
import { responderDoc } from './responder.doc.ts';
import { revocationsDoc } from './revocations.doc.ts';

/** Every document type of the loop, by type. */
export const LOOP_TYPES: Readonly<Record<LoopObjectType, LoopType>> = {
  registry: registryDoc,
  request: requestDoc,
  responder: responderDoc,
  deployment: deploymentDoc,
  revocations: revocationsDoc,
  intent: intentDoc,
  intent_outcome: intentOutcomeDoc,
};
