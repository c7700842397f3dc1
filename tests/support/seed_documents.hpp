// Verbatim request/response values from the provider documents in
// /work/shared/seeds, so tests and the demo can replay exactly what each
// provider documents. Values are copied character for character (including
// the documents' typos and placeholders); where a document contradicts itself
// or the RFCs, the comment next to the constant says so. Constants whose name
// ends in "Realistic" are NOT verbatim: they substitute realistic token
// strings for the documents' placeholders.
#pragma once

#include <string_view>

namespace oidc_testing::seeds {

// ---------------------------------------------------------------------------
// Seed 000 — Keycloak (umetrics.studio, realm "core"): device authorization
// grant (RFC 8628) with public client "device-client", then refresh.
//
// Inconsistencies in the document:
//  * URLs use the legacy "/auth" prefix (pre-Keycloak-17 layout).
//  * The first device-token curl sends `--header
//    "Content-Type=application/x-www-form-urlencoded"` ('=' instead of ':'),
//    which curl turns into no Content-Type header at all; curl's --data then
//    defaults to application/x-www-form-urlencoded anyway.
//  * The refresh prose says POST to ".../openid-connect/auth/token", but both
//    refresh curls use ".../openid-connect/token" (the real endpoint).
//  * Bodies are sent with curl --data, i.e. unencoded (':' and '<', '>' raw).
// ---------------------------------------------------------------------------

inline constexpr std::string_view kSeed000DeviceAuthorizationUrl =
    "https://umetrics.studio/auth/realms/core/protocol/openid-connect/auth/device";
inline constexpr std::string_view kSeed000TokenUrl =
    "https://umetrics.studio/auth/realms/core/protocol/openid-connect/token";
// The URL the refresh prose names; it does not exist on Keycloak (see above).
inline constexpr std::string_view kSeed000RefreshProseUrl =
    "https://umetrics.studio/auth/realms/core/protocol/openid-connect/auth/token";
inline constexpr std::string_view kSeed000ClientId = "device-client";

inline constexpr std::string_view kSeed000DeviceAuthorizationRequestBody =
    "client_id=device-client";

inline constexpr std::string_view kSeed000DeviceAuthorizationResponse = R"({
"device_code": "E1oZyd3a98JFtPcWDgR50leCH1xRMAZHnWMQxE21lLE",
"user_code": "XCMX-RRUL",
"verification_uri": "https://umetrics.studio/auth/realms/core/device",
"verification_uri_complete": "https://umetrics.studio/auth/realms/core/device?user_code=XCMX-RRUL",
"expires_in": 600,
"interval": 5
})";
inline constexpr std::string_view kSeed000DeviceCode =
    "E1oZyd3a98JFtPcWDgR50leCH1xRMAZHnWMQxE21lLE";
inline constexpr std::string_view kSeed000UserCode = "XCMX-RRUL";
inline constexpr std::string_view kSeed000VerificationUri =
    "https://umetrics.studio/auth/realms/core/device";
inline constexpr std::string_view kSeed000VerificationUriComplete =
    "https://umetrics.studio/auth/realms/core/device?user_code=XCMX-RRUL";

// Single-line variant from the document (the three --data flags of the first
// curl produce the same body, joined with '&').
inline constexpr std::string_view kSeed000DeviceTokenRequestBody =
    "client_id=device-client&device_code=E1oZyd3a98JFtPcWDgR50leCH1xRMAZHnWMQxE21lLE&grant_type=urn:ietf:params:oauth:grant-type:device_code";

// "<actual-access-token>" / "<actual-refresh-token>" are the document's
// placeholders, kept verbatim. expires_in 86375 / refresh_expires_in 1775:
// Keycloak caps both by the SSO session already started at device login.
inline constexpr std::string_view kSeed000DeviceTokenResponse = R"({
"access_token": "<actual-access-token>",
"expires_in": 86375,
"refresh_expires_in": 1775,
"refresh_token": "<actual-refresh-token>",
"token_type": "Bearer",
"not-before-policy": 0,
"session_state": "95535beb-dff0-4fd0-a91c-7bb7a1b826ae",
"scope": ""
})";
inline constexpr std::string_view kSeed000SessionState =
    "95535beb-dff0-4fd0-a91c-7bb7a1b826ae";

// Placeholder kept verbatim: '<' and '>' are sent raw, as curl --data does.
inline constexpr std::string_view kSeed000RefreshRequestBody =
    "client_id=device-client&grant_type=refresh_token&refresh_token=<actual-refresh-token>";

// Same session_state as the device response: refresh keeps the SSO session.
// expires_in dropped to 85745 (session max minus elapsed time), while
// refresh_expires_in went back up to the full 1800 idle timeout.
inline constexpr std::string_view kSeed000RefreshResponse = R"({
"access_token": "<actual-access-token>",
"expires_in": 85745,
"refresh_expires_in": 1800,
"refresh_token": "<actual-refresh-token>",
"token_type": "Bearer",
"not-before-policy": 0,
"session_state": "95535beb-dff0-4fd0-a91c-7bb7a1b826ae",
"scope": ""
})";

// NOT verbatim: the two bodies above with Keycloak-shaped JWTs (RS256 access
// token, HS256 "Refresh" token; fake signatures) in place of the placeholders.
inline constexpr std::string_view kSeed000RealisticAccessToken =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImtRM1RxN2gwdEMxUFp5Snc1YVhxOW1OMmxCNnZSOHNENGZHMGhKMWtMMm0ifQ.eyJleHAiOjE3MTgxOTU5NzUsImlhdCI6MTcxODEwOTYwMCwianRpIjoiNmYxYzBkMmUtOGE0Yi00YzNkLTllNWYtMGExYjJjM2Q0ZTVmIiwiaXNzIjoiaHR0cHM6Ly91bWV0cmljcy5zdHVkaW8vYXV0aC9yZWFsbXMvY29yZSIsImF1ZCI6ImFjY291bnQiLCJzdWIiOiIzYjJmN2E5Yy0xZDRlLTRmNmEtOGIwYy0yZDllN2YxYTVjM2IiLCJ0eXAiOiJCZWFyZXIiLCJhenAiOiJkZXZpY2UtY2xpZW50Iiwic2Vzc2lvbl9zdGF0ZSI6Ijk1NTM1YmViLWRmZjAtNGZkMC1hOTFjLTdiYjdhMWI4MjZhZSIsInNjb3BlIjoiIiwic2lkIjoiOTU1MzViZWItZGZmMC00ZmQwLWE5MWMtN2JiN2ExYjgyNmFlIn0.m9HFVkLPJl23wd1eVQQ7s61N5pgf3QxoW79MrpoVLh8HM1MAPExN02pmNdH5dp-vuqlfae_41v0_27UO8b-SQl5HYDrVN4gm722vDtHdqtpgB1TR9e6yhGdcGKpq6rdwVMrhDx2Qmi6v_g_MqferSrbGuVOzNfmF6QJV1ooE8zw_1lxfxYa50m2yC43EJert5BO-QN7TxchDAp-7dEOf9p4iFj3b8lBZcHdgDBNJOCh-5vudsWkvL0ifDr3i0o7m9vQNtHLMwc3KVayxzxJgX-NqGfGySQBctTEqN1Il6uNoxei-mNoTWJhRbMroRhSf_gppknmKo7hMTMk-arSKKQ";
inline constexpr std::string_view kSeed000RealisticRefreshToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImExYjJjM2Q0LWU1ZjYtNGE3Yi04YzlkLTBlMWYyYTNiNGM1ZCJ9.eyJleHAiOjE3MTgxMTEzNzUsImlhdCI6MTcxODEwOTYwMCwianRpIjoiMGQ5YzhiN2EtNmY1ZS00ZDNjLTJiMWEtMGY5ZThkN2M2YjVhIiwiaXNzIjoiaHR0cHM6Ly91bWV0cmljcy5zdHVkaW8vYXV0aC9yZWFsbXMvY29yZSIsImF1ZCI6Imh0dHBzOi8vdW1ldHJpY3Muc3R1ZGlvL2F1dGgvcmVhbG1zL2NvcmUiLCJzdWIiOiIzYjJmN2E5Yy0xZDRlLTRmNmEtOGIwYy0yZDllN2YxYTVjM2IiLCJ0eXAiOiJSZWZyZXNoIiwiYXpwIjoiZGV2aWNlLWNsaWVudCIsInNlc3Npb25fc3RhdGUiOiI5NTUzNWJlYi1kZmYwLTRmZDAtYTkxYy03YmI3YTFiODI2YWUiLCJzY29wZSI6IiIsInNpZCI6Ijk1NTM1YmViLWRmZjAtNGZkMC1hOTFjLTdiYjdhMWI4MjZhZSJ9.2ewW4U3eTYM4LLpvYl-vMcb_bMqq03a-Bj8BG9b6Xck";
inline constexpr std::string_view kSeed000RealisticRefreshedAccessToken =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImtRM1RxN2gwdEMxUFp5Snc1YVhxOW1OMmxCNnZSOHNENGZHMGhKMWtMMm0ifQ.eyJleHAiOjE3MTgxOTYzNzUsImlhdCI6MTcxODExMDYzMCwianRpIjoiN2EyZDFlM2YtOWI1Yy00ZDRlLThmNmEtMWIyYzNkNGU1ZjYwIiwiaXNzIjoiaHR0cHM6Ly91bWV0cmljcy5zdHVkaW8vYXV0aC9yZWFsbXMvY29yZSIsImF1ZCI6ImFjY291bnQiLCJzdWIiOiIzYjJmN2E5Yy0xZDRlLTRmNmEtOGIwYy0yZDllN2YxYTVjM2IiLCJ0eXAiOiJCZWFyZXIiLCJhenAiOiJkZXZpY2UtY2xpZW50Iiwic2Vzc2lvbl9zdGF0ZSI6Ijk1NTM1YmViLWRmZjAtNGZkMC1hOTFjLTdiYjdhMWI4MjZhZSIsInNjb3BlIjoiIiwic2lkIjoiOTU1MzViZWItZGZmMC00ZmQwLWE5MWMtN2JiN2ExYjgyNmFlIn0.kiJQmVjutzyGdPBthgWfD8-40J3IjNsbcC-cBwjthUcN02unSDPJALmyrXJILy7MQd3MYQrOoSqe8xkBw9bwVSZJGo_Rw1Pwf161WMdAXzcj7mT3klmvKJ1E4wJ72PBRZuURrrX4PqXDZrtu4EPq00pIKneI1Ht2lNLJ61tS142js5xPAtKlkR4S3e8AK9YBsf2Ma64C7_rs1-xN_2edLf6IRbRMFyoHsR_YcwwT2loiO7yZeVG7yZgkpRN-xEuuGsxncsm1hcrYiVaCy3340RPJf9t5XH6PGJOWdpTd6AFZM7h2TvGoV1i0huiKUSfZoSp2c43a3L7_MHFZYiu2PA";
inline constexpr std::string_view kSeed000RealisticRefreshedRefreshToken =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImExYjJjM2Q0LWU1ZjYtNGE3Yi04YzlkLTBlMWYyYTNiNGM1ZCJ9.eyJleHAiOjE3MTgxMTI0MzAsImlhdCI6MTcxODExMDYzMCwianRpIjoiMWUwZDljOGItN2E2Zi00ZTVkLTNjMmItMWEwZjllOGQ3YzZiIiwiaXNzIjoiaHR0cHM6Ly91bWV0cmljcy5zdHVkaW8vYXV0aC9yZWFsbXMvY29yZSIsImF1ZCI6Imh0dHBzOi8vdW1ldHJpY3Muc3R1ZGlvL2F1dGgvcmVhbG1zL2NvcmUiLCJzdWIiOiIzYjJmN2E5Yy0xZDRlLTRmNmEtOGIwYy0yZDllN2YxYTVjM2IiLCJ0eXAiOiJSZWZyZXNoIiwiYXpwIjoiZGV2aWNlLWNsaWVudCIsInNlc3Npb25fc3RhdGUiOiI5NTUzNWJlYi1kZmYwLTRmZDAtYTkxYy03YmI3YTFiODI2YWUiLCJzY29wZSI6IiIsInNpZCI6Ijk1NTM1YmViLWRmZjAtNGZkMC1hOTFjLTdiYjdhMWI4MjZhZSJ9.4noiLEuw2wKrNCe5hQrrlc6p9f-xmHUJery88AWj-R8";

inline constexpr std::string_view kSeed000DeviceTokenResponseRealistic = R"({
"access_token": "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImtRM1RxN2gwdEMxUFp5Snc1YVhxOW1OMmxCNnZSOHNENGZHMGhKMWtMMm0ifQ.eyJleHAiOjE3MTgxOTU5NzUsImlhdCI6MTcxODEwOTYwMCwianRpIjoiNmYxYzBkMmUtOGE0Yi00YzNkLTllNWYtMGExYjJjM2Q0ZTVmIiwiaXNzIjoiaHR0cHM6Ly91bWV0cmljcy5zdHVkaW8vYXV0aC9yZWFsbXMvY29yZSIsImF1ZCI6ImFjY291bnQiLCJzdWIiOiIzYjJmN2E5Yy0xZDRlLTRmNmEtOGIwYy0yZDllN2YxYTVjM2IiLCJ0eXAiOiJCZWFyZXIiLCJhenAiOiJkZXZpY2UtY2xpZW50Iiwic2Vzc2lvbl9zdGF0ZSI6Ijk1NTM1YmViLWRmZjAtNGZkMC1hOTFjLTdiYjdhMWI4MjZhZSIsInNjb3BlIjoiIiwic2lkIjoiOTU1MzViZWItZGZmMC00ZmQwLWE5MWMtN2JiN2ExYjgyNmFlIn0.m9HFVkLPJl23wd1eVQQ7s61N5pgf3QxoW79MrpoVLh8HM1MAPExN02pmNdH5dp-vuqlfae_41v0_27UO8b-SQl5HYDrVN4gm722vDtHdqtpgB1TR9e6yhGdcGKpq6rdwVMrhDx2Qmi6v_g_MqferSrbGuVOzNfmF6QJV1ooE8zw_1lxfxYa50m2yC43EJert5BO-QN7TxchDAp-7dEOf9p4iFj3b8lBZcHdgDBNJOCh-5vudsWkvL0ifDr3i0o7m9vQNtHLMwc3KVayxzxJgX-NqGfGySQBctTEqN1Il6uNoxei-mNoTWJhRbMroRhSf_gppknmKo7hMTMk-arSKKQ",
"expires_in": 86375,
"refresh_expires_in": 1775,
"refresh_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImExYjJjM2Q0LWU1ZjYtNGE3Yi04YzlkLTBlMWYyYTNiNGM1ZCJ9.eyJleHAiOjE3MTgxMTEzNzUsImlhdCI6MTcxODEwOTYwMCwianRpIjoiMGQ5YzhiN2EtNmY1ZS00ZDNjLTJiMWEtMGY5ZThkN2M2YjVhIiwiaXNzIjoiaHR0cHM6Ly91bWV0cmljcy5zdHVkaW8vYXV0aC9yZWFsbXMvY29yZSIsImF1ZCI6Imh0dHBzOi8vdW1ldHJpY3Muc3R1ZGlvL2F1dGgvcmVhbG1zL2NvcmUiLCJzdWIiOiIzYjJmN2E5Yy0xZDRlLTRmNmEtOGIwYy0yZDllN2YxYTVjM2IiLCJ0eXAiOiJSZWZyZXNoIiwiYXpwIjoiZGV2aWNlLWNsaWVudCIsInNlc3Npb25fc3RhdGUiOiI5NTUzNWJlYi1kZmYwLTRmZDAtYTkxYy03YmI3YTFiODI2YWUiLCJzY29wZSI6IiIsInNpZCI6Ijk1NTM1YmViLWRmZjAtNGZkMC1hOTFjLTdiYjdhMWI4MjZhZSJ9.2ewW4U3eTYM4LLpvYl-vMcb_bMqq03a-Bj8BG9b6Xck",
"token_type": "Bearer",
"not-before-policy": 0,
"session_state": "95535beb-dff0-4fd0-a91c-7bb7a1b826ae",
"scope": ""
})";

inline constexpr std::string_view kSeed000RefreshResponseRealistic = R"({
"access_token": "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImtRM1RxN2gwdEMxUFp5Snc1YVhxOW1OMmxCNnZSOHNENGZHMGhKMWtMMm0ifQ.eyJleHAiOjE3MTgxOTYzNzUsImlhdCI6MTcxODExMDYzMCwianRpIjoiN2EyZDFlM2YtOWI1Yy00ZDRlLThmNmEtMWIyYzNkNGU1ZjYwIiwiaXNzIjoiaHR0cHM6Ly91bWV0cmljcy5zdHVkaW8vYXV0aC9yZWFsbXMvY29yZSIsImF1ZCI6ImFjY291bnQiLCJzdWIiOiIzYjJmN2E5Yy0xZDRlLTRmNmEtOGIwYy0yZDllN2YxYTVjM2IiLCJ0eXAiOiJCZWFyZXIiLCJhenAiOiJkZXZpY2UtY2xpZW50Iiwic2Vzc2lvbl9zdGF0ZSI6Ijk1NTM1YmViLWRmZjAtNGZkMC1hOTFjLTdiYjdhMWI4MjZhZSIsInNjb3BlIjoiIiwic2lkIjoiOTU1MzViZWItZGZmMC00ZmQwLWE5MWMtN2JiN2ExYjgyNmFlIn0.kiJQmVjutzyGdPBthgWfD8-40J3IjNsbcC-cBwjthUcN02unSDPJALmyrXJILy7MQd3MYQrOoSqe8xkBw9bwVSZJGo_Rw1Pwf161WMdAXzcj7mT3klmvKJ1E4wJ72PBRZuURrrX4PqXDZrtu4EPq00pIKneI1Ht2lNLJ61tS142js5xPAtKlkR4S3e8AK9YBsf2Ma64C7_rs1-xN_2edLf6IRbRMFyoHsR_YcwwT2loiO7yZeVG7yZgkpRN-xEuuGsxncsm1hcrYiVaCy3340RPJf9t5XH6PGJOWdpTd6AFZM7h2TvGoV1i0huiKUSfZoSp2c43a3L7_MHFZYiu2PA",
"expires_in": 85745,
"refresh_expires_in": 1800,
"refresh_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImExYjJjM2Q0LWU1ZjYtNGE3Yi04YzlkLTBlMWYyYTNiNGM1ZCJ9.eyJleHAiOjE3MTgxMTI0MzAsImlhdCI6MTcxODExMDYzMCwianRpIjoiMWUwZDljOGItN2E2Zi00ZTVkLTNjMmItMWEwZjllOGQ3YzZiIiwiaXNzIjoiaHR0cHM6Ly91bWV0cmljcy5zdHVkaW8vYXV0aC9yZWFsbXMvY29yZSIsImF1ZCI6Imh0dHBzOi8vdW1ldHJpY3Muc3R1ZGlvL2F1dGgvcmVhbG1zL2NvcmUiLCJzdWIiOiIzYjJmN2E5Yy0xZDRlLTRmNmEtOGIwYy0yZDllN2YxYTVjM2IiLCJ0eXAiOiJSZWZyZXNoIiwiYXpwIjoiZGV2aWNlLWNsaWVudCIsInNlc3Npb25fc3RhdGUiOiI5NTUzNWJlYi1kZmYwLTRmZDAtYTkxYy03YmI3YTFiODI2YWUiLCJzY29wZSI6IiIsInNpZCI6Ijk1NTM1YmViLWRmZjAtNGZkMC1hOTFjLTdiYjdhMWI4MjZhZSJ9.4noiLEuw2wKrNCe5hQrrlc6p9f-xmHUJery88AWj-R8",
"token_type": "Bearer",
"not-before-policy": 0,
"session_state": "95535beb-dff0-4fd0-a91c-7bb7a1b826ae",
"scope": ""
})";

// ---------------------------------------------------------------------------
// Seed 001 — Keycloak client credentials (confidential client). The document
// only gives templates and no response body; it says only that the response
// has access_token and expires_in and that tokens expire after ~5 minutes.
// Keycloak issues no refresh token for client_credentials.
// ---------------------------------------------------------------------------

inline constexpr std::string_view kSeed001TokenUrlTemplate =
    "https://<AUTH_SERVER>/realms/<REALM>/protocol/openid-connect/token";
// The curl's three -d flags joined with '&' (placeholders verbatim).
inline constexpr std::string_view kSeed001ClientCredentialsRequestBodyTemplate =
    "client_id=<CLIENT_ID>&client_secret=<CLIENT_SECRET>&grant_type=client_credentials";
inline constexpr int kSeed001ExpiresIn = 300;  // "e.g., 5 minutes"

// ---------------------------------------------------------------------------
// Seed 002 — SimpleIdServer 4.0.4-rc1 "Supported grant types" (realm
// "master" on https://localhost:5001).
//
// Inconsistencies in the document:
//  * Every token request says "Content-Type: x-www-form-urlencoded" (missing
//    the "application/" part).
//  * Bodies are shown unencoded (spaces in "openid profile", '<', '>').
//  * The device authorization request is shown going to "/token"; RFC 8628
//    §3.1 sends it to the separate device authorization endpoint
//    (SimpleIdServer serves it at /<realm>/device_authorization). The prose
//    says it includes grant_type, the example does not; the example omits
//    client_secret although the polling request for the same confidential
//    client "device" sends one.
//  * The device token response's JWTs were minted for client "otherDevice",
//    not "device" as in the requests.
//  * The authorization request examples start "response_type=code&\n&..." —
//    a doubled '&' (empty parameter).
//  * The authorization requests say client_id=your_client_id (a placeholder);
//    the code's token request and the implicit access token's client_id
//    claim say "website". A code is bound to the client that requested it
//    (RFC 6749 §4.1.3), so the replays use "website" for both.
//  * The token request's redirect_uri is http://localhost, the authorization
//    request's https://your-app.com/callback; RFC 6749 §4.1.3 requires them
//    identical, so the replays send the authorization request's.
//  * The code response carries token_type=Bearer (no RFC 6749 §4.1.2
//    parameter) and no RFC 9207 iss; the implicit fragment has no expires_in
//    (RECOMMENDED by §4.2.2). Neither request uses PKCE or a nonce.
// ---------------------------------------------------------------------------

// Authorization code request (verbatim query, line breaks removed; note "&&").
inline constexpr std::string_view kSeed002AuthorizationCodeRequestQuery =
    "response_type=code&&client_id=your_client_id&redirect_uri=https://your-app.com/callback&scope=openid profile&state=1234567890";
inline constexpr std::string_view kSeed002AuthorizationCodeCallbackUrl =
    "https://your-app.com/callback?state=1234567890&code=1e32076f-b27f-4e03-9b34-e19dcb5efe11&token_type=Bearer&session_state=AVinZKQq4XTdDezZKi0rJFT9Zs2ikPgr7FZTFMyxuQA.9057a6c7-1d3c-42df-83d2-a47c14e288d0";
inline constexpr std::string_view kSeed002AuthorizationCodeCallbackQuery =
    "state=1234567890&code=1e32076f-b27f-4e03-9b34-e19dcb5efe11&token_type=Bearer&session_state=AVinZKQq4XTdDezZKi0rJFT9Zs2ikPgr7FZTFMyxuQA.9057a6c7-1d3c-42df-83d2-a47c14e288d0";
inline constexpr std::string_view kSeed002AuthorizationCode =
    "1e32076f-b27f-4e03-9b34-e19dcb5efe11";
inline constexpr std::string_view kSeed002AuthorizationCodeTokenRequestBodyTemplate =
    "client_id=website&grant_type=authorization_code&redirect_uri=http://localhost&client_secret=password&code=<authorization code>";

// Implicit grant (verbatim, line breaks removed).
inline constexpr std::string_view kSeed002ImplicitRequestQuery =
    "response_type=token&&client_id=your_client_id&redirect_uri=https://your-app.com/callback&scope=openid profile&state=1234567890";
inline constexpr std::string_view kSeed002ImplicitRedirectFragment =
    "state=1234567890&access_token=eyJhbGciOiJSUzI1NiIsImtpZCI6IndzRmVkS2lkIiwieDV0IjoiTmtCMC05UlpkTDgtdnVmcVVoOWtDUklsbVlnIiwidHlwIjoiSldUIn0.eyJhdWQiOltdLCJjbGllbnRfaWQiOiJ3ZWJzaXRlIiwic2NvcGUiOlsib3BlbmlkIiwicHJvZmlsZSJdLCJzdWIiOiJhZG1pbmlzdHJhdG9yIiwiYXV0aF90aW1lIjoxNjg2NTczMzI0LjAsImV4cCI6MTY4NjU4MjM5NywiaXNzIjoiaHR0cHM6Ly9sb2NhbGhvc3Q6NTAwMS9tYXN0ZXIiLCJpYXQiOjE2ODY1ODA1OTcsIm5iZiI6MTY4NjU4MDU5N30.D9lIADb8M9WNkdGG6vERQBscQyFeNXpVOXLGOxHjyc3kKthDhvM8JGYx6Q3Lnkhs_zvySYS72bLV8jpDUIA6tctvIK7UpsbckumoKVeoCpqvx44U3_Rj5kkm5ICuzSggJhR6iQalYYnML4nQk05OhiVKUAw0Sn--2wXRuo7R6PexiR60KHbhP11NtDve8QdXaoj0IbX-vqEVqlyxcYit0DSYzTWiQ0vNnYmHIExJj_4SLbvURjiWuydqEl58IFrbyFyHKXiVzG7odREps9YUDqxbclxUlQI4igcKTuRZG2KOriBBmt-GGsN1KX-jc21G0gLrg-P0x8MwimrZ-nb2qA&token_type=Bearer&session_state=oJK5q8N1SnWeXGsLxRdSmpZiIKSgnJn1D7enzyA6_xE.c5ea6702-2d7a-4f2f-8687-c0618545d973";
inline constexpr std::string_view kSeed002ImplicitAccessToken =
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IndzRmVkS2lkIiwieDV0IjoiTmtCMC05UlpkTDgtdnVmcVVoOWtDUklsbVlnIiwidHlwIjoiSldUIn0.eyJhdWQiOltdLCJjbGllbnRfaWQiOiJ3ZWJzaXRlIiwic2NvcGUiOlsib3BlbmlkIiwicHJvZmlsZSJdLCJzdWIiOiJhZG1pbmlzdHJhdG9yIiwiYXV0aF90aW1lIjoxNjg2NTczMzI0LjAsImV4cCI6MTY4NjU4MjM5NywiaXNzIjoiaHR0cHM6Ly9sb2NhbGhvc3Q6NTAwMS9tYXN0ZXIiLCJpYXQiOjE2ODY1ODA1OTcsIm5iZiI6MTY4NjU4MDU5N30.D9lIADb8M9WNkdGG6vERQBscQyFeNXpVOXLGOxHjyc3kKthDhvM8JGYx6Q3Lnkhs_zvySYS72bLV8jpDUIA6tctvIK7UpsbckumoKVeoCpqvx44U3_Rj5kkm5ICuzSggJhR6iQalYYnML4nQk05OhiVKUAw0Sn--2wXRuo7R6PexiR60KHbhP11NtDve8QdXaoj0IbX-vqEVqlyxcYit0DSYzTWiQ0vNnYmHIExJj_4SLbvURjiWuydqEl58IFrbyFyHKXiVzG7odREps9YUDqxbclxUlQI4igcKTuRZG2KOriBBmt-GGsN1KX-jc21G0gLrg-P0x8MwimrZ-nb2qA";

// Client credentials (verbatim; already a valid form body).
inline constexpr std::string_view kSeed002ClientCredentialsRequestBody =
    "client_id=device&grant_type=client_credentials&client_secret=password&scope=networks";

// Resource owner password (verbatim: raw space in scope, placeholders).
inline constexpr std::string_view kSeed002PasswordRequestBodyTemplate =
    "client_id=userDevice&grant_type=password&client_secret=password&scope=openid profile&username=<login>&password=<password>";

// Device flow (see the inconsistencies above: "/token", no client_secret).
inline constexpr std::string_view kSeed002DeviceAuthorizationRequestBody =
    "client_id=device&scope=openid profile";
inline constexpr std::string_view kSeed002DeviceAuthorizationResponse = R"({
"device_code": "bd2efb74-4213-4ded-a719-0ec9ecf48e4f",
"user_code": "7096",
"verification_uri": "https://localhost:5001/master/Device",
"verification_uri_complete": "https://localhost:5001/master/Device?userCode=7096",
"expires_in": 600,
"interval": 5
})";
inline constexpr std::string_view kSeed002DeviceCode =
    "bd2efb74-4213-4ded-a719-0ec9ecf48e4f";
inline constexpr std::string_view kSeed002UserCode = "7096";
inline constexpr std::string_view kSeed002DeviceTokenRequestBodyTemplate =
    "client_id=device&grant_type=urn:ietf:params:oauth:grant-type:device_code&client_secret=password&device_code=<device code>";

// Note the SimpleIdServer key order (expires_in first) and the opaque UUID
// refresh token; JWTs were issued to "otherDevice" (see above).
inline constexpr std::string_view kSeed002DeviceTokenResponse = R"({
"expires_in": 1800,
"scope": "openid profile",
"access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IndzRmVkS2lkIiwieDV0IjoiTmtCMC05UlpkTDgtdnVmcVVoOWtDUklsbVlnIiwidHlwIjoiSldUIn0.eyJhdWQiOm51bGwsImNsaWVudF9pZCI6Im90aGVyRGV2aWNlIiwic2NvcGUiOlsib3BlbmlkIiwicHJvZmlsZSJdLCJzdWIiOiJhZG1pbmlzdHJhdG9yIiwiZXhwIjoxNjg2NTk3NzA1LCJpc3MiOiJodHRwczovL2xvY2FsaG9zdDo1MDAxL21hc3RlciIsImlhdCI6MTY4NjU5NTkwNSwibmJmIjoxNjg2NTk1OTA1fQ.wYBMh81XMSwmrvV2e0Sfp4JYM8pyhwSHUqP9AafD0TakayRQw3p0gBjWszu0B1GDFPN-6InxhjIRq_OQ5DVNUhMmplpSuTjjCn34JushUa6kcTArzUZOwjeiWTUg0Pe0gx3hXDpWY3kdxsikSmW3jlCLgGpI7L-6FN_wqtajx2uyRxinHb2rrjrR4vDtISN-I-l65c4h4exSig6W15Db3L4zmwUnC8OecIPDsfA56Lcs2n3rNeqeZw6_L7JXUUIGOogZoZJGYS-0HQl-TuW-bo0pohH7RjnE7tPPEwE12h1guy7pyqd3SN_XmN5HkQRfy2qhfM2f9roiZFolNzJFog",
"id_token": "eyJhbGciOiJFUzI1NiIsImtpZCI6ImVjZHNhLTEiLCJ0eXAiOiJKV1QifQ.eyJhdWQiOlsib3RoZXJEZXZpY2UiLCJodHRwczovL2xvY2FsaG9zdDo1MDAxL21hc3RlciJdLCJhenAiOiJvdGhlckRldmljZSIsImF0X2hhc2giOiJ5T3hCTHZ3aXR4WlE0Q2xldEEzZXFBIiwiYW1yIjpbInB3ZCJdLCJhY3IiOiJzaWQtbG9hZC0wMSIsInN1YiI6ImFkbWluaXN0cmF0b3IiLCJleHAiOjE2ODY1OTc3MDUsImlzcyI6Imh0dHBzOi8vbG9jYWxob3N0OjUwMDEvbWFzdGVyIiwiaWF0IjoxNjg2NTk1OTA1LCJuYmYiOjE2ODY1OTU5MDV9.O9fGKXQCIr4CYOwf5TQ6RXe7LBsUHBn3oU7vnFjIpdYtdYi9YLh1DTct_1Rae2atHVmUkB0sNUl7opy3jLv-jw",
"refresh_token": "5e63301c-e320-49aa-a9cf-959e26bfd818",
"token_type": "Bearer"
})";

// ---------------------------------------------------------------------------
// Seed 003 — Vyopta (Keycloak, realm "vyopta"): password grant with public
// client "vyopta". The Host header must be "login.vyopta.com"; token_type is
// lowercase "bearer" (RFC 6749 §5.1: case-insensitive, so clients must accept
// it). The document gives the fields as a list, not a literal body.
//
// Inconsistencies in the document:
//  * The schema says "not_before_policy" (and has an unterminated quote); the
//    example uses Keycloak's real key "not-before-policy".
//  * The table says scope "email profile"; the example says "emailprofile"
//    (space lost in the web page). Both kept verbatim.
//  * The table says refresh token / refresh_expires_in are "NOT IMPLEMENTED",
//    yet the example response contains both.
//  * The example's tokens are abbreviated ("eyJhb ... -Pdl31W5g",
//    "ey J...-H5oAwI8" — the latter even contains a space).
// ---------------------------------------------------------------------------

inline constexpr std::string_view kSeed003TokenUrl =
    "https://login.vyopta.com/auth/realms/vyopta/protocol/openid-connect/token";
inline constexpr std::string_view kSeed003Host = "login.vyopta.com";
inline constexpr std::string_view kSeed003ClientId = "vyopta";
inline constexpr std::string_view kSeed003TokenType = "bearer";
inline constexpr std::string_view kSeed003Scope = "email profile";  // table
inline constexpr long long kSeed003NotBeforePolicy = 1533920635;

// Verbatim, including the unterminated quote; NOT valid JSON.
inline constexpr std::string_view kSeed003ResponseSchema =
    R"({ "access_token": string, "expires_in": int, "refresh_expires_in": int, "refresh_token": string, "token_type": string, "not_before_policy: long, "session_state": string, "scope": string })";

// Verbatim abbreviated example (valid JSON, but scope is "emailprofile").
inline constexpr std::string_view kSeed003AbbreviatedPasswordResponse =
    R"({ "access_token":"eyJhb ... -Pdl31W5g", "expires_in":300, "refresh_expires_in":1800, "refresh_token":"ey J...-H5oAwI8", "token_type":"bearer", "not-before-policy":1533920635, "session_state":"dad914da-2d68-4202-a98a-146da4033e1e", "scope":"emailprofile" })";
inline constexpr std::string_view kSeed003SessionState =
    "dad914da-2d68-4202-a98a-146da4033e1e";

}  // namespace oidc_testing::seeds
