import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectRooms, type AccountData } from '../../src/daemon/direct-rooms.js';
import { createLogger } from '../../src/log.js';
import type { RoomId, UserId } from '../../src/state/ids.js';
import { Store } from '../../src/store/store.js';
import { TempDirs } from '../support/temp-dir.js';

const alice = '@alice:hs.test' as UserId;
const bob = '@bob:hs.test' as UserId;
const bot = '@rk:hs.test' as UserId;
const roomA = '!a:hs.test' as RoomId;
const roomB = '!b:hs.test' as RoomId;

/** Account data whose writes wait until the test lets them land, in an order it chooses. */
/** Lets queued promise work run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

class SlowAccount implements AccountData {
  stored: unknown = undefined;
  /** What /joined_members answers, per room, and how often it was asked. */
  readonly joined = new Map<string, string[]>();
  memberRequests = 0;

  getJoinedRoomMembers(roomId: string): Promise<string[]> {
    this.memberRequests++;
    return Promise.resolve(this.joined.get(roomId) ?? []);
  }
  readonly writes: { content: unknown; land: () => void }[] = [];

  getAccountData<T>(): Promise<T> {
    return this.stored === undefined ? Promise.reject(Object.assign(new Error('none'), { errcode: 'M_NOT_FOUND' })) : Promise.resolve(this.stored as T);
  }

  setAccountData(_type: string, content: unknown): Promise<unknown> {
    return new Promise((resolve) => {
      this.writes.push({
        content: structuredClone(content),
        land: () => {
          this.stored = structuredClone(content);
          resolve({});
        },
      });
    });
  }
}

describe('DirectRooms', () => {
  const dirs = new TempDirs();
  let store: Store;
  let account: SlowAccount;
  let direct: DirectRooms;
  let clock = 1_000_000;

  beforeEach(async () => {
    store = await Store.open(await dirs.make());
    account = new SlowAccount();
    direct = new DirectRooms({ store, account, botUserId: bot, log: createLogger({ level: 'silent' }), now: () => clock });
    await direct.load();
  });
  afterEach(async () => {
    await store.close();
    await dirs.cleanup();
  });

  it('writes m.direct one write at a time, each with every DM recorded so far', async () => {
    const first = direct.addDirect(roomA, alice);
    const second = direct.addDirect(roomB, bob);
    await settle();
    expect(account.writes).toHaveLength(1);
    account.writes[0]?.land();
    await first;
    await settle();
    expect(account.writes).toHaveLength(2);
    account.writes[1]?.land();
    await second;
    expect(account.stored).toEqual({ [alice]: [roomA], [bob]: [roomB] });
  });

  it('keeps a DM it recorded when a sync brings an m.direct from before the write', async () => {
    const first = direct.addDirect(roomA, alice);
    const second = direct.addDirect(roomB, bob);
    await settle();
    account.writes[0]?.land();
    await first;
    // The echo of the first write arrives while the second is still on its way.
    direct.update({ [alice]: [roomA] });
    expect(direct.isDirect(roomA)).toBe(true);
    expect(direct.isDirect(roomB)).toBe(true);
    await settle();
    account.writes[1]?.land();
    await second;
    direct.update({ [alice]: [roomA], [bob]: [roomB] });
    expect(direct.isDirect(roomB)).toBe(true);
  });

  it('counts a room as direct from its is_direct invite until the invite is abandoned', () => {
    direct.expectDirect(roomA, alice);
    expect(direct.isDirect(roomA)).toBe(true);
    direct.update({});
    expect(direct.isDirect(roomA)).toBe(true);
    direct.abandonDirect(roomA);
    expect(direct.isDirect(roomA)).toBe(false);
  });

  it('leaves a room the server lists alone when an invite for it is abandoned', () => {
    direct.update({ [alice]: [roomA] });
    direct.expectDirect(roomA, alice);
    direct.abandonDirect(roomA);
    expect(direct.isDirect(roomA)).toBe(true);
  });

  it('stops counting a room the server dropped from m.direct once the server had it', () => {
    direct.expectDirect(roomA, alice);
    direct.update({ [alice]: [roomA] });
    direct.update({});
    expect(direct.isDirect(roomA)).toBe(false);
  });

  it('counts a room private only when the homeserver lists exactly the bot and the sender, and asks again after 10 s', async () => {
    account.joined.set(roomA, [bot, alice]);
    expect(await direct.isPrivateOnServer(roomA, alice)).toBe(true);
    expect(await direct.isPrivateOnServer(roomA, bob)).toBe(false);
    expect(account.memberRequests).toBe(1);

    account.joined.set(roomA, [bot, alice, bob]);
    clock += 9_999;
    expect(await direct.isPrivateOnServer(roomA, alice)).toBe(true);
    clock += 1;
    expect(await direct.isPrivateOnServer(roomA, alice)).toBe(false);
    expect(account.memberRequests).toBe(2);
  });
});
