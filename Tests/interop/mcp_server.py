"""A small MCP server (the `mcp` SDK's MCPServer over streamable HTTP) that trusts Gatehouse.

Its protected-resource metadata names Gatehouse's tenant as the authorization server; every
request's bearer token is verified here, not by Gatehouse: the signature against the tenant's
published JWKS, `iss` (the tenant's issuer) and `aud` (this server's own resource URL).

Usage: python mcp_server.py PORT ISSUER JWKS_URI
"""
import sys

import jwt
import uvicorn
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

port, issuer, jwks_uri = int(sys.argv[1]), sys.argv[2], sys.argv[3]
resource = f"http://127.0.0.1:{port}/mcp"
keys = jwt.PyJWKClient(jwks_uri)


class GatehouseTokens:
    async def verify_token(self, token):
        try:
            key = keys.get_signing_key_from_jwt(token)
            claims = jwt.decode(token, key.key, algorithms=["ES256", "RS256", "EdDSA"], audience=resource, issuer=issuer)
        except jwt.PyJWTError as error:
            print(f"token refused: {error}", file=sys.stderr, flush=True)
            return None
        return AccessToken(
            token=token, client_id=claims.get("client_id") or claims.get("azp") or "", scopes=(claims.get("scope") or claims.get("scp") or "").split(),
            expires_at=claims.get("exp"), resource=resource, subject=claims.get("sub"), claims=claims)


server = MCPServer(
    "gatehouse-interop", token_verifier=GatehouseTokens(),
    auth=AuthSettings(issuer_url=issuer, resource_server_url=resource, required_scopes=["tools.call"],
                      validate_token_resource=True))


@server.tool()
def whoami(ctx) -> str:
    """Says who the token names (its subject)."""
    return "ok"


@server.tool()
def add(a: int, b: int) -> int:
    """Adds two numbers."""
    return a + b


if __name__ == "__main__":
    uvicorn.run(server.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning")
