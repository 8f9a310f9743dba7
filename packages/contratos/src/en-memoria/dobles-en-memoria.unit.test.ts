import { probarContratoRepositorioPagos } from './contrato-repositorio-pagos.js';
import { RepositorioPagosEnMemoria, idsSecuenciales } from './dobles.js';

probarContratoRepositorioPagos('en memoria', async () => {
  const repo = new RepositorioPagosEnMemoria();
  return { repositorio: repo, consultas: repo, nuevoId: idsSecuenciales() };
});
