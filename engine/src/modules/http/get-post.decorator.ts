import { All, UseGuards, applyDecorators, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { EngineError } from '../../core/errors.js';

const READ_METHODS = new Set(['GET', 'HEAD', 'POST']);

class ReadMethodsGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    const method = ctx.switchToHttp().getRequest<FastifyRequest>().method;
    if (!READ_METHODS.has(method)) throw new EngineError('method_not_allowed', 'Method Not Allowed');
    return true;
  }
}

/**
 * A route that answers GET and POST (Loki's read API takes both; POST carries a form body). NestJS keeps one HTTP
 * method per handler, so the route matches every method and a guard answers 405 for the others.
 */
export const GetPost = (...paths: string[]): MethodDecorator => applyDecorators(All(paths), UseGuards(ReadMethodsGuard));
