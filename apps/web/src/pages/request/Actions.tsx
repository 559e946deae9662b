import { Button, Group } from '@mantine/core';
import type { AssistanceRequest } from '@vytis/contracts';
import { Link } from 'react-router';
import { useRequestAct } from '../../api/requests.ts';
import { ConfirmAction } from '../../components/Confirm.tsx';
import { fmtTime } from '../../components/format.ts';

const councilOf = (r: AssistanceRequest) =>
  r.council ? `the council of ${r.council.electorate.join(', ')}` : 'the council';

/**
 * The acts on the request that the server offers this viewer (`r.can`), each behind a confirmation
 * that says what will happen and to whom; withdrawal says why. The post-action report has its own
 * page (pages/report), which submits it.
 */
export function RequestActions({ r }: { r: AssistanceRequest }) {
  const act = useRequestAct(r);
  const { can } = r;
  return (
    <Group gap="xs" data-testid="request-actions">
      {can.edit ? (
        <Button component={Link} to={`/requests/${r.id}/edit`} variant="default">
          Edit draft
        </Button>
      ) : null}
      {can.submit ? (
        <ConfirmAction
          label="Submit to the force"
          title="Submit this request to the force?"
          consequence={`Eligibility is decided from ${r.party}'s status today. If eligible, the request goes to the council of the participating states, which decides within the decision clock; the NIS2 clocks of the entity run from when it became aware (${fmtTime(r.awareAt)}). The draft can no longer be edited.`}
          confirmLabel="Submit"
          reason="optional"
          reasonLabel="Note to the council"
          onConfirm={(note) => act.mutateAsync({ kind: 'submit', note })}
        />
      ) : null}
      {can.withdraw ? (
        <ConfirmAction
          label="Withdraw"
          title="Withdraw this request?"
          consequence={`The request from ${r.party} is withdrawn for good: ${r.status === 'draft' ? 'it never goes to the council' : `${councilOf(r)} stops deciding, the force's clocks stop and a team being assembled is cancelled`}. The entity's NIS2 clocks run on.`}
          reason="required"
          danger
          onConfirm={(reason) => act.mutateAsync({ kind: 'withdraw', reason: reason ?? '' })}
        />
      ) : null}
      {can.standDown ? (
        <ConfirmAction
          label="Stand down"
          title="Stand the mission down?"
          consequence={`The team deployed for ${r.party} stands down: every responder's pass is revoked, and the post-action report is due within a month.`}
          reason="optional"
          danger
          onConfirm={(reason) => act.mutateAsync({ kind: 'stand-down', reason })}
        />
      ) : null}
      {can.report || can.editReport ? (
        <Button component={Link} to={`/requests/${r.id}/report`} variant={can.report ? 'filled' : 'default'}>
          {can.report ? 'Submit the post-action report' : 'Write the post-action report'}
        </Button>
      ) : null}
      {can.close ? (
        <ConfirmAction
          label="Close"
          title="Close this request?"
          consequence={`The force's work on the request from ${r.party} ends and its clocks stop; the entity's NIS2 clocks run on until its PoC records each filing.`}
          reason="optional"
          onConfirm={(reason) => act.mutateAsync({ kind: 'close', reason })}
        />
      ) : null}
    </Group>
  );
}
