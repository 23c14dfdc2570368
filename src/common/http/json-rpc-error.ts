/**
 * The JSON-RPC error body for answers on /mcp that are produced before the SDK sees the request (auth, Host/Origin,
 * body parsing, unsupported methods), so MCP clients can read them like any other protocol error.
 */
export const jsonRpcError = (code: number, message: string, id: string | number | null = null) => ({
  jsonrpc: '2.0',
  error: { code, message },
  id,
});
