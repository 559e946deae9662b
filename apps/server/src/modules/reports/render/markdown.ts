import type { ReportBlock, ReportLayout, ReportSignature, Tlp } from '@vytis/contracts';
import { printedTime } from '../printed-time.ts';
import { signatureRows } from './signature-rows.ts';

/**
 * A report as CommonMark (with GFM pipe tables). Every string of the layout is escaped so that it
 * reads back as the same literal text: an author's `# x`, `<script>` or `[a](javascript:…)` shows
 * as those characters, never as a heading, raw HTML or a link.
 */

/** Built from a fixed table, never from the layout's string, so the label cannot carry markup. */
const TLP_LABELS: Record<Tlp, string> = {
  clear: 'TLP:CLEAR',
  green: 'TLP:GREEN',
  amber: 'TLP:AMBER',
  'amber+strict': 'TLP:AMBER+STRICT',
  red: 'TLP:RED',
};

/**
 * Every character that starts or ends an inline construct (emphasis, code, links, autolinks, raw
 * HTML, entities, GFM strikethrough and table pipes, GitHub's `$` math) or a block at the start of
 * a line (`#`, `>`, `-`, `+`, `*`, `=` of a setext heading, `1.` and `1)` of a list, fences). All are
 * ASCII punctuation, which CommonMark lets a backslash escape anywhere, so escaping every one is
 * simpler and safer than judging where each would matter.
 */
// `:` and `@` too: GFM's autolinks need them (`http://…`, `a@b`), so an escaped one stays text.
const SPECIAL = /[\\`*_{}[\]<>()#+\-.!|~&=$:@]/g;
/** Bidirectional controls could reorder what a reader sees (text spoofing): they are shown, not obeyed. */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

function escapeLine(line: string): string {
  // Leading whitespace is dropped: four spaces would start a code block. Trailing whitespace too:
  // two spaces would be a hard break we did not mean.
  return line
    .trim()
    .replace(SPECIAL, '\\$&')
    .replace(BIDI_CONTROLS, (c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase()}`);
}

/**
 * Plain text as Markdown that renders as exactly that text: punctuation escaped, a blank line kept
 * as a paragraph break, a single line break kept as a hard break (`\` at the end of the line).
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n\s*/)
    .map((paragraph) =>
      paragraph
        .split('\n')
        .map(escapeLine)
        .filter((line) => line !== '')
        .join('\\\n'),
    )
    .filter((paragraph) => paragraph !== '')
    .join('\n\n');
}

/** One line of text: for headings and table cells, where a line break cannot be. */
function escapeInline(text: string): string {
  return escapeMarkdown(text.replace(/\s+/g, ' '));
}

/** Rows as wide as the widest, so every row has the header's number of columns. */
function squared(columns: string[], rows: string[][]): { head: string[]; body: string[][] } {
  const width = Math.max(columns.length, ...rows.map((row) => row.length));
  const pad = (row: string[]) => [...row, ...Array<string>(width - row.length).fill('')];
  return { head: pad(columns), body: rows.map(pad) };
}

/** A GFM pipe table; `\|` inside a cell is an escaped pipe, so cells never split. */
function pipeTable(head: string[], body: string[][]): string {
  const row = (cells: string[]) => `| ${cells.map(escapeInline).join(' | ')} |`;
  const rule = `| ${head.map(() => '---').join(' | ')} |`;
  return [row(head), rule, ...body.map(row)].join('\n');
}

function fieldsTable(rows: { label: string; value: string }[]): string {
  return pipeTable(
    ['Field', 'Value'],
    rows.map((r) => [r.label, r.value]),
  );
}

function tableBlock(columns: string[], rows: string[][], note: string | undefined): string {
  const { head, body } = squared(columns, rows);
  const parts: string[] = [];
  if (head.length > 0) parts.push(pipeTable(head, body));
  if (body.length === 0) parts.push('*(no entries)*');
  const noteText = escapeInline(note ?? '');
  if (noteText) parts.push(`*${noteText}*`);
  return parts.join('\n\n');
}

function block(b: ReportBlock): string {
  switch (b.type) {
    case 'heading':
      return `## ${escapeInline(b.text)}`;
    case 'fields':
      return b.rows.length > 0 ? fieldsTable(b.rows) : '';
    case 'table':
      return tableBlock(b.columns, b.rows, b.note);
    case 'text':
      return `### ${escapeInline(b.title)}\n\n${escapeMarkdown(b.text) || '*(not written yet)*'}`;
  }
}

function signatureBlock(signature: ReportSignature | null): string {
  if (!signature) return '## Signature\n\n**Not signed: this is a draft**';
  return `## Signature\n\n${fieldsTable(signatureRows(signature))}`;
}

export function renderReportMarkdown(layout: ReportLayout): string {
  const label = `**${TLP_LABELS[layout.tlp]}**`;
  const parts = [label, `# ${escapeInline(layout.title)}`];
  const subtitle = escapeInline(layout.subtitle);
  if (subtitle) parts.push(`*${subtitle}*`);
  if (layout.status === 'draft')
    parts.push(
      '> **DRAFT — not submitted.** This report is a draft: it has not been submitted and is not signed.',
    );
  parts.push(
    `Request ${escapeInline(layout.requestId)}\\\nPrepared ${escapeInline(printedTime(layout.preparedAt))}`,
  );
  parts.push(
    ...layout.blocks.map(block).filter((part) => part !== ''),
    signatureBlock(layout.signature),
    label,
  );
  return `${parts.join('\n\n')}\n`;
}
