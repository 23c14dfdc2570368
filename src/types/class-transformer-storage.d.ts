// class-transformer has no exports map; this deep import reaches the storage its decorators write to.
declare module 'class-transformer/cjs/storage.js' {
  export const defaultMetadataStorage: unknown;
}
