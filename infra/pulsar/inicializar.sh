#!/usr/bin/env bash
# Servicio de una sola vez `pulsar-init` (infra/docker-compose.yml), con la imagen de Apache Pulsar:
# deja el namespace con deduplicación, el tópico de pagos, la suscripción del consumidor (para que lo
# publicado antes de que el consumidor se conecte no se pierda) y su cola de mensajes muertos con la
# suscripción que la retiene. Idempotente: lo que ya existe se deja como está.
#
# Los nombres salen de las MISMAS variables que los servicios (BROKER_TOPICO, CONSUMIDOR_SUSCRIPCION)
# y siguen al adaptador (packages/adaptadores/src/pulsar/pulsar-broker.ts): cola de muertos
# `<tópico>-<suscripción>-DLQ`, retenida por la suscripción `<suscripción>-muertos`.
set -euo pipefail

ADMIN_URL="${PULSAR_ADMIN_URL:-http://pulsar:8080}"
TOPICO_CORTO="${BROKER_TOPICO:-pagos}"
SUSCRIPCION="${CONSUMIDOR_SUSCRIPCION:-consumidor-pagos}"
TENANT=public
NAMESPACE=public/default

# Un nombre corto ("pagos") es persistent://public/default/pagos, como lo resuelve el cliente.
case "$TOPICO_CORTO" in
  *://*) TOPICO="$TOPICO_CORTO" ;;
  *) TOPICO="persistent://${NAMESPACE}/${TOPICO_CORTO}" ;;
esac
DLQ="${TOPICO}-${SUSCRIPCION}-DLQ"
SUSCRIPCION_MUERTOS="${SUSCRIPCION}-muertos"

admin() { /pulsar/bin/pulsar-admin --admin-url "$ADMIN_URL" "$@"; }

# Ejecuta un comando de administración; "ya existe" (HTTP 409) cuenta como éxito.
idempotente() {
  local salida
  if salida="$(admin "$@" 2>&1)"; then
    echo "ok: $*"
  elif grep -qiE 'already exist|conflict|409' <<<"$salida"; then
    echo "ya existía: $*"
  else
    echo "$salida" >&2
    echo "falló: $*" >&2
    return 1
  fi
}

echo "pulsar-init: ${ADMIN_URL}, tópico ${TOPICO}, suscripción ${SUSCRIPCION}, cola de muertos ${DLQ}"
idempotente tenants create "$TENANT" --allowed-clusters standalone
idempotente namespaces create "$NAMESPACE"
admin namespaces set-deduplication "$NAMESPACE" --enable
echo "ok: deduplicación activada en ${NAMESPACE}"
idempotente topics create "$TOPICO"
idempotente topics create-subscription "$TOPICO" --subscription "$SUSCRIPCION" --messageId earliest
idempotente topics create "$DLQ"
idempotente topics create-subscription "$DLQ" --subscription "$SUSCRIPCION_MUERTOS" --messageId earliest
echo "pulsar-init: listo"
admin namespaces get-deduplication "$NAMESPACE" || true
admin topics subscriptions "$TOPICO"
