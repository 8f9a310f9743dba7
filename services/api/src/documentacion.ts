import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Documentación interactiva (Swagger UI) servida desde el paquete `swagger-ui-dist`: funciona sin
 * conexión, sin CDN. Los recursos se leen del disco la primera vez y quedan en memoria.
 */

export const RECURSOS_SWAGGER_UI = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
} as const;
export type RecursoSwaggerUi = keyof typeof RECURSOS_SWAGGER_UI;

export function esRecursoSwaggerUi(nombre: string): nombre is RecursoSwaggerUi {
  return Object.hasOwn(RECURSOS_SWAGGER_UI, nombre);
}

/** Carpeta del paquete `swagger-ui-dist` instalado junto a este servicio. */
export function directorioSwaggerUi(): string {
  return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
}

export function crearLectorRecursos(directorio: string = directorioSwaggerUi()) {
  const cache = new Map<RecursoSwaggerUi, Promise<Uint8Array<ArrayBuffer>>>();
  return (nombre: RecursoSwaggerUi): Promise<Uint8Array<ArrayBuffer>> => {
    let recurso = cache.get(nombre);
    if (!recurso) {
      recurso = readFile(join(directorio, nombre)).then((contenido) => new Uint8Array(contenido));
      recurso.catch(() => cache.delete(nombre));
      cache.set(nombre, recurso);
    }
    return recurso;
  };
}

export function paginaDocumentacion(urlDocumento: string): string {
  return `<!doctype html>
<html lang="es">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Aeropartners · API de Pagos</title>
  <link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({
      url: ${JSON.stringify(urlDocumento)},
      dom_id: '#swagger-ui',
      deepLinking: true,
      displayRequestDuration: true,
      // El botón Authorize pide la clave de API del socio; que no se pierda al recargar la página.
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis],
      layout: 'BaseLayout',
    });
  </script>
</body>
</html>
`;
}
