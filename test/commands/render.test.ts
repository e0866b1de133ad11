import { describe, expect, it } from 'vitest';
import {
  cleanText,
  code,
  escapeHtml,
  formatBytes,
  formatDuration,
  formatWhen,
  line,
  numbered,
  reply,
  roomLabel,
  strong,
} from '../../src/commands/render.js';
import { rid } from './fake-rooms.js';

describe('render', () => {
  it('produces an m.notice with an HTML body', () => {
    expect(reply(line('hi'))).toEqual({ body: 'hi', formatted_body: 'hi', format: 'org.matrix.custom.html', msgtype: 'm.notice' });
  });

  it('escapes markup in every kind of text part', () => {
    const r = reply(line('<b>', strong('<i>'), code('"&\'')));
    expect(r.formatted_body).toBe('&lt;b&gt;<strong>&lt;i&gt;</strong><code>&quot;&amp;&#39;</code>');
  });

  it('keeps the plain body unescaped', () => {
    expect(reply(line('<b>', strong('x'))).body).toBe('<b>x');
  });

  it('renders a numbered list as numbered lines and an ordered list', () => {
    const r = reply(line('Rooms:'), numbered([['a'], ['b']], 3));
    expect(r.body).toBe('Rooms:\n3. a\n4. b');
    expect(r.formatted_body).toBe('Rooms:<ol start="3"><li>a</li><li>b</li></ol>');
  });

  it('separates consecutive lines with <br> in HTML', () => {
    expect(reply(line('a'), line('b')).formatted_body).toBe('a<br>b');
  });

  it('flattens newlines and direction overrides when a string carries them', () => {
    expect(cleanText('a\nb\u202ec')).toBe('a b c');
  });

  it('cuts a long string with an ellipsis', () => {
    expect(cleanText('abcdef', 4)).toBe('abc…');
  });

  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });

  it('labels a room by name, then alias, then id', () => {
    const roomId = rid('!x:hs');
    expect(roomLabel(roomId, { roomId, name: 'N', canonicalAlias: '#a:hs', encrypted: false, updatedAt: 0 })).toBe('N');
    expect(roomLabel(roomId, { roomId, name: ' ', canonicalAlias: '#a:hs', encrypted: false, updatedAt: 0 })).toBe('#a:hs');
    expect(roomLabel(roomId, undefined)).toBe('!x:hs');
  });

  it('formats durations in the two largest units', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(90_000)).toBe('1m 30s');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 5_000)).toBe('3d 4h');
    expect(formatDuration(86_400_000 + 60_000)).toBe('1d');
  });

  it('formats a moment relative to now', () => {
    const now = Date.UTC(2024, 4, 1, 12, 0);
    expect(formatWhen(now - 7_200_000, now)).toBe('2024-05-01 10:00 UTC (2h ago)');
  });

  it('formats byte counts in binary units', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536 * 1024)).toBe('1.5 MiB');
  });
});
