//! Types of typescript-loader.mjs.
/** The folder where weir caches what it fetched or compiled: $WEIR_CACHE_DIR, $XDG_CACHE_HOME/weir or ~/.cache/weir. */
export declare function userCacheDir(): string;
/** A per-user folder for live processes' files (sockets, registries): $XDG_RUNTIME_DIR/weir or <tmp>/weir-<uid>. */
export declare function userRuntimeDir(): string;
/** Registers the TypeScript module hooks for this thread (once) and turns on source maps. */
export declare function registerTypeScript(): Promise<void>;
