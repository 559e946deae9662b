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

type Compiled = ((...args: unknown[]) => unknown) & { errors?: unknown };
type BuildFromRoute = (route: unknown) => Compiled;
type Factory = (...args: never[]) => BuildFromRoute;

/** A compiler factory whose compilers hand back a stand-in that compiles on its first call. */
function onFirstUse<F extends Factory>(factory: F): F {
  return ((...args: Parameters<F>) => {
    const build = factory(...args);
    return (route: unknown) => {
      let compiled: Compiled | undefined;
      const standIn: Compiled = function (this: unknown, ...input: unknown[]) {
        compiled ??= build(route);
        const result = compiled.apply(this, input);
        // Fastify reads a failed validation's reasons from the function it was given.
        standIn.errors = compiled.errors;
        return result;
      };
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
  } as FastifyServerOptions['schemaController'];
}
