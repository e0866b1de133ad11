import type { Change } from '../state/changes.js';

/** What one change says, on one line, for `roomkeeper inspect history`. */
export function describeChange(c: Change): string {
  const when = new Date(c.ts).toISOString();
  const head = `${c.cursor}  ${when}  ${c.roomId}  ${c.kind}`;
  switch (c.kind) {
    case 'room': {
      const users = c.users === undefined ? '' : ` ${Object.entries(c.users).map(([u, [a, b]]) => `${u} ${a ?? '-'}→${b ?? '-'}`).join(', ')}`;
      return `${head} ${c.field}: ${c.from ?? '-'} → ${c.to ?? '-'}${users} (${c.cause})`;
    }
    case 'rebuilt':
      return `${head} +${c.joined} joined, -${c.left} left, ${c.other} other${c.purged === true ? ', forgotten' : ''} (${c.cause})`;
    case 'profile': {
      const name = c.displayName === undefined ? '' : ` name ${c.displayName.from ?? '-'} → ${c.displayName.to ?? '-'}`;
      const avatar = c.avatarUrl === undefined ? '' : ` avatar ${c.avatarUrl.from ?? '-'} → ${c.avatarUrl.to ?? '-'}`;
      return `${head} ${c.userId}${name}${avatar} by ${c.sender} (${c.cause})`;
    }
    default: {
      const reason = c.reason === undefined ? '' : ` "${c.reason}"`;
      return `${head} ${c.userId} ${c.from} → ${c.to} by ${c.sender}${reason}${c.purged === true ? ', room forgotten' : ''} (${c.cause})`;
    }
  }
}

/** The text of `roomkeeper inspect history`: one change a line, newest first, and how many. */
export function describeHistory(changes: readonly Change[]): string {
  const lines = changes.map(describeChange);
  lines.push(`${changes.length} ${changes.length === 1 ? 'change' : 'changes'}, newest first`);
  return lines.join('\n') + '\n';
}
