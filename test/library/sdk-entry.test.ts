import { describe, expect, it } from 'vitest';
import * as entry from '../../src/matrix/sdk-exports.js';
import { matrixSdk } from '../../src/matrix/sdk.js';

describe('roomkeeper/sdk', () => {
  it('exports every runtime export of matrix-bot-sdk, the very same values', () => {
    const sdk = matrixSdk() as unknown as Record<string, unknown>;
    const names = Object.keys(sdk).filter((k) => k !== '__esModule').sort();
    const exported = entry as unknown as Record<string, unknown>;
    expect(Object.keys(exported).sort()).toEqual(names);
    for (const name of names) expect(exported[name], name).toBe(sdk[name]);
  });

  it('is the one load of the SDK the daemon uses too, crypto stand-in included', () => {
    expect(entry.MatrixClient).toBe(matrixSdk().MatrixClient);
    const client = new entry.MatrixClient('https://example.org', 'token', new entry.MemoryStorageProvider());
    expect(client.homeserverUrl).toBe('https://example.org');
  });
});
