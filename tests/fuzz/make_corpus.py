#!/usr/bin/env python3
"""Writes tests/fuzz/corpus/<harness>/ seed files: the JSON bodies of the provider documents
(tests/support/seed_documents.hpp) as the exchanges they were, plus hand-made edge cases.
Re-run after changing the seed documents; files are named by content, so reruns are stable.

    python3 tests/fuzz/make_corpus.py
"""
import hashlib
import json
import pathlib
import re

here = pathlib.Path(__file__).resolve().parent
root = here.parent.parent
corpus = here / "corpus"

seeds_hpp = (root / "tests/support/seed_documents.hpp").read_text()
raw = dict(re.findall(r'(kSeed\w+)\s*=\s*(?:\n\s*)?R"\((.*?)\)"', seeds_hpp, re.S))
plain = dict(re.findall(r'(kSeed\w+)\s*=\s*(?:\n\s*)?"((?:[^"\\]|\\.)*)"', seeds_hpp))


def put(harness, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = corpus / harness
    d.mkdir(parents=True, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    (d / name).write_bytes(data)


def http(status, body, ctype="application/json", extra=""):
    head = f"{status}\n"
    if ctype:
        head += f"Content-Type: {ctype}\n"
    return head + extra + "\n" + body


def fdp_strings(*parts):
    """Bytes that FuzzedDataProvider::ConsumeRandomLengthString hands back as `parts`, in order."""
    return "".join(p.replace("\\", "\\\\") + "\\ " for p in parts)


token_bodies = [raw[k] for k in raw if k.endswith("TokenResponse") or "RefreshResponse" in k or "PasswordResponse" in k]
token_bodies.append(raw["kSeed003ResponseSchema"])  # not JSON: the document's broken schema
device_bodies = [raw["kSeed000DeviceAuthorizationResponse"], raw["kSeed002DeviceAuthorizationResponse"]]
error_bodies = [
    '{"error":"invalid_grant","error_description":"Invalid user credentials"}',
    '{"error":"authorization_pending","error_description":"The authorization request is still pending"}',
    '{"error":"slow_down"}',
    '{"error":"expired_token","error_description":"Device code expired"}',
    '{"error":"unauthorized_client","error_description":"Client not allowed for direct access grants"}',
    '{"error":"invalid_client","error_description":"Invalid client credentials","error_uri":"https://example.com/e"}',
    '{"error":"access_denied","error_description":"\\u001b[31mred\\u001b[0m\\r\\nline"}',
]
edge_bodies = [
    '{"a":' + "[" * 100 + "]" * 100 + ',"access_token":"x"}',  # deep nesting, 100 levels
    '{"access_token":"a","access_token":"b","token_type":"bearer"}',  # duplicate keys
    '{"access_token":"a","expires_in":1e400}',  # huge numbers
    '{"access_token":"a","expires_in":-1e300,"refresh_expires_in":18446744073709551616}',
    '{"access_token":"a","expires_in":"999999999999","interval":9223372036854775807}',
    '{"access_token":"a\\r\\nX-Injected: 1","token_type":"Bearer\\u0000"}',
    '{"access_token":"\\ud83d\\ude00\\u00e9\\"\\\\\\/\\b\\f\\n\\r\\t","scope":["openid",1,null,"email"]}',
    '{"access_token":"eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDAwMDB9.c2ln","token_type":"DPoP"}',
]

# token_response: every token body, also under other statuses and content types.
for b in token_bodies + edge_bodies:
    put("token_response", http(200, b))
put("token_response", http(200, raw["kSeed000DeviceTokenResponse"], "application/json;charset=UTF-8"))
put("token_response", http(200, "access_token=abc&token_type=bearer&expires_in=3600&scope=user", "application/x-www-form-urlencoded"))
put("token_response", http(200, "access_token=abc&token_type=bearer", "text/plain"))
put("token_response", http(200, "<html><body>Service Unavailable</body></html>", "text/html"))
put("token_response", http(502, ""))
for b in error_bodies[:3]:
    put("token_response", http(400, b))

# device_response
for b in device_bodies:
    put("device_response", http(200, b))
put("device_response", http(200, '{"device_code":"d","user_code":"U\\u001b[2J","verification_url":"https://g.co/device","expires_in":"1800","interval":0}'))
put("device_response", http(200, '{"device_code":"d","user_code":"ABCD","verification_uri":"https://x/\\r\\n","expires_in":1e999}'))
put("device_response", http(400, error_bodies[0]))

# pushed_authorization_response (RFC 9126 §2.2): the RFC's example, then one edge per rule.
par = "urn:ietf:params:oauth:request_uri:6esc_11ACC5bwc014ltc14eY22c"
put("pushed_authorization_response", http(201, '{"request_uri":"%s","expires_in":60}' % par))
put("pushed_authorization_response", http(200, '{"request_uri":"%s","expires_in":"90"}' % par, "application/json;charset=UTF-8"))
put("pushed_authorization_response", http(201, '{"request_uri":"urn:x\\r\\nLocation: https://evil","expires_in":60}'))
put("pushed_authorization_response", http(201, '{"request_uri":"urn:x y\\u001b[2J","expires_in":60}'))
put("pushed_authorization_response", http(201, '{"request_uri":"%s","expires_in":60}' % ("urn:" + "a" * 2045)))
put("pushed_authorization_response", http(201, '{"request_uri":"noscheme","expires_in":0}'))
put("pushed_authorization_response", http(201, '{"request_uri":7,"expires_in":1e999}'))
put("pushed_authorization_response", http(400, '{"error":"invalid_request","error_description":"bad secret Tr0ub4dor&3"}'))
put("pushed_authorization_response", http(401, "", None, "WWW-Authenticate: Basic realm=\"par\"\n"))

# error_response (FuzzedDataProvider: three member strings, then choices taken from the end).
for b in error_bodies:
    o = json.loads(b)
    put("error_response", fdp_strings(o.get("error", ""), o.get("error_description", ""), o.get("error_uri", "")) + "\x00\x00\x00\x00\x00\x00")
put("error_response", fdp_strings("invalid_client", "bad secret Tr0ub4dor&3", "") + "\x01\x01\x00\x01\x02\x00")

# client: one scenario's answers in order (client credentials, password, refresh, device, polls).
cc = raw["kSeed000DeviceTokenResponseRealistic"]
steps = [http(200, cc), http(200, raw["kSeed003AbbreviatedPasswordResponse"]), http(200, raw["kSeed000RefreshResponse"]),
         http(200, device_bodies[0]), http(400, error_bodies[1]), http(400, error_bodies[2]), "!t", http(200, raw["kSeed002DeviceTokenResponse"])]
put("client", "\n=====\n".join(steps))
put("client", "\n=====\n".join([http(401, error_bodies[5]), http(400, error_bodies[0]), "!c", http(200, device_bodies[1]),
                                  http(400, error_bodies[3])]))
put("client", "\n=====\n".join([http(200, cc), http(200, cc), http(400, error_bodies[4]),
                                  http(200, '{"device_code":"d","user_code":"u","verification_uri":"https://v","expires_in":315360000,"interval":315360000}'),
                                  "!t", "!t", "!t", "!t", "!t", "!t"]))

# form: the documents' request bodies and callback queries.
for k in ("kSeed000DeviceAuthorizationRequestBody", "kSeed000DeviceTokenRequestBody", "kSeed000RefreshRequestBody",
          "kSeed002AuthorizationCodeRequestQuery", "kSeed002AuthorizationCodeCallbackQuery", "kSeed002ImplicitRedirectFragment",
          "kSeed002PasswordRequestBodyTemplate", "kSeed002ClientCredentialsRequestBody"):
    put("form", plain[k])
put("form", "a=%zz&b=%4&c=%41%42+%2B&&=x&novalue&d=%00%0D%0A")

# url: the first byte's low bit is allow_insecure_http.
urls = [v for k, v in plain.items() if k.endswith("Url") and v.startswith("http")]
urls += ["http://127.0.0.1:8080/realms/test/protocol/openid-connect/token", "http://[::1]:8080/token", "http://localhost/cb",
         "HTTP://LOCALHOST./x", "http://127.1/", "http://127.0.0.1.evil.example/", "https://user:pw@auth.example.com:8443/t?q#f",
         "https://a@b@evil.example/", "http://[::ffff:127.0.0.1]/", "https://[fe80::1%25eth0]/", "http://0x7f.0.0.1/",
         "https://auth.example.com\\@evil.example/", "https://%61uth.example.com/", "ftp://x/"]
for u in urls:
    put("url", "\x00" + u)
put("url", "\x01http://auth.example.com/token")

# base64: the JWTs' segments, both alphabets.
for k in ("kSeed000RealisticAccessToken", "kSeed002ImplicitAccessToken", "kSeed000RealisticRefreshToken"):
    for seg in plain[k].split("."):
        put("base64", seg[:300])
put("base64", "SGVsbG8sIHdvcmxkIQ==")
put("base64", "+/+/-_-_")

# jwt: whole tokens (mode byte 1 at the end) and header/payload pairs (mode byte 0).
for k in ("kSeed000RealisticAccessToken", "kSeed002ImplicitAccessToken", "kSeed000RealisticRefreshToken"):
    put("jwt", plain[k] + "\x01")
for payload in ('{"exp":1718195975,"iat":1718109600}', '{"exp":1.5e300}', '{"exp":-9223372036854775808}',
                '{"exp":18446744073709551615}', '{"exp":"1718195975"}', '{"exp":1e19}', '[1,2]'):
    put("jwt", fdp_strings('{"alg":"RS256","typ":"JWT"}') + payload + "\x00")
# ... ID tokens the harness signs (HS256 with its client secret) and validates at now = 1700000000:
# one that passes, and one edge per rule.
id_claims = '"iss":"https://sso.example.com/realms/core","sub":"u1","exp":1700000300,"iat":1700000000,"nonce":"n-1"'
for payload in ('{' + id_claims + ',"aud":"my-app"}', '{' + id_claims + ',"aud":["my-app","api"],"azp":"my-app"}',
                '{' + id_claims + ',"aud":["my-app","api"]}', '{' + id_claims + ',"aud":"my-app","nbf":1700000031}',
                '{' + id_claims + ',"aud":"my-app","auth_time":"x","at_hash":7}', '{' + id_claims + ',"aud":[]}',
                '{' + id_claims.replace("1700000300", "1699999970") + ',"aud":"my-app"}',
                '{' + id_claims + ',"aud":"my-app","sub":"dup"}'):
    put("jwt", fdp_strings('{"kid":"k1","typ":"JWT"}') + payload + "\x00")
    put("jwt", fdp_strings('{"alg":"HS256","crit":["x"]}') + payload + "\x00")
# ... and whole tokens of the shapes parse_jws refuses.
for token in ("eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln.a.b", "eyJhbGciOiJSUzI1NiJ9=.e30.c2ln",
              "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhIn0.c2ln"):
    put("jwt", token + "\x01")

# token_json: saved tokens (mode byte 1) and Token fields (mode byte 0).
saved = [
    '{"access_token":"at","token_type":"Bearer","scope":"openid","received_at":1700000000,"expires_at":1700000300,"extra":{"session_state":"s"}}',
    '{"access_token":"at","refresh_token":"rt","refresh_expires_at":1700001800,"id_token":"it","received_at":0}',
    '{"access_token":"at","expires_at":1e300}',
    '{"access_token":"at","expires_at":9223372036854775807}',
    '{"access_token":"at","expires_at":-9223372036854775808,"received_at":null}',
    '{"access_token":7}',
    '{"extra":' + "[" * 100 + "]" * 100 + ',"access_token":"x"}',
]
for s in saved:
    put("token_json", s + "\x01")
put("token_json", fdp_strings("eyJhbGciOiJub25lIn0.e30.", "Bearer", "openid email", "rt", "") + '{"k":[1,2.5,"x",null]}' + "\x00" * 40)

# redact: JSON and free-text bodies with secrets (the harness embeds its own secrets too).
for b in [raw["kSeed000DeviceTokenResponseRealistic"], error_bodies[6], "<html>token=abcdEFGH1234 password=Tr0ub4dor%263</html>"]:
    put("redact", b[:1500] + "\x00\x01")
put("redact", fdp_strings("Tr0ub4dor&3", "p@ss\"word\\", '{"x":"', "echo: ", "end") + "\x02\x01\x00\x01\x02\x00\x01")

# headers: extra_headers name/value pairs.
put("headers", fdp_strings("Host", "login.vyopta.com", "X-Request-Id", "42"))
put("headers", fdp_strings("X-A", "v\r\nX-Injected: 1", "X-B\x00", "v\x00w"))
