import type { EventId } from './ids.js';
import type { MemberState, RoomInfo } from './room-info.js';
import { POWER_LEVEL_DEFAULTS } from './power-levels.js';
import { redactionKeepsMore } from './room-version.js';

/**
 * The spec's redaction algorithm (client-server API "Redactions", and each room version's
 * "Redactions" section), applied to the state roomkeeper keeps rather than to raw content: a
 * redacted event keeps only the content keys the algorithm preserves, and roomkeeper's state
 * for its (type, state_key) becomes what those keys say. Pure.
 *
 * A redaction changes state only when it targets the event that is current for its key; a
 * redacted event that was already replaced is history and changes nothing.
 */

/** The tracked state key whose current event is `target`, if any. */
export function currentKeyOf(info: RoomInfo, target: EventId): string | undefined {
  for (const [key, id] of Object.entries(info.stateIds ?? {})) if (id === target) return key;
  return undefined;
}

function without<T extends object, K extends keyof T>(o: T, ...keys: K[]): T {
  const copy = { ...o };
  for (const k of keys) delete copy[k];
  return copy;
}

/**
 * RoomInfo after redacting the current event of tracked key `key`. The event stays current (a
 * redacted event is still the room's state for its key); only what it says changes.
 */
export function redactInfo(info: RoomInfo, key: string): RoomInfo {
  const [type, stateKey] = key.includes('#') ? [key.slice(0, key.indexOf('#')), key.slice(key.indexOf('#') + 1)] : [key, ''];
  switch (type) {
    // Nothing of their content is preserved: the state is gone.
    case 'm.room.name':
      return without(info, 'name');
    case 'm.room.topic':
      return without(info, 'topic');
    case 'm.room.canonical_alias':
      return without(info, 'canonicalAlias');
    case 'm.room.guest_access':
      // Without `guest_access` the spec's default, forbidden, applies.
      return without(info, 'guestAccess');
    case 'm.room.tombstone':
      return without(info, 'successor');
    // Encryption cannot be turned off: clients treat a room as encrypted once it has been
    // (spec: "m.room.encryption"), and a redacted event does not change that.
    case 'm.room.encryption':
      return info;
    // `join_rule` and `history_visibility` are preserved.
    case 'm.room.join_rules':
    case 'm.room.history_visibility':
      return info;
    case 'm.room.power_levels':
      // Every key roomkeeper reads is preserved, except `invite` before room version 11.
      if (info.powerLevels === undefined || redactionKeepsMore(info.version)) return info;
      return { ...info, powerLevels: { ...info.powerLevels, invite: POWER_LEVEL_DEFAULTS.invite } };
    case 'm.room.create':
      // From version 11 the whole content stays; before, only `creator`. The room version is
      // the room's, not the event's, and stays whatever the event says.
      return redactionKeepsMore(info.version) ? info : without(info, 'predecessor', 'roomType');
    case 'm.space.child':
      // A child without `via` is no child (spec: "m.space.child").
      return { ...info, spaceChildren: (info.spaceChildren ?? []).filter((r) => r !== stateKey) };
    case 'm.space.parent':
      return { ...info, spaceParents: (info.spaceParents ?? []).filter((r) => r !== stateKey) };
    default:
      return info;
  }
}

/**
 * A member after redacting their current member event: `membership` is preserved, the display
 * name and avatar are not.
 */
export function redactMember(m: MemberState): MemberState {
  const out: MemberState = { membership: m.membership };
  if (m.eventId !== undefined) out.eventId = m.eventId;
  if (m.ts !== undefined) out.ts = m.ts;
  return out;
}
