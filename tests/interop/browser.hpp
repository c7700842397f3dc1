#ifndef OIDC_TESTS_INTEROP_BROWSER_HPP
#define OIDC_TESTS_INTEROP_BROWSER_HPP

// A scripted user agent for the interop suite: it plays the person at the browser for the flows
// that need one (device approval, authorization code, OpenID Connect logins), over HTTPS to the
// provider, with a cookie jar, no JavaScript and no automatic redirects.
//
// Two layers:
//
// - Low level, one HTTP exchange per call: get(), post(), submit() (a page's form, as a browser
//   would send it after the user pressed its submit button) and follow() (3xx after 3xx, until a
//   page that is not a redirect, or a redirect into `stop_prefix`, which is returned unfetched:
//   that is how a client's redirect_uri, http://127.0.0.1/callback, is caught without a server
//   behind it). Nothing follows redirects by itself, so each step can be inspected.
//
//     Browser b(provider.ca_file());
//     Page login = b.follow(b.get(authorization_url));
//     Page next = b.follow(b.submit(login, 0, {{"login", "alice"}, {"password", "x"}}), kRedirectUri);
//
// - High level, whole flows against oidc-provider's development interactions (devInteractions:
//   any login and password are accepted; the login form carries prompt=login, the consent form
//   prompt=consent): approve_device(), deny_device(), authorize(). They check they really got
//   where they meant to (the device success page, a redirect to the redirect URI) and throw
//   BrowserError with the page they got stuck on otherwise; gtest reports that as a failure.
//
// Not a real browser: forms are found by scanning the HTML (form, input, button; no select or
// textarea), and only GET and POST with application/x-www-form-urlencoded bodies are sent.
// One Browser is one user's session (its cookies); it is not thread-safe.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct curl_slist;

namespace oidc_interop {

// Name/value pairs in order: form fields, or the overrides given to submit().
using Fields = std::vector<std::pair<std::string, std::string>>;

// A failure of a scripted flow (an unexpected page, a missing form, a transport failure). Its
// message describes the page and the requests that led there.
class BrowserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One HTML form: what a browser would send for it.
struct Form {
  std::string id;      // the id attribute, "" when none
  std::string action;  // absolute: resolved against the page's URL (the page's URL when absent)
  std::string method;  // "GET" or "POST" (upper case; GET when absent, as in HTML)
  // Successful controls in document order: inputs other than buttons (checkboxes and radios only
  // when checked), including those outside the form that name it with form="id".
  Fields fields;
  // Named submit buttons (<button name> and <input type=submit name>): pressing one adds its
  // name/value to the submission (the device confirm page's abort button works that way).
  Fields buttons;

  bool has(std::string_view name) const { return value(name).has_value(); }
  std::optional<std::string> value(std::string_view name) const;   // first field of that name
  std::optional<std::string> button(std::string_view name) const;  // a named button's value
};

// A hyperlink: href resolved against the page's URL, text with tags stripped.
struct Link {
  std::string href;
  std::string text;
};

// Picks a form of a page: by position (0 = first form) or by its id attribute.
struct FormSelector {
  // Implicit, so that submit(page, 0) and submit(page, "op.deviceConfirmForm") read naturally;
  // the int overload keeps a literal 0 from being taken for a null const char*.
  FormSelector(int i) : index(static_cast<std::size_t>(i)) {}  // NOLINT(google-explicit-constructor)
  FormSelector(std::size_t i) : index(i) {}                    // NOLINT(google-explicit-constructor)
  FormSelector(const char* form_id) : id(form_id) {}           // NOLINT(google-explicit-constructor)
  FormSelector(std::string form_id) : id(std::move(form_id)) {}  // NOLINT(google-explicit-constructor)
  std::optional<std::size_t> index;
  std::string id;
};

// One HTTP response as the browser received it.
struct Page {
  long status = 0;
  std::string method;    // of the request: "GET" or "POST"
  std::string url;       // the URL that was requested
  std::string location;  // Location, resolved against url; "" when none
  Fields headers;        // response header fields as received (names as sent)
  std::string body;

  bool is_redirect() const { return status >= 300 && status < 400 && !location.empty(); }
  bool contains(std::string_view text) const { return body.find(text) != std::string::npos; }
  std::optional<std::string> header(std::string_view name) const;  // case-insensitive, first
  std::string title() const;                                      // <title>, entities decoded
  std::vector<Form> forms() const;
  std::vector<Link> links() const;
  // The form chosen by `which`; throws BrowserError (describing the page) when there is none.
  Form form(const FormSelector& which) const;
  // The first form with a field `name` whose value is `value` (say prompt=login), if any.
  std::optional<Form> form_with(std::string_view name, std::string_view value) const;
  // For failure messages: status, URL, Location, title and the page's text (markup, styles and
  // scripts stripped, whitespace collapsed), cut at about 1500 bytes.
  std::string describe() const;
};

// Where deny_device() says no.
enum class DenyAt {
  confirmation,  // the device confirmation page's [ Abort ] button (abort=yes)
  login,         // the login page's [ Cancel ] link (/interaction/<uid>/abort)
};

class Browser {
 public:
  // Trusts the CA certificates in `ca_file` only. The cookie jar starts empty.
  explicit Browser(std::string ca_file);
  ~Browser();
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  // One request each; redirects are returned, not followed.
  Page get(const std::string& url);
  Page post(const std::string& url, const Fields& fields);
  // Submits a form of `page` as a browser would: its fields, each override replacing the field
  // of that name (or appended when there is none), sent to its action with its method.
  Page submit(const Page& page, const FormSelector& which = 0, const Fields& overrides = {});
  Page submit(const Form& form, const Fields& overrides = {});
  // Follows redirects from `page` with GET (301/302/303; a 307/308 to re-POST throws) until a
  // page that is not a redirect, or a redirect whose Location starts with `stop_prefix` (when not
  // empty), which is returned without being fetched. More than `max_redirects` throws.
  Page follow(Page page, std::string_view stop_prefix = {}, int max_redirects = 20);

  // The RFC 8628 user side, at oidc-provider: opens verification_uri_complete (or
  // verification_uri, then types user_code), confirms the code, logs in as `login` and consents,
  // up to the device success page ("Sign-in Success"), which it returns. Throws BrowserError
  // when the flow ends anywhere else.
  Page approve_device(const std::string& verification_uri, const std::string& user_code, std::string_view login,
                      std::string_view password);
  // The user refuses: at the confirmation page or the login page. Returns the page that says the
  // sign-in was interrupted; throws BrowserError otherwise.
  Page deny_device(const std::string& verification_uri, const std::string& user_code,
                   DenyAt where = DenyAt::confirmation);
  // An authorization request (RFC 6749 §4.1.1) from its full URL: logs in and consents as
  // needed, and returns the redirect to `redirect_uri_prefix` (code, state, iss; or an error)
  // without fetching it. Throws BrowserError when the flow stops on a page instead.
  std::string authorize(const std::string& authorization_url, std::string_view redirect_uri_prefix,
                        std::string_view login, std::string_view password);
  // The user refuses at the login page's [ Cancel ] link: returns the redirect to
  // `redirect_uri_prefix` (error=access_denied, state, iss) without fetching it.
  std::string deny_authorization(const std::string& authorization_url, std::string_view redirect_uri_prefix);

  // "GET url -> 303", one line per request so far: the path that led to a failure.
  const std::vector<std::string>& history() const { return history_; }

 private:
  Page request(const std::string& url, const std::optional<std::string>& form_body);
  [[noreturn]] void fail(const std::string& what, const Page& page) const;
  Page open_device_confirmation(const std::string& verification_uri, const std::string& user_code);
  // Logs in and consents from `page` until neither form is left; returns the first other page.
  Page interact(Page page, std::string_view stop_prefix, std::string_view login, std::string_view password);
  Page cancel_login(const Page& login, std::string_view stop_prefix);

  std::string ca_file_;
  void* curl_ = nullptr;  // CURL*; one handle for the session: it owns the cookie jar
  curl_slist* request_headers_ = nullptr;
  std::vector<std::string> history_;
};

// Utilities of the same scripted world.
std::string form_urlencode(const Fields& fields);       // application/x-www-form-urlencoded
std::string form_decode_component(std::string_view s);  // '+' and %XX decoded
std::string html_unescape(std::string_view s);          // &amp; &lt; &gt; &quot; &#39; &#N; &#xN;
// The query (or, with `fragment`, the fragment) parameters of a URL, decoded, in order.
Fields url_parameters(std::string_view url, bool fragment = false);
// The fields of an application/x-www-form-urlencoded body, decoded here rather than by the library.
Fields form_fields(std::string_view body);
std::vector<std::string> values(const Fields& fields, std::string_view name);  // every value of `name`
// The first parameter of that name among `fields`, if any.
std::optional<std::string> field(const Fields& fields, std::string_view name);

}  // namespace oidc_interop

#endif  // OIDC_TESTS_INTEROP_BROWSER_HPP
