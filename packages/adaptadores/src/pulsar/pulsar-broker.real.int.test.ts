import { randomUUID } from 'node:crypto';
import { probarContratoBroker } from '@aeropartners/contratos';
import { describe } from 'vitest';
import { crearBrokerPulsar } from './pulsar-broker.js';

/**
 * La misma suite de contrato contra un broker Pulsar real, solo cuando `PULSAR_URL` está definida
 * (p. ej. el de infra/docker-compose.yml: standalone con deduplicación activada) y el binario nativo
 * de `pulsar-client` está instalado. Cada test usa un tópico nuevo: aislado y sin estado previo.
 */
const url = process.env.PULSAR_URL;

describe.runIf(url)('PulsarBroker contra un Pulsar real (PULSAR_URL)', () => {
  probarContratoBroker('Pulsar real', async () => {
    const broker = await crearBrokerPulsar({
      url: url!,
      topico: `persistent://public/default/contrato-pagos-${randomUUID()}`,
      tiempoEsperaEnvioMs: 10_000,
    });
    return { broker };
  });
});
