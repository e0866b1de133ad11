import { describe, expect, it } from 'vitest';
import { makeHarness } from './dispatch-harness.js';
import { alice, bob } from './world.js';

// Bob's rooms that alice is not in: "Bob's secret plans" (!secret:hs.test, #secret:hs.test,
// number 3 in bob's list, 3 members), "Bobs" (number 4 in bob's list).
const secretWords = /secret|Bobs|Bob zone|bare|3 members|do not tell/;

async function ask(body: string) {
  const h = makeHarness();
  return h.send(alice, body);
}

/** The reply with the echoed ref replaced, so replies for different refs can be compared. */
const shape = (body: string | undefined, ref: string) => body?.replaceAll(ref, 'REF');

describe('privacy', () => {
  const refs = {
    'a room id of a room only bob is in': '!secret:hs.test',
    'an alias of a room only bob is in': '#secret:hs.test',
    'a number from bob’s list past the end of alice’s': '4',
    'a name substring of a room only bob is in': 'secret',
  };

  for (const command of ['room', 'members', 'history']) {
    for (const [what, ref] of Object.entries(refs)) {
      it(`answers !${command} with the same not-found as for nonsense when given ${what}`, async () => {
        const leaked = await ask(`!${command} ${ref}`);
        const nonsense = await ask(`!${command} zzqx`);
        expect(shape(leaked?.body, ref)).toBe(shape(nonsense?.body, 'zzqx'));
        expect(shape(leaked?.formatted_body, ref)).toBe(shape(nonsense?.formatted_body, 'zzqx'));
      });
    }
  }

  it('gives the same not-found for a room id that does not exist', async () => {
    const leaked = await ask('!room !secret:hs.test');
    const missing = await ask('!room !nothere:hs.test');
    expect(shape(leaked?.body, '!secret:hs.test')).toBe(shape(missing?.body, '!nothere:hs.test'));
  });

  it('never names or counts a room only bob is in when the ref is ambiguous for alice', async () => {
    const r = await ask('!room a');
    expect(r?.body).not.toMatch(secretWords);
  });

  it('lists only alice’s rooms when alice asks !rooms', async () => {
    expect((await ask('!rooms'))?.body).not.toMatch(secretWords);
  });

  it('shows alice only rooms she is in when she asks !common about bob', async () => {
    const r = await ask('!common @bob:hs.test');
    expect(r?.body).toContain('Team chat');
    expect(r?.body).not.toMatch(secretWords);
  });

  it('lists only rooms alice is in when she asks !common about carol, who is also in bob’s room', async () => {
    const h = makeHarness();
    expect((await h.send(alice, '!common @carol:hs.test'))?.body).not.toMatch(secretWords);
  });

  it('resolves the same number to each sender’s own room', async () => {
    const h = makeHarness();
    expect((await h.send(bob, '!room 3'))?.body).toMatch(/^Bob's secret plans/);
    expect((await h.send(alice, '!room 3'))?.body).toMatch(/^Team chat/);
  });
});
