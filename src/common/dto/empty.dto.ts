/** For tools without arguments: with the global ValidationPipe (forbidNonWhitelisted) any argument is refused. */
export class EmptyQueryDto {}

/** For POST routes that take no body fields: any field sent is refused, not silently ignored. */
export class EmptyBodyDto {}
