import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type Type } from '@nestjs/common';
import {
  GUARDS_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PARAMTYPES_METADATA,
  PATH_METADATA,
  PIPES_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants.js';
import { RequestMethod } from '@nestjs/common';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { DiscoveryService, ExternalContextCreator, MetadataScanner } from '@nestjs/core';
import type { ParamsFactory } from '@nestjs/core/helpers/external-context-creator.js';
import { MCP_TOOL_METADATA, type McpToolOptions } from '../../common/tools/mcp-tool.decorator.js';
import { ToolSchemaFactory } from '../schema/tool-schema.factory.js';
import {
  annotationsFor,
  type ArgumentSlot,
  type ToolDefinition,
  type ToolRequest,
} from '../../common/tools/tool-definition.js';
import type { ToolTable } from '../../common/tools/tool-table.js';
import { TOOLSET_METADATA, type Toolset } from '../../common/tools/toolsets.js';
import { TOOL_INPUT_ARGUMENTS, type ToolInputArgument } from '../../common/tools/tool-input-argument.js';

const TOOL_NAME = /^[a-z][a-z0-9_]{0,63}$/;
const SLOT_OF: Partial<Record<RouteParamtypes, ArgumentSlot>> = {
  [RouteParamtypes.PARAM]: 'param',
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.BODY]: 'body',
};

/** Hands the synthetic request's parts to @Param(), @Query(), @Body() and @Req(). */
const paramsFactory: ParamsFactory = {
  exchangeKeyForValue(type: number, data, args: unknown[]) {
    const req = args[0] as ToolRequest;
    const pick = (o: Record<string, unknown>) => (typeof data === 'string' ? o[data] : o);
    switch (type as RouteParamtypes) {
      case RouteParamtypes.PARAM:
        return pick(req.params);
      case RouteParamtypes.QUERY:
        return pick(req.query);
      case RouteParamtypes.BODY:
        return pick(req.body);
      case RouteParamtypes.REQUEST:
        return req;
      case RouteParamtypes.HEADERS:
        return typeof data === 'string' ? req.headers[data.toLowerCase()] : req.headers;
      default:
        return undefined;
    }
  },
};

/**
 * Finds every controller method marked @McpTool at boot, checks it, derives its schemas, and freezes the
 * table every transport serves. Nothing here runs per request.
 */
@Injectable()
export class ToolRegistry implements OnApplicationBootstrap, ToolTable {
  private readonly logger = new Logger(ToolRegistry.name);
  private tools = new Map<string, ToolDefinition>();
  private list: ToolDefinition[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly contextCreator: ExternalContextCreator,
    @Optional()
    @Inject(TOOL_INPUT_ARGUMENTS)
    private readonly inputArguments: readonly ToolInputArgument[] = [],
  ) {}

  onApplicationBootstrap(): void {
    const schemas = new ToolSchemaFactory();
    for (const wrapper of this.discovery.getControllers()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance) continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[methodName] as (...args: unknown[]) => unknown;
        const options = Reflect.getMetadata(MCP_TOOL_METADATA, method) as McpToolOptions | undefined;
        if (!options) continue;
        const tool = this.define(instance, methodName, method, options, schemas);
        if (this.tools.has(tool.name)) throw new Error(`Tool ${tool.name} is declared twice`);
        this.tools.set(tool.name, tool);
      }
    }
    this.list = [...this.tools.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.logger.log(`${this.list.length} tools registered`);
  }

  all(): readonly ToolDefinition[] {
    return this.list;
  }

  get(name: string): ToolDefinition | undefined {
    return this.tools.get(name);
  }

  private define(
    instance: Record<string, unknown>,
    methodName: string,
    method: (...args: unknown[]) => unknown,
    options: McpToolOptions,
    schemas: ToolSchemaFactory,
  ): ToolDefinition {
    const controller = instance.constructor as Type<unknown>;
    const where = `${controller.name}.${methodName} (${options.name})`;
    if (!TOOL_NAME.test(options.name))
      throw new Error(`${where}: tool names are snake_case, 1-64 characters`);
    if (!options.description?.trim()) throw new Error(`${where}: a tool needs a description`);
    // Scoped enhancers are silently skipped on the MCP path, so they are refused outright.
    for (const key of [GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA]) {
      if (Reflect.getMetadata(key, method) || Reflect.getMetadata(key, controller)) {
        throw new Error(`${where}: scoped ${key} are not allowed on tools; use global guards/interceptors`);
      }
    }

    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, methodName) ?? {}) as Record<
      string,
      { index: number; data?: unknown }
    >;
    const paramTypes = (Reflect.getMetadata(PARAMTYPES_METADATA, instance, methodName) ??
      []) as Type<unknown>[];
    const dtosBySlot: Array<{ slot: ArgumentSlot; dto: Type<unknown> }> = [];
    for (const [key, arg] of Object.entries(args)) {
      const type = Number(key.split(':')[0]) as RouteParamtypes;
      const slot = SLOT_OF[type];
      if (!slot) continue;
      if (arg.data !== undefined)
        throw new Error(`${where}: bind whole DTOs (@${slot}() dto), not single fields`);
      const dto = paramTypes[arg.index];
      if (!dto || dto === Object) throw new Error(`${where}: the ${slot} argument needs a DTO class type`);
      dtosBySlot.push({ slot, dto });
    }

    const inputSchema = schemas.merge(
      dtosBySlot.map((d) => d.dto),
      where,
    );
    const slots: Record<string, ArgumentSlot> = {};
    for (const { slot, dto } of dtosBySlot) {
      for (const name of Object.keys(schemas.forClass(dto).properties ?? {})) slots[name] = slot;
    }
    // e.g. approval_token on high-risk tools; the ApprovalGuard removes it before the DTOs are validated
    for (const argument of this.inputArguments) argument.extend(options, inputSchema, slots, where);
    let outputSchema = schemas.forClass(options.output);
    if (outputSchema.type !== 'object') throw new Error(`${where}: output must be an object DTO`);
    // e.g. plans: a dry run answers a PlanDto instead of the tool's own output
    for (const argument of this.inputArguments)
      outputSchema = argument.output?.(options, outputSchema) ?? outputSchema;

    const handler = this.contextCreator.create(
      instance,
      method,
      methodName,
      ROUTE_ARGS_METADATA,
      paramsFactory,
      undefined,
      undefined,
      { guards: true, interceptors: true, filters: false },
      'mcp',
    ) as (request: ToolRequest) => Promise<unknown>;

    const toolset = (Reflect.getMetadata(TOOLSET_METADATA, method) ??
      Reflect.getMetadata(TOOLSET_METADATA, controller)) as Toolset | undefined;
    return Object.freeze({
      name: options.name,
      title: options.title,
      description: options.description,
      risk: options.risk,
      ...(toolset ? { toolset } : {}),
      inputSchema,
      outputSchema,
      annotations: { ...annotationsFor(options.risk, options.title), ...options.annotations },
      slots,
      route: routeOf(controller, method),
      options,
      handler,
      output: options.output,
    });
  }
}

function routeOf(
  controller: Type<unknown>,
  method: (...args: unknown[]) => unknown,
): { method: string; path: string } {
  const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
  const sub = String(Reflect.getMetadata(PATH_METADATA, method) ?? '');
  const verb = RequestMethod[(Reflect.getMetadata(METHOD_METADATA, method) as RequestMethod) ?? 0];
  const path = `/${[base, sub].filter((p) => p && p !== '/').join('/')}`
    .replace(/\/+/g, '/')
    .replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return { method: verb, path };
}
