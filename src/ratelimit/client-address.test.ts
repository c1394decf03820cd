import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addressBucket, clientAddress } from './client-address.js';

test('addressBucket: IPv4 as it is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
  assert.equal(addressBucket('192.0.2.7'), '192.0.2.7');
  assert.equal(addressBucket('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(addressBucket('2001:db8:0:1::1'), '2001:0db8:0000:0001::/64');
  assert.equal(addressBucket('2001:DB8:0:1:ffff:ffff:ffff:fffe'), '2001:0db8:0000:0001::/64');
  assert.equal(addressBucket('2001:db8:0:2::1'), '2001:0db8:0000:0002::/64');
  assert.equal(addressBucket('::1'), '0000:0000:0000:0000::/64');
  assert.equal(addressBucket('fe80::1%eth0'), 'fe80:0000:0000:0000::/64');
  assert.equal(addressBucket('2001:db8::192.0.2.1'), '2001:0db8:0000:0000::/64');
  assert.equal(addressBucket('not an address'), 'not an address');
});

test('clientAddress: X-Forwarded-For only as far as the trusted hops reach', () => {
  const request = {
    ip: '10.0.0.2',
    headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.4' },
  };
  assert.equal(clientAddress(request, 0), '10.0.0.2');
  assert.equal(clientAddress(request, 1), '198.51.100.4');
  assert.equal(clientAddress(request, 2), '203.0.113.9');
  // More hops than addresses: the leftmost one there is.
  assert.equal(clientAddress(request, 5), '203.0.113.9');
  assert.equal(clientAddress({ ip: '10.0.0.2', headers: {} }, 1), '10.0.0.2');
  // Garbage where a trusted proxy should have written an address: the socket's address.
  assert.equal(clientAddress({ ip: '10.0.0.2', headers: { 'x-forwarded-for': 'evil' } }, 1), '10.0.0.2');
});
