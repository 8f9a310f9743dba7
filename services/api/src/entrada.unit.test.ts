import { Hono } from 'hono';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { crearEntrada, type Rechazo } from './entrada.js';
import { crearDocumentoOpenApi } from './openapi.js';

/** Una app mínima con una ruta escrita solo con sus esquemas: ni `describeRoute` ni nada más. */
function appConRutaNueva() {
  const rechazos: Rechazo[] = [];
  const { validar } = crearEntrada({
    limiteCuerpoBytes: 1024,
    rechazar: (c, rechazo) => {
      rechazos.push(rechazo);
      return c.json(rechazo, 400);
    },
  });
  const app = new Hono();
  app.post(
    '/reembolsos/:id',
    validar('json', v.pipe(v.object({ motivo: v.pipe(v.string(), v.minLength(1)) }), v.metadata({ ref: 'SolicitudReembolso' }))),
    validar('param', v.object({ id: v.pipe(v.string(), v.uuid('debe ser un UUID')) })),
    validar('query', v.object({ simular: v.optional(v.picklist(['si', 'no'])) })),
    (c) => c.json({ motivo: c.req.valid('json').motivo, id: c.req.valid('param').id, simular: c.req.valid('query').simular ?? 'no' }),
  );
  return { app, rechazos };
}

describe('una ruta escrita con sus esquemas', () => {
  it('queda documentada por el hecho de escribirla: parámetros, cuerpo y el 400 de la casa', async () => {
    const { app } = appConRutaNueva();
    const documento = (await crearDocumentoOpenApi(app)) as unknown as {
      paths: Record<
        string,
        Record<string, { parameters: { name: string; in: string }[]; requestBody: unknown; responses: Record<string, unknown> }>
      >;
      components: { schemas: Record<string, { required?: string[] }> };
    };
    const operacion = documento.paths['/reembolsos/{id}']?.['post'];
    expect(operacion?.parameters.map((p) => `${p.in} ${p.name}`)).toEqual(['path id', 'query simular']);
    expect(operacion?.requestBody).toEqual({
      required: true,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/SolicitudReembolso' } } },
    });
    expect(documento.components.schemas['SolicitudReembolso']?.required).toEqual(['motivo']);
    expect(operacion?.responses['400']).toEqual({ $ref: '#/components/responses/SolicitudInvalida' });
  });

  it('valida lo que documenta: lo válido llega tipado al manejador; lo demás, un solo rechazo que nombra cada campo', async () => {
    const { app, rechazos } = appConRutaNueva();
    const id = '0190f3a2-0000-7000-8000-000000000001';
    const bien = await app.request(`/reembolsos/${id}?simular=si`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ motivo: 'duplicado' }),
    });
    expect(await bien.json()).toEqual({ motivo: 'duplicado', id, simular: 'si' });

    const mal = await app.request('/reembolsos/no-es-uuid?simular=quizas', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ motivo: '' }),
    });
    expect(mal.status).toBe(400);
    expect(rechazos).toEqual([
      {
        tipo: 'solicitud-invalida',
        // La ruta, la consulta y el cuerpo, en ese orden, aunque el cuerpo se validó el primero.
        errores: [
          { campo: 'id', mensaje: 'debe ser un UUID' },
          { campo: 'simular', mensaje: expect.any(String) },
          { campo: 'motivo', mensaje: expect.any(String) },
        ],
      },
    ]);
  });

  it('el cuerpo pasa antes por el tipo de contenido (415) y el límite de tamaño (413) de hono/body-limit', async () => {
    const { app, rechazos } = appConRutaNueva();
    const id = '0190f3a2-0000-7000-8000-000000000001';
    await app.request(`/reembolsos/${id}`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"motivo":"x"}' });
    await app.request(`/reembolsos/${id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ motivo: 'x'.repeat(2000) }),
    });
    expect(rechazos.map((r) => r.tipo)).toEqual(['tipo-de-contenido-no-soportado', 'cuerpo-demasiado-grande']);
  });
});
