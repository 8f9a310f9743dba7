/**
 * CTEs de una sentencia por lote que dejan en `autorizada` las filas de `entrada` cuya credencial sigue
 * valiendo en el momento de escribir (decisión 0121): el socio está activo y la clave, si la hay, no está
 * revocada ni expirada y es de ese socio y modo. Las filas sin `comprobar` pasan tal cual. Socios y claves se
 * bloquean `FOR SHARE` en orden, para que una revocación o suspensión concurrente espere al lote o el lote a
 * ella, nunca a medias. `entrada` debe tener `id_socio`, `modo`, `id_clave` y `comprobar`.
 *
 * La usan la creación de pagos y el registro de hechos de conversión: una sola definición de quién puede
 * escribir.
 */
export const CTES_CREDENCIAL_AUTORIZADA = `socios_activos AS MATERIALIZED (
    SELECT s.id FROM socios s
    WHERE s.id IN (SELECT id_socio FROM entrada WHERE comprobar) AND s.estado = 'activo'
    ORDER BY s.id
    FOR SHARE OF s
  ),
  claves_vigentes AS MATERIALIZED (
    SELECT c.id, c.id_socio, c.modo FROM claves_api c
    WHERE c.id IN (SELECT id_clave FROM entrada WHERE comprobar AND id_clave IS NOT NULL)
      AND c.revocada_en IS NULL AND (c.expira_en IS NULL OR c.expira_en > now())
    ORDER BY c.id
    FOR SHARE OF c
  ),
  autorizada AS MATERIALIZED (
    SELECT e.* FROM entrada e
    WHERE NOT e.comprobar
       OR (e.id_socio IN (SELECT id FROM socios_activos)
           AND (e.id_clave IS NULL
                OR EXISTS (SELECT 1 FROM claves_vigentes c WHERE c.id = e.id_clave AND c.id_socio = e.id_socio AND c.modo = e.modo)))
  )`;
