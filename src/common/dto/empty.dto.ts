/** For tools without arguments: with the global ValidationPipe (forbidNonWhitelisted) any argument is refused. */
export class EmptyQueryDto {}
