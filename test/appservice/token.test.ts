import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { isHsToken, tokenOf } from '../../src/appservice/token.js';

const req = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } }) as IncomingMessage;

describe('appservice token', () => {
  it('reads the bearer header before the legacy query parameter', () => {
    expect(tokenOf(req('Bearer abc'), new URL('http://x/t?access_token=q'))).toBe('abc');
    expect(tokenOf(req(), new URL('http://x/t?access_token=q'))).toBe('q');
    expect(tokenOf(req(), new URL('http://x/t'))).toBeUndefined();
    expect(tokenOf(req('Basic abc'), new URL('http://x/t?access_token=q'))).toBeUndefined();
  });

  it('matches only the same token, whatever the lengths', () => {
    expect(isHsToken('secret', 'secret')).toBe(true);
    expect(isHsToken('secre', 'secret')).toBe(false);
    expect(isHsToken('secret-and-more', 'secret')).toBe(false);
    expect(isHsToken('', 'secret')).toBe(false);
  });
});
