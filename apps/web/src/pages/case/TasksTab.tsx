import { Badge, Button, Group, Select, Stack, Table, TextInput } from '@mantine/core';
import { TASK_STATUSES, type TaskStatus } from '@vytis/contracts';
import { useState } from 'react';
import { useAddTask, useTaskStatus, useTasks } from '../../api/cases.ts';
import { humanize, localInputToIso } from '../../components/format.ts';
import { Problem } from '../../components/Problem.tsx';
import { Time } from '../../components/Time.tsx';
import { fieldError } from './shared.ts';

export function TasksTab({ caseId, canAdd }: { caseId: string; canAdd: boolean }) {
  const tasks = useTasks(caseId);
  const [title, setTitle] = useState('');
  const [due, setDue] = useState('');
  const add = useAddTask(caseId);
  const update = useTaskStatus(caseId);
  return (
    <Stack>
      {canAdd ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate(
              { title, ...(due ? { dueAt: localInputToIso(due) } : {}) },
              { onSuccess: () => setTitle('') },
            );
          }}
        >
          <Group align="flex-end">
            <TextInput
              label="New task"
              value={title}
              onChange={(e) => setTitle(e.currentTarget.value)}
              w={420}
              error={fieldError(add.error, 'title')}
            />
            <TextInput
              type="datetime-local"
              label="Due"
              value={due}
              onChange={(e) => setDue(e.currentTarget.value)}
            />
            <Button type="submit" disabled={!title.trim()} loading={add.isPending}>
              Add task
            </Button>
          </Group>
        </form>
      ) : null}
      <Problem error={tasks.error ?? update.error} />
      <Table data-testid="tasks">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Task</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Assignee</Table.Th>
            <Table.Th>Due</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {tasks.data?.items.map((t) => (
            <Table.Tr key={t.id}>
              <Table.Td className="wrap-anywhere">{t.title}</Table.Td>
              <Table.Td>
                <Select
                  aria-label={`Status of ${t.title}`}
                  size="xs"
                  w={140}
                  data={TASK_STATUSES.map((s) => ({ value: s, label: humanize(s) }))}
                  value={t.status}
                  onChange={(v) => v && update.mutate({ task: t, status: v as TaskStatus })}
                  disabled={!t.can.changeStatus}
                />
              </Table.Td>
              <Table.Td>{t.assignee ? `${t.assignee.name} (${t.assignee.party})` : '—'}</Table.Td>
              <Table.Td>
                <Time at={t.dueAt} />{' '}
                {t.clock === 'overdue' || t.clock === 'missed' ? (
                  <Badge color="red" size="xs">
                    {t.clock}
                  </Badge>
                ) : t.clock === 'due-soon' ? (
                  <Badge color="orange" size="xs">
                    due soon
                  </Badge>
                ) : null}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
