import 'reflect-metadata';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Query,
  UseGuards,
  type CanActivate,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsOptional, IsString } from 'class-validator';
import { McpModule } from '../../src/mcp/mcp.module.js';
import { McpTool } from '../../src/common/tools/mcp-tool.decorator.js';
import { ToolRegistry } from '../../src/mcp/registry/tool-registry.js';
import { GuestParamDto, TargetQueryDto } from '../../src/common/dto/target.dto.js';
import { AppConfigModule } from '../../src/config/config.module.js';
import { testConfig } from '../helpers/test-app.js';

class OkDto {
  @IsString() ok: string;
}

class ClashQueryDto {
  @IsOptional() @IsString() node?: string;
}

@Injectable()
class AllowGuard implements CanActivate {
  canActivate() {
    return true;
  }
}

async function boot(controller: new (...args: never[]) => unknown) {
  // the MCP layer reads the tool exposure settings (ToolAccessService)
  @Module({
    imports: [AppConfigModule.forRoot(testConfig([])), McpModule],
    controllers: [controller],
    providers: [AllowGuard],
  })
  class TestModule {}
  const app = await NestFactory.create(TestModule, { logger: false, abortOnError: false });
  try {
    await app.init();
    return app.get(ToolRegistry).all();
  } finally {
    await app.close();
  }
}

describe('tool registry', () => {
  test('derives a flat, closed schema from the param and query DTOs, with PVE formats', async () => {
    @Controller()
    class GoodController {
      @Get('nodes/:node/things/:vmid')
      @McpTool({
        name: 'get_thing',
        title: 'T',
        description: 'Reads one thing for testing.',
        risk: 'read',
        privileges: [],
        output: OkDto,
      })
      get(@Param() _p: GuestParamDto, @Query() _q: TargetQueryDto) {
        return { ok: 'yes' };
      }
    }
    const [tool] = await boot(GoodController);
    assert.equal(tool.name, 'get_thing');
    assert.deepEqual(tool.route, { method: 'GET', path: '/nodes/{node}/things/{vmid}' });
    assert.deepEqual(tool.slots, { node: 'param', vmid: 'param', target: 'query' });
    const props = tool.inputSchema.properties as Record<string, any>;
    assert.deepEqual(props.vmid.type, ['integer', 'string']);
    assert.equal(props.vmid.pattern, '^[1-9][0-9]{2,8}$');
    assert.equal(props.vmid.minimum, 100);
    assert.equal(props.node.pattern, '^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$');
    assert.deepEqual(tool.inputSchema.required, ['node', 'vmid']);
    assert.equal(tool.inputSchema.additionalProperties, false);
    assert.deepEqual(tool.annotations, {
      title: 'T',
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: false,
    });
  });

  test('refuses a tool with a scoped guard (it would be skipped on the MCP path)', async () => {
    @Controller()
    class GuardedController {
      @Get('x')
      @UseGuards(AllowGuard)
      @McpTool({
        name: 'guarded',
        title: 'G',
        description: 'A tool with a scoped guard.',
        risk: 'read',
        privileges: [],
        output: OkDto,
      })
      get(@Query() _q: TargetQueryDto) {
        return { ok: 'yes' };
      }
    }
    await assert.rejects(() => boot(GuardedController), /scoped __guards__ are not allowed/);
  });

  test('refuses an argument declared by two DTOs', async () => {
    @Controller()
    class ClashController {
      @Get('n/:node')
      @McpTool({
        name: 'clash',
        title: 'C',
        description: 'Two DTOs declare node.',
        risk: 'read',
        privileges: [],
        output: OkDto,
      })
      get(@Param() _p: GuestParamDto, @Query() _q: ClashQueryDto) {
        return { ok: 'yes' };
      }
    }
    await assert.rejects(() => boot(ClashController), /argument 'node' is declared by more than one/);
  });

  test('refuses a tool without a description or with a bad name', async () => {
    @Controller()
    class BadNameController {
      @Get('y')
      @McpTool({
        name: 'Bad-Name',
        title: 'B',
        description: 'Bad name.',
        risk: 'read',
        privileges: [],
        output: OkDto,
      })
      get(@Query() _q: TargetQueryDto) {
        return { ok: 'yes' };
      }
    }
    await assert.rejects(() => boot(BadNameController), /snake_case/);
  });
});
