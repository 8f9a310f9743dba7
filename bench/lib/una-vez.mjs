// «Exactamente un cargo por pago EXITOSO» en la base de una pasada (un PostgreSQL nuevo por pasada: la
// tabla entera es la pasada). Cifras, no una aserción: el benchmark las imprime.
export async function comprobarCargos(cliente) {
  const { rows } = await cliente.query(
    `WITH c AS (SELECT id_pago, count(*) FILTER (WHERE resultado = 'exitoso')::int AS cobros FROM pasarela_simulada.cargos GROUP BY id_pago)
     SELECT count(*) FILTER (WHERE p.estado = 'EXITOSO')::int AS exitosos,
            count(*) FILTER (WHERE p.estado = 'EXITOSO' AND coalesce(c.cobros, 0) = 0)::int AS exitosos_sin_cargo,
            count(*) FILTER (WHERE coalesce(c.cobros, 0) > 1)::int AS con_varios_cargos,
            count(*) FILTER (WHERE p.estado <> 'EXITOSO' AND coalesce(c.cobros, 0) > 0)::int AS no_exitosos_con_cargo,
            (SELECT count(*)::int FROM c WHERE NOT EXISTS (SELECT 1 FROM pagos q WHERE q.id = c.id_pago)) AS cargos_sin_pago,
            (SELECT coalesce(sum(cobros), 0)::int FROM c) AS cargos
     FROM pagos p LEFT JOIN c ON c.id_pago = p.id`,
  );
  const r = rows[0];
  const violaciones = r.exitosos_sin_cargo + r.con_varios_cargos + r.no_exitosos_con_cargo + r.cargos_sin_pago;
  return { ...r, violaciones, cumple: violaciones === 0 };
}

export function describirCargos(r) {
  return r.cumple
    ? `sí: ${r.cargos} cargos para ${r.exitosos} pagos EXITOSO, ninguno de más ni de menos`
    : `NO: ${r.exitosos_sin_cargo} EXITOSO sin cargo, ${r.con_varios_cargos} con varios, ${r.no_exitosos_con_cargo} no EXITOSO con cargo, ${r.cargos_sin_pago} cargos sin pago`;
}
