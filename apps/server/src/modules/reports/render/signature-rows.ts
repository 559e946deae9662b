import type { ReportSignature } from '@vytis/contracts';

/** The signature block's rows, as both files print them. */
export function signatureRows(signature: ReportSignature): { label: string; value: string }[] {
  return [
    { label: 'Party', value: signature.party ?? 'none: a node of no party' },
    { label: 'Node', value: signature.nodeUrl || 'its public URL is not set' },
    { label: 'Key id (RFC 7638)', value: signature.keyId },
    { label: 'SHA-256', value: signature.sha256 },
    { label: 'Signature (Ed25519)', value: signature.signature },
    { label: 'Submitted at', value: signature.submittedAt },
    { label: 'Submitted by', value: signature.submittedBy },
  ];
}
