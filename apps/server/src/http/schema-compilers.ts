import AjvCompiler from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

/**
 * When the routes' validators and response serializers are compiled: all of them as the node
 * starts (what a node does: a schema that cannot compile stops the boot, and no request pays for
 * one), or each the first time a request needs it. The second is for the tests: each test file
 * starts a node of its own and calls a handful of its two hundred routes, so compiling the rest
 * was most of a node's start there. The compilers are Fastify's own either way.
 */
export type SchemaCompilation = 'at-start' | 'on-first-use';

type Compiled = ((...args: unknown[]) => unknown) & { errors?: unknown; schemaEnv?: unknown };
type BuildFromRoute = (route: { httpPart?: string }) => Compiled;
type Factory = (...args: never[]) => BuildFromRoute;

/** A compiler factory whose compilers hand back a stand-in that compiles on its first use. */
function onFirstUse<F extends Factory>(factory: F): F {
  return ((...args: Parameters<F>) => {
    const build = factory(...args);
    return (route: { httpPart?: string }) => {
      // Fastify lower-cases a header schema's names only for its own compilers, which these are
      // not to it: a test node would then judge headers as no node does.
      if (route.httpPart === 'headers') {
        throw new Error('header schemas are not supported with schemaCompilation on-first-use');
      }
      let compiled: Compiled | undefined;
      const compile = () => {
        compiled ??= build(route);
        return compiled;
      };
      const standIn: Compiled = function (this: unknown, ...input: unknown[]) {
        const validate = compile();
        const result = validate.apply(this, input);
        // Fastify reads a failed validation's reasons from the function it was given.
        standIn.errors = validate.errors;
        return result;
      };
      // Fastify passes Ajv the parent of the value (so a coerced root value is written back) when
      // the function it was given has Ajv's schemaEnv.
      Object.defineProperty(standIn, 'schemaEnv', { get: () => compile().schemaEnv });
      return standIn;
    };
  }) as F;
}

export function schemaCompilers(when: SchemaCompilation): FastifyServerOptions['schemaController'] {
  if (when === 'at-start') return undefined;
  return {
    compilersFactory: {
      buildValidator: onFirstUse(AjvCompiler() as unknown as Factory),
      buildSerializer: onFirstUse(SerializerSelector() as unknown as Factory),
    },
  } as unknown as FastifyServerOptions['schemaController'];
}
