"""Seeds refresh tokens for bench/refresh.lua: signs one user in once, then runs the code flow
silently (prompt=none) N times and redeems each code. Prints one refresh token per line.
Usage: refresh_seed.py BASE_URL CLIENT_ID CLIENT_SECRET REDIRECT_URI USERNAME PASSWORD N"""
import base64, hashlib, re, secrets, sys, urllib.parse, urllib.request, http.cookiejar

base, client_id, client_secret, redirect, username, password, count = sys.argv[1:8]
jar = http.cookiejar.CookieJar()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def call(url, data=None, headers=None):
    request = urllib.request.Request(url, data=urllib.parse.urlencode(data).encode() if data else None, headers=headers or {})
    try:
        response = opener.open(request)
        return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def authorize():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode(dict(response_type="code", client_id=client_id, redirect_uri=redirect,
                                        scope="openid offline_access", code_challenge=challenge, code_challenge_method="S256"))
    return verifier, base + "/oauth2/authorize?" + query


def fields(html):
    return dict(re.findall(r'name="(interaction|csrf)" value="([^"]*)"', html))


verifier, url = authorize()
status, _, html = call(url)
status, headers, html = call(base + "/oauth2/login", dict(fields(html), username=username, password=password))
if status == 200:
    status, headers, html = call(base + "/oauth2/consent", dict(fields(html), decision="allow"))
auth = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
for _ in range(int(count)):
    verifier, url = authorize()
    status, headers, _ = call(url + "&prompt=none")
    code = urllib.parse.parse_qs(urllib.parse.urlparse(headers["Location"]).query)["code"][0]
    status, _, body = call(base + "/oauth2/token", dict(grant_type="authorization_code", code=code, redirect_uri=redirect, code_verifier=verifier),
                           {"Authorization": auth})
    print(re.search(r'"refresh_token":"([^"]+)"', body).group(1))
