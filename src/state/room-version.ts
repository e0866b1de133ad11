/**
 * The room-version rules roomkeeper's state tracking depends on (spec: "Room Versions"). Pure.
 *
 * Versions are opaque strings; the stable ones are small integers. An unstable version this code
 * does not know is read with the rules of version 1, the most conservative: it keeps less on
 * redaction and grants creators no special power.
 */

/** Unstable identifiers of versions whose rules match a stable one. */
const UNSTABLE: Readonly<Record<string, number>> = {
  // MSC4289/MSC4291's test version, which became room version 12.
  'org.matrix.hydra.11': 12,
};

/** The stable version number whose rules a room version follows (1 when unknown). */
export function versionRules(version: string | undefined): number {
  // Spec: a create event without room_version means version 1.
  if (version === undefined) return 1;
  if (/^[1-9]\d{0,3}$/.test(version)) return Number(version);
  return UNSTABLE[version] ?? 1;
}

/**
 * From version 12, the creators (the create event's sender and `additional_creators`) hold
 * unlimited power and cannot be listed in `m.room.power_levels` (MSC4289).
 */
export function hasPrivilegedCreators(version: string | undefined): boolean {
  return versionRules(version) >= 12;
}

/** From version 11, redacting `m.room.create` keeps its whole content and `m.room.power_levels` keeps `invite`. */
export function redactionKeepsMore(version: string | undefined): boolean {
  return versionRules(version) >= 11;
}
