import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { isBubuhError } from '../errors.js';
import { runGatewayContract } from './gateway.contract.js';
import { formatGrossAmount, notificationSignature, parseGrossAmount, signatureMatches } from './gateway.js';
import { MidtransGateway } from './midtrans-gateway.js';
import { SandboxGateway } from './sandbox-gateway.js';
import { registerSandboxRoutes } from './sandbox-routes.js';

const serverKey = 'SB-Mid-server-contract-test';

function sandboxWithClock(publicBaseUrl: string) {
  let now = Date.UTC(2024, 8, 6);
  const sandbox = new SandboxGateway({
    serverKey,
    publicBaseUrl,
    notificationUrl: () => undefined,
    clock: () => now,
  });
  return { sandbox, advance: (ms: number) => (now += ms) };
}

/** The sandbox's HTTP face on a real port, and a Midtrans client pointed at it. */
async function sandboxOverHttp(key = serverKey) {
  const { sandbox, advance } = sandboxWithClock('http://sandbox.test');
  const app = Fastify();
  await registerSandboxRoutes(app, sandbox, serverKey);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const gateway = new MidtransGateway({
    serverKey: key,
    snapUrl: `${address}/sandbox/snap`,
    apiUrl: `${address}/sandbox`,
    timeoutMs: 5000,
  });
  return { gateway, sandbox, advance, address, close: () => app.close() };
}

test('signature: SHA-512 of order_id + status_code + gross_amount + server key, compared exactly', () => {
  const signature = notificationSignature('ord-1', '200', '10000.00', 'key');
  assert.equal(signature.length, 128);
  const event = {
    order_id: 'ord-1',
    status_code: '200',
    gross_amount: '10000.00',
    transaction_status: 'settlement',
    signature_key: signature,
    transaction_id: 't',
    payment_type: 'bank_transfer',
    transaction_time: '2024-09-06 07:00:00',
  };
  assert.equal(signatureMatches(event, 'key'), true);
  assert.equal(signatureMatches({ ...event, signature_key: signature.toUpperCase() }, 'key'), true);
  assert.equal(signatureMatches({ ...event, gross_amount: '10001.00' }, 'key'), false);
  assert.equal(signatureMatches({ ...event, signature_key: signature.slice(1) }, 'key'), false);
  assert.equal(signatureMatches({ ...event, signature_key: '' }, 'key'), false);
  assert.equal(formatGrossAmount(12_500), '12500.00');
  assert.equal(parseGrossAmount('12500.00'), 12_500);
  assert.equal(parseGrossAmount('12500'), 12_500);
  assert.equal(parseGrossAmount('12500.50'), null);
  assert.equal(parseGrossAmount('-1.00'), null);
  assert.equal(parseGrossAmount('1e5'), null);
});

test('gateway contract: the sandbox, directly', async (t) => {
  await runGatewayContract(t, async () => {
    const { sandbox, advance } = sandboxWithClock('http://sandbox.test');
    return { gateway: sandbox, sandbox, serverKey, advance, close: async () => {} };
  });
});

test('gateway contract: the midtrans client against the sandbox over HTTP', async (t) => {
  await runGatewayContract(t, async () => {
    const subject = await sandboxOverHttp();
    return { ...subject, serverKey };
  });
});

test('midtrans client: a wrong server key and an unreachable gateway are clear refusals', async () => {
  const wrong = await sandboxOverHttp('SB-Mid-server-wrong');
  try {
    await assert.rejects(
      wrong.gateway.createTransaction({
        orderId: 'ord-x',
        grossAmount: 10_000,
        expirySeconds: 60,
        itemName: 'e-meterai',
        quantity: 1,
        unitPrice: 10_000,
      }),
      (error: unknown) => isBubuhError(error) && error.code === 'PAYMENT_GATEWAY_NOT_CONFIGURED',
    );
    await assert.rejects(
      wrong.gateway.getStatus('ord-x'),
      (error: unknown) => isBubuhError(error) && error.code === 'PAYMENT_GATEWAY_NOT_CONFIGURED',
    );
  } finally {
    await wrong.close();
  }
  const closed = new MidtransGateway({
    serverKey,
    snapUrl: `${wrong.address}/sandbox/snap`,
    apiUrl: `${wrong.address}/sandbox`,
    timeoutMs: 2000,
  });
  await assert.rejects(
    closed.getStatus('ord-x'),
    (error: unknown) =>
      isBubuhError(error) &&
      error.code === 'PAYMENT_GATEWAY_UNAVAILABLE' &&
      error.details['problem'] === 'connection failed',
  );
});
