import { describe, expect, it } from 'vitest';
import { stateAfterParam } from '../../src/matrix/client.js';

describe('stateAfterParam (which /sync parameter asks for MSC4222 state_after)', () => {
  it('uses the stable parameter from spec v1.16 on, the unstable one when only the MSC is advertised', () => {
    expect(stateAfterParam({ versions: ['v1.11', 'v1.16'] })).toBe('use_state_after');
    expect(stateAfterParam({ versions: ['v2.0'], unstable_features: { 'org.matrix.msc4222': true } })).toBe('use_state_after');
    expect(stateAfterParam({ versions: ['v1.12'], unstable_features: { 'org.matrix.msc4222': true } })).toBe('org.matrix.msc4222.use_state_after');
  });

  it('asks for nothing from a server that offers neither (Synapse 1.67), or a junk answer', () => {
    expect(stateAfterParam({ versions: ['r0.6.1', 'v1.6'], unstable_features: { 'org.matrix.msc4222': false } })).toBeUndefined();
    expect(stateAfterParam({ versions: ['v1.9'], unstable_features: { 'org.matrix.msc3575': true } })).toBeUndefined();
    for (const junk of [null, 'v1.16', [], { versions: 'v1.16' }, { versions: [16, 'v1.1x'] }, { unstable_features: ['org.matrix.msc4222'] }]) {
      expect(stateAfterParam(junk)).toBeUndefined();
    }
  });
});
