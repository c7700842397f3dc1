#include "commands.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include <oidc/detail/url.hpp>
#include <oidc/loopback.hpp>

#include "store.hpp"
#include "terminal.hpp"

namespace oidc_token {
namespace {

using std::chrono::system_clock;

std::string quoted(const std::string& name) { return "\"" + oidc::detail::printable(name, 64) + "\""; }

ProfileFile profiles(const GlobalOptions& global) {
  return load_profiles(global.config.empty() ? default_config_path() : global.config);
}

struct Fetched {
  Profile profile;
  std::shared_ptr<const oidc::Token> token;
};

// The profile's access token: the stored one while valid, else renewed (and saved).
Fetched fetch_token(const GlobalOptions& global, const std::string& name, std::chrono::seconds min_valid) {
  const ProfileFile file = profiles(global);
  const Profile& profile = file.find(name);
  const auto margin = oidc::TokenSourceOptions{}.skew + min_valid;
  // Served from the store before the Client exists: building it reads the client secret (a
  // command may prompt for a passphrase) and, with an issuer, fetches the discovery document.
  // Two candidate records (the issuer's token endpoint changed) are left to the keyed path.
  const auto mine = profile_tokens(profile, *open_store(global.store_dir, true));
  if (mine.size() == 1 && !mine.front().second.expired(system_clock::now(), margin)) {
    if (global.verbose) message("using the stored token of profile " + quoted(profile.name) + ": no request");
    return {profile, std::make_shared<const oidc::Token>(mine.front().second)};
  }
  Session session = open_session(profile, global, open_store(global.store_dir));
  if (profile.grant == "password") {
    // A stored token that is still good needs no password: the password command (which may
    // prompt) runs only when a new token is due. Any other grant's source needs no secret input.
    const auto saved = session.store->load(session.key);
    if (saved && !saved->expired(system_clock::now(), margin))
      return {profile, std::make_shared<const oidc::Token>(*saved)};
    load_password(session);
  }
  auto source = open_token_source(session);
  try {
    auto token = source->token();
    if (min_valid.count() > 0 && token->expiry && *token->expiry - system_clock::now() < min_valid) {
      source->invalidate(*token);
      token = source->token();
      if (token->expiry && *token->expiry - system_clock::now() < min_valid)
        warn("the provider's new token is valid for less than --min-valid");
    }
    return {profile, std::move(token)};
  } catch (const oidc::Error& e) {
    if (e.code() != oidc::errc::interaction_required || !profile.interactive()) throw;
    throw ExitError(exit_login_required, "login required for profile " + quoted(profile.name) + " (" +
                                             e.detail() + "): run `oidc-token login " +
                                             oidc::detail::printable(profile.name, 64) + "`");
  }
}

bool valid_env_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (const char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

// execvp, or 127 with a message when the program cannot be run (as shells do).
int run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::cout.flush();
  ::execvp(argv[0], argv.data());
  message("cannot run " + oidc::detail::printable(args[0], 200) + ": " + std::strerror(errno));
  return exit_cannot_run;
}

oidc::Token device_login(Session& session, const LoginOptions& options) {
  const auto auth = session.client.device_authorization({session.profile.scope, session.extra});
  const auto uri = oidc::detail::printable(auth.verification_uri, 2000);
  std::cerr << "To sign in, open " << uri << " and enter the code " << oidc::detail::printable(auth.user_code, 200)
            << "\n";
  const std::string& complete =
      auth.verification_uri_complete.empty() ? auth.verification_uri : auth.verification_uri_complete;
  if (!auth.verification_uri_complete.empty())
    std::cerr << "or open " << oidc::detail::printable(auth.verification_uri_complete, 2000) << "\n";
  if (!options.no_qr && is_terminal(STDERR_FILENO)) print_qr(complete);
  std::cerr << std::flush;
  if (options.browser) oidc::open_in_browser(complete);

  Countdown countdown(auth.expires_at);
  oidc::DevicePollOptions poll;
  bool slowed = false;  // stays on the line once said: the longer interval stays too
  poll.on_pending = [&](const oidc::DevicePollProgress& p) {
    slowed = slowed || p.slow_down;
    countdown.note(slowed ? "waiting for approval; server asked to slow down; polling every " +
                                std::to_string(p.interval.count()) + " s"
                          : "waiting for approval...");
  };
  auto token = session.client.poll_device_token(auth, poll);
  return token;
}

oidc::Token browser_login(Session& session, const LoginOptions& options) {
  oidc::AuthorizationOptions request;
  request.scope = session.profile.scope;
  if (!session.profile.resource.empty()) request.resource = {session.profile.resource};
  if (!session.profile.audience.empty()) request.extra = {{"audience", session.profile.audience}};
  oidc::LoopbackOptions loopback;
  loopback.open_browser = [&](const std::string& url) {
    std::cerr << "To sign in, open this URL in your browser:\n  " << oidc::detail::printable(url) << "\n"
              << "waiting for the browser's redirect..." << std::endl;
    if (options.browser) oidc::open_in_browser(url);
  };
  return oidc::loopback_login(session.client, std::move(request), loopback);
}

std::string refresh_text(const oidc::Token& t, system_clock::time_point now) {
  if (!t.has_refresh_token()) return "no refresh token";
  return "refresh token expires " + (t.refresh_expiry ? expiry_text(t.refresh_expiry, now) : std::string("never said"));
}

}  // namespace

int exit_code(const oidc::Error& e) {
  using oidc::errc;
  switch (e.code()) {
    case errc::config:
    case errc::insecure_url:
    case errc::invalid_request:
    case errc::store_mismatch: return exit_config;
    case errc::interaction_required: return exit_login_required;
    case errc::transport:
    case errc::dns:
    case errc::connect:
    case errc::tls:
    case errc::timeout: return exit_network;
    case errc::store: return exit_store;
    case errc::cancelled:
    case errc::deadline_exceeded: return exit_failure;
    default: return exit_provider;  // the server answered: OAuth errors, bad HTTP, JSON, JOSE checks
  }
}

int cmd_get(const GlobalOptions& global, const GetOptions& options) {
  const auto fetched = fetch_token(global, options.profile, std::chrono::seconds{options.min_valid});
  const oidc::Token& token = *fetched.token;
  if (options.json) std::cout << token_json(token, options.with_secrets, system_clock::now()) << "\n";
  else if (options.header) std::cout << token.authorization_header() << "\n";
  else std::cout << token.access_token.expose() << "\n";
  std::cout.flush();
  return std::cout ? exit_ok : exit_failure;
}

int cmd_login(const GlobalOptions& global, const LoginOptions& options) {
  const ProfileFile file = profiles(global);
  const Profile& profile = file.find(options.profile);
  const auto store = open_store(global.store_dir);
  Session session = open_session(profile, global, store);
  load_password(session);
  oidc::Token token;
  if (profile.grant == "device") {
    token = device_login(session, options);
  } else if (profile.grant == "authorization_code") {
    token = browser_login(session, options);
  } else {
    // Nothing to log in to: obtaining a token checks the credentials and fills the store.
    auto source = open_token_source(session);
    token = *source->token();
    message("profile " + quoted(profile.name) + " uses the " + profile.grant +
            " grant; `oidc-token get` obtains its tokens by itself");
  }
  if (profile.interactive()) store->save(session.key, token);
  const auto now = system_clock::now();
  message("logged in (profile " + quoted(profile.name) + "): access token expires " + expiry_text(token.expiry, now) +
          "; " + refresh_text(token, now));
  return exit_ok;
}

int cmd_logout(const GlobalOptions& global, const LogoutOptions& options) {
  const ProfileFile file = profiles(global);
  const Profile& profile = file.find(options.profile);
  const auto store = open_store(global.store_dir);
  if (options.no_revoke) {
    // Deleting needs neither the provider nor a secret: the records are found from the profile.
    const auto mine = profile_tokens(profile, *store);
    if (mine.empty()) {
      message("no token stored for profile " + quoted(profile.name));
      return exit_ok;
    }
    for (const auto& record : mine) {
      const auto held = store->lock(record.first, std::chrono::seconds{30}, oidc::CancelToken{});
      store->remove(record.first);
    }
    message("logged out (profile " + quoted(profile.name) + ")");
    return exit_ok;
  }
  Session session = open_session(profile, global, store);
  // Held so that a renewal in another process cannot save a new token behind our back.
  const auto held = store->lock(session.key, std::chrono::seconds{30}, oidc::CancelToken{});
  const auto token = store->load(session.key);
  if (!token) {
    message("no token stored for profile " + quoted(profile.name));
    return exit_ok;
  }
  if (session.client.config().revocation_endpoint.empty()) {
    message("the provider has no revocation endpoint: the token is only deleted here");
  } else {
    // The refresh token first: revoking it ends the whole grant at most providers (RFC 7009 §2.1).
    for (const auto& [value, hint] : {std::make_pair(&token->refresh_token, "refresh_token"),
                                      std::make_pair(&token->access_token, "access_token")}) {
      if (value->empty()) continue;
      try {
        session.client.revoke(*value, hint);
      } catch (const oidc::Error& e) {
        warn(std::string("revoking the ") + hint + " failed (deleting it anyway): " + e.what());
      }
    }
  }
  store->remove(session.key);
  message("logged out (profile " + quoted(profile.name) + ")");
  return exit_ok;
}

int cmd_status(const GlobalOptions& global) {
  const ProfileFile file = profiles(global);
  const auto store = open_store(global.store_dir);
  const auto saved = stored_tokens(*store);
  const auto now = system_clock::now();
  for (const auto& p : file.profiles) {
    const oidc::Token* found = nullptr;
    for (const auto& [key, token] : saved)
      if (profile_owns(p, key)) found = &token;
    std::cout << oidc::detail::printable(p.name, 64) << (p.name == file.default_profile ? " (default)" : "") << "  "
              << p.grant << "  ";
    if (!found) {
      std::cout << "no token stored\n";
      continue;
    }
    std::cout << "access token " << (found->expired(now) ? "expired " : "expires ") << expiry_text(found->expiry, now)
              << "; " << refresh_text(*found, now) << "\n";
  }
  return exit_ok;
}

int cmd_exec(const GlobalOptions& global, const ExecOptions& options) {
  const auto fetched = fetch_token(global, options.profile, std::chrono::seconds{0});
  const std::string name =
      !options.env.empty() ? options.env : !fetched.profile.env.empty() ? fetched.profile.env : "OIDC_TOKEN";
  if (!valid_env_name(name))
    throw oidc::Error(oidc::errc::config, "exec", "env " + quoted(name) + " is not a variable name");
  if (::setenv(name.c_str(), fetched.token->access_token.expose().c_str(), 1) != 0)
    throw ExitError(exit_failure, std::string("setenv: ") + std::strerror(errno));
  return run(options.command);
}

int cmd_curl(const GlobalOptions& global, const ExecOptions& options) {
  // The bearer token must not cross a network in the clear (as the library's authorized transport).
  const auto fetched = fetch_token(global, options.profile, std::chrono::seconds{0});
  oidc::detail::require_secure_url(options.command.front(), fetched.profile.allow_insecure_http, "curl");
  const std::string header = "Authorization: " + fetched.token->authorization_header() + "\n";
  int fds[2];
  if (::pipe(fds) != 0) throw ExitError(exit_failure, std::string("pipe: ") + std::strerror(errno));
  // The pipe holds the whole header before curl starts (64 KiB on Linux, 4 KiB guaranteed by
  // POSIX); a larger token would block this write.
  if (header.size() > 4096 && ::fcntl(fds[1], F_GETPIPE_SZ) < static_cast<int>(header.size()))
    throw ExitError(exit_failure, "the access token is too large for the header pipe");
  const char* p = header.data();
  std::size_t left = header.size();
  while (left > 0) {
    const ssize_t n = ::write(fds[1], p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ExitError(exit_failure, std::string("write: ") + std::strerror(errno));
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::close(fds[1]);
  std::vector<std::string> args{"curl", "-H", "@/dev/fd/" + std::to_string(fds[0])};
  args.insert(args.end(), options.command.begin(), options.command.end());
  return run(args);
}

}  // namespace oidc_token
