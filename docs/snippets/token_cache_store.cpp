// run: local-provider
// docs/guides/token-cache.md: tokens kept across restarts and shared between processes through a
// FileTokenStore. Run against the embedded provider (argv[1] is its base URL), in a temporary
// directory: a second source (standing for a second process, or the next run) starts from the token
// the first one saved, without a request.
#include <oidc/oidc.hpp>

#include "check.hpp"
#include <oidc/file_token_store.hpp>

#include <stdlib.h>  // mkdtemp

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  const std::string base_url = snippet::provider_url(argc, argv, "http://127.0.0.1:8080");
  if (!oidc::FileTokenStore::available()) {
    std::cout << "this build has no file token store (OIDC_WITH_FILE_STORE=OFF)\n";
    return 0;
  }
  std::string dir = (std::filesystem::temp_directory_path() / "oidc-snippet-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return 1;
  bool ok = true;

  const oidc::Client client(snippet::svc_config(base_url));
  std::string first_token;
  {
    // [store]
    oidc::FileTokenStoreOptions store_options;
    store_options.directory = dir + "/tokens";  // empty: $XDG_STATE_HOME/oidc/tokens or ~/.local/state/oidc/tokens
    store_options.on_warning = [](const oidc::Error& e) { std::cerr << "token store: " << e.what() << "\n"; };
    auto store = std::make_shared<oidc::FileTokenStore>(store_options);

    oidc::TokenSourceOptions options;
    options.store = store;  // the key (issuer, endpoint, client, grant, scope, resource) comes from the client
    auto source = client.token_source(oidc::grants::ClientCredentials{}, options);
    const std::string header = source->authorization_header();  // renewed, saved, then served
    // [store]
    first_token = source->token()->access_token.expose();
    ok = snippet::expect(source->renewals() == 1, "the first source makes the request") && ok;
  }

  // [restart]
  // The next run, or another process: the same client configuration finds the saved token.
  oidc::FileTokenStoreOptions store_options;
  store_options.directory = dir + "/tokens";
  auto store = std::make_shared<oidc::FileTokenStore>(store_options);
  oidc::TokenSourceOptions options;
  options.store = store;
  auto source = client.token_source(oidc::grants::ClientCredentials{}, options);
  const std::shared_ptr<const oidc::Token> restored = source->token();  // no request: still fresh
  // The record's key, and so its file: client.token_key(grant.form()) is what the source used.
  const oidc::TokenKey key = client.token_key(oidc::grants::ClientCredentials{}.form());
  std::cout << "saved as " << oidc::FileTokenStore::file_name(key) << "\n";
  // [restart]
  ok = snippet::expect(source->renewals() == 0, "the second source makes no request") && ok;
  ok = snippet::expect(restored->access_token.equals(first_token), "the second source serves the saved token") && ok;
  ok = snippet::expect(std::filesystem::exists(dir + "/tokens/" + oidc::FileTokenStore::file_name(key)), "the record is there") && ok;
  ok = snippet::expect(store->load(key).has_value(), "load() finds the record by the client's key") && ok;

  // A source for another scope has another key: it does not see this token.
  auto other = client.token_source(oidc::grants::ClientCredentials{"profile"}, options);
  ok = snippet::expect(!store->load(client.token_key(oidc::grants::ClientCredentials{"profile"}.form())).has_value(),
         "another scope, another record") && ok;
  (void)other;

  std::filesystem::remove_all(dir);
  return ok ? 0 : 1;
}
