import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyInstance } from 'fastify';

type Factory = ReturnType<typeof SerializerSelector>;
type Serializer = (doc: unknown) => string;

/**
 * Response serializers compiled when a route first answers with that status, instead of all
 * at start-up. Fastify compiles one fast-json-stringify function per route and status, each
 * walking the shared components again: about 2 s of CPU for this API at every start (every
 * `amisi serve`, every server a test starts), for routes most processes never call. A
 * serializer, once built, is the same function as before; compileAll() builds the rest (a test
 * calls it so a broken response schema still fails there, not in a first answer).
 */
class LazySerializers {
  private readonly builds: (() => Serializer)[] = [];

  readonly factory: Factory = (externalSchemas, options) => {
    const compile = SerializerSelector()(externalSchemas, options);
    return (route) => {
      let serialize: Serializer | null = null;
      const build = () => (serialize ??= compile(route));
      this.builds.push(build);
      return (doc) => build()(doc);
    };
  };

  compileAll(): number {
    for (const build of this.builds) build();
    return this.builds.length;
  }
}

const byApp = new WeakMap<object, LazySerializers>();

/** The serializer factory for a new app's `schemaController`; register the app with `adopt`. */
export function lazySerializers(): { factory: Factory; adopt(app: FastifyInstance): void } {
  const lazy = new LazySerializers();
  return { factory: lazy.factory, adopt: (app) => byApp.set(app, lazy) };
}

/** Builds every response serializer of the app now; answers how many there are. */
export function compileResponseSerializers(app: FastifyInstance): number {
  const lazy = byApp.get(app);
  if (!lazy) throw new Error('the app was not built with lazySerializers()');
  return lazy.compileAll();
}
