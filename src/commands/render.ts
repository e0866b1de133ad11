import type { RoomId } from '../state/ids.js';
import type { RoomInfo } from '../state/room-info.js';

/** The content of every message the bot sends in answer to a command. */
export interface Reply {
  body: string;
  formatted_body: string;
  format: 'org.matrix.custom.html';
  msgtype: 'm.notice';
}

/**
 * A piece of a line. Every string that reaches a reply goes through one of these, and every one
 * of them is cleaned and escaped: there is deliberately no way to put raw HTML into a reply, so a
 * room name, topic, display name or argument can never turn into markup.
 */
export type Inline =
  | string
  | { readonly kind: 'strong'; readonly text: string }
  | { readonly kind: 'code'; readonly text: string };

/** A block of a reply: a line of text, or a list of lines. */
export type Block =
  | { readonly kind: 'line'; readonly parts: readonly Inline[] }
  | { readonly kind: 'list'; readonly ordered: boolean; readonly start: number; readonly items: readonly (readonly Inline[])[] };

/** Text shown in bold. */
export function strong(text: string): Inline {
  return { kind: 'strong', text };
}

/** Text shown as code: ids, aliases, commands. */
export function code(text: string): Inline {
  return { kind: 'code', text };
}

/** One line of a reply. */
export function line(...parts: Inline[]): Block {
  return { kind: 'line', parts };
}

/** A bulleted list, one item per entry. */
export function bullets(items: readonly (readonly Inline[])[]): Block {
  return { kind: 'list', ordered: false, start: 1, items };
}

/** A numbered list whose first item has the number `start`. */
export function numbered(items: readonly (readonly Inline[])[], start = 1): Block {
  return { kind: 'list', ordered: true, start, items };
}

const htmlEscapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for use in HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => htmlEscapes[c] ?? c);
}

// C0/C1 controls (a newline in a room name could fake extra lines of a reply) and the bidi
// overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can make text read backwards.
// eslint-disable-next-line no-control-regex
const unsafeChars = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g;

/** Longest untrusted string shown in a reply; room names and topics can be long. */
export const MAX_SHOWN_CHARS = 300;

/** Makes an untrusted string safe to show on one line: controls become spaces, long text is cut. */
export function cleanText(text: string, max = MAX_SHOWN_CHARS): string {
  const flat = text.replace(unsafeChars, ' ');
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join('')}…`;
}

function inlineText(part: Inline): string {
  return typeof part === 'string' ? cleanText(part) : cleanText(part.text);
}

function inlineHtml(part: Inline): string {
  if (typeof part === 'string') return escapeHtml(cleanText(part));
  const inner = escapeHtml(cleanText(part.text));
  return part.kind === 'strong' ? `<strong>${inner}</strong>` : `<code>${inner}</code>`;
}

function blockText(block: Block): string {
  if (block.kind === 'line') return block.parts.map(inlineText).join('');
  return block.items
    .map((item, i) => `${block.ordered ? `${block.start + i}.` : '•'} ${item.map(inlineText).join('')}`)
    .join('\n');
}

function blockHtml(block: Block): string {
  if (block.kind === 'line') return block.parts.map(inlineHtml).join('');
  const items = block.items.map((item) => `<li>${item.map(inlineHtml).join('')}</li>`).join('');
  if (!block.ordered) return `<ul>${items}</ul>`;
  return block.start === 1 ? `<ol>${items}</ol>` : `<ol start="${block.start}">${items}</ol>`;
}

/** Builds a reply from blocks: plain text with one block per line, HTML with `<br>` between lines. */
export function reply(...blocks: Block[]): Reply {
  const body = blocks.map(blockText).join('\n');
  let html = '';
  blocks.forEach((block, i) => {
    const previous = blocks[i - 1];
    // Lists are block elements and break the line themselves; two lines in a row need a <br>.
    if (previous?.kind === 'line' && block.kind === 'line') html += '<br>';
    html += blockHtml(block);
  });
  return { body, formatted_body: html, format: 'org.matrix.custom.html', msgtype: 'm.notice' };
}

/** A one-line reply. */
export function replyLine(...parts: Inline[]): Reply {
  return reply(line(...parts));
}

/** What a room is called in replies: its name, else its canonical alias, else its id. */
export function roomLabel(roomId: RoomId, info: RoomInfo | undefined): string {
  const name = info?.name?.trim();
  if (name) return name;
  const alias = info?.canonicalAlias?.trim();
  return alias ? alias : roomId;
}

/** `1 member`, `2 members`: a count with its noun, plural when it is not one. */
export function countOf(n: number, noun: string, plural = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : plural}`;
}

/** A duration in the largest two units that fit: `3d 4h`, `5m 12s`, `0s`. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const units: [string, number][] = [
    ['d', Math.floor(total / 86_400)],
    ['h', Math.floor(total / 3_600) % 24],
    ['m', Math.floor(total / 60) % 60],
    ['s', total % 60],
  ];
  const first = units.findIndex(([, v]) => v > 0);
  if (first === -1) return '0s';
  return units
    .slice(first, first + 2)
    .filter(([, v]) => v > 0)
    .map(([u, v]) => `${v}${u}`)
    .join(' ');
}

/** A moment as `2024-05-01 12:00 UTC (3d 4h ago)`, relative to `now`. */
export function formatWhen(ms: number, now: number): string {
  const iso = new Date(ms).toISOString();
  const absolute = `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
  const delta = now - ms;
  if (delta < 0) return `${absolute} (in ${formatDuration(-delta)})`;
  return `${absolute} (${formatDuration(delta)} ago)`;
}

/** A byte count in binary units: `512 B`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}
