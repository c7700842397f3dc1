// --verbose: every request and response traced on stderr, with secrets and tokens masked.
#ifndef OIDC_TOKEN_VERBOSE_TRANSPORT_HPP
#define OIDC_TOKEN_VERBOSE_TRANSPORT_HPP

#include <memory>
#include <vector>

#include <oidc/secret.hpp>
#include <oidc/transport.hpp>

namespace oidc_token {

// Wraps `base`: method, URL, header names (values only of harmless headers; Authorization,
// Cookie and the like masked), status, and a masked excerpt of each body. `secrets` (client
// secret, password) are masked in every form the redaction helpers know; the caller may append to
// them before the first request from another thread (the password, once it is read).
std::shared_ptr<oidc::Transport> make_verbose_transport(std::shared_ptr<oidc::Transport> base,
                                                        std::shared_ptr<const std::vector<oidc::Secret>> secrets);

}  // namespace oidc_token

#endif
