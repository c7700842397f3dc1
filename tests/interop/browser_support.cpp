#include "browser.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <memory>

namespace oidc_interop {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower(x) == lower(y); });
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// One start or end tag of an HTML document, attributes decoded.
struct Tag {
  std::string name;  // lower case
  bool closing = false;
  Fields attributes;  // names lower case
  std::size_t begin = 0, end = 0;  // offsets of '<' and one past '>'

  std::optional<std::string> attr(std::string_view n) const { return field(attributes, n); }
};

// The tags of `html` in order. The content of script and style elements is skipped (their text
// is not markup); that is all the HTML the provider's pages need.
std::vector<Tag> scan_tags(std::string_view html) {
  std::vector<Tag> tags;
  std::size_t i = 0;
  while ((i = html.find('<', i)) != std::string_view::npos) {
    // Comments and declarations (<!DOCTYPE>) are tags named "!": no element, no text.
    const bool comment = html.compare(i, 4, "<!--") == 0;
    if (comment || html.compare(i, 2, "<!") == 0 || html.compare(i, 2, "<?") == 0) {
      const auto close = comment ? html.find("-->", i + 4) : html.find('>', i);
      Tag d;
      d.name = "!";
      d.begin = i;
      d.end = close == std::string_view::npos ? html.size() : close + (comment ? 3 : 1);
      i = d.end;
      tags.push_back(std::move(d));
      continue;
    }
    Tag t;
    t.begin = i;
    std::size_t j = i + 1;
    if (j < html.size() && html[j] == '/') {
      t.closing = true;
      ++j;
    }
    if (j >= html.size() || !std::isalpha(static_cast<unsigned char>(html[j]))) {  // a '<' in text
      ++i;
      continue;
    }
    while (j < html.size() && !is_space(html[j]) && html[j] != '>' && html[j] != '/') t.name += lower(html[j++]);
    while (j < html.size() && html[j] != '>') {
      if (is_space(html[j]) || html[j] == '/') {
        ++j;
        continue;
      }
      std::string name;
      while (j < html.size() && !is_space(html[j]) && html[j] != '>' && html[j] != '=' && html[j] != '/')
        name += lower(html[j++]);
      while (j < html.size() && is_space(html[j])) ++j;
      std::string value;
      if (j < html.size() && html[j] == '=') {
        ++j;
        while (j < html.size() && is_space(html[j])) ++j;
        if (j < html.size() && (html[j] == '"' || html[j] == '\'')) {
          const char quote = html[j++];
          const auto close = html.find(quote, j);
          const auto stop = close == std::string_view::npos ? html.size() : close;
          value = html_unescape(html.substr(j, stop - j));
          j = stop == html.size() ? stop : stop + 1;
        } else {
          const auto start = j;
          while (j < html.size() && !is_space(html[j]) && html[j] != '>') ++j;
          value = html_unescape(html.substr(start, j - start));
        }
      }
      if (!name.empty()) t.attributes.emplace_back(std::move(name), std::move(value));
    }
    t.end = j < html.size() ? j + 1 : html.size();
    i = t.end;
    const bool raw_text = !t.closing && (t.name == "script" || t.name == "style");
    const std::string name = t.name;
    tags.push_back(std::move(t));
    if (raw_text) {
      const std::string lowered = to_lower(html.substr(i));
      const auto close = lowered.find("</" + name);
      if (close == std::string::npos) break;
      i += close;
    }
  }
  return tags;
}

// `html` as text: tags, scripts and styles removed, entities decoded, whitespace collapsed.
std::string text_of(std::string_view html) {
  std::string raw;
  std::size_t at = 0;
  std::string_view skip_until;  // inside script or style: drop the text
  for (const auto& t : scan_tags(html)) {
    if (skip_until.empty()) raw += html.substr(at, t.begin - at);
    raw += ' ';
    at = t.end;
    if (!t.closing && (t.name == "script" || t.name == "style")) skip_until = t.name == "script" ? "script" : "style";
    else if (t.closing && t.name == skip_until) skip_until = {};
  }
  if (skip_until.empty() && at < html.size()) raw += html.substr(at);
  std::string out;
  for (const char c : html_unescape(raw)) {
    if (is_space(c)) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// `ref` resolved against `base` (RFC 3986 §5), by libcurl's URL parser; any scheme is allowed
// (a native app's redirect URI may be a private-use one).
std::string resolve(const std::string& base, const std::string& ref) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u) throw BrowserError("curl_url failed");
  if (curl_url_set(u.get(), CURLUPART_URL, base.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
      curl_url_set(u.get(), CURLUPART_URL, ref.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    throw BrowserError("cannot resolve '" + ref + "' against '" + base + "'");
  char* out = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &out, 0) != CURLUE_OK || !out)
    throw BrowserError("cannot resolve '" + ref + "' against '" + base + "'");
  std::string resolved(out);
  curl_free(out);
  return resolved;
}

std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Header lines of the response; a status line starts over (a 100 Continue came first).
std::size_t collect_header(char* data, std::size_t size, std::size_t n, void* out) {
  auto& headers = *static_cast<Fields*>(out);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (starts_with(line, "HTTP/")) {
    headers.clear();
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    auto value = line.substr(colon + 1);
    while (!value.empty() && is_space(value.front())) value.remove_prefix(1);
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
  return size * n;
}

}  // namespace

std::optional<std::string> field(const Fields& fields, std::string_view name) {
  for (const auto& [n, v] : fields)
    if (n == name) return v;
  return std::nullopt;
}

std::string html_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      out += '&';
      continue;
    }
    const auto entity = s.substr(i + 1, semi - i - 1);
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else if (entity == "nbsp") out += ' ';
    else if (entity.size() > 1 && entity[0] == '#') {
      const bool hex = entity[1] == 'x' || entity[1] == 'X';
      const std::string digits(entity.substr(hex ? 2 : 1));
      char* end = nullptr;
      const unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (digits.empty() || *end != '\0') {
        out += '&';
        continue;
      }
      append_utf8(out, cp);
    } else {
      out += '&';  // not an entity this scanner knows: kept as written
      continue;
    }
    i = semi;
  }
  return out;
}

std::string form_urlencode(const Fields& fields) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  const auto encode = [&](std::string_view s) {
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '*') out += ch;
      else if (c == ' ') out += '+';
      else {
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
  };
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out += '&';
    encode(name);
    out += '=';
    encode(value);
  }
  return out;
}

std::string form_decode_component(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Fields url_parameters(std::string_view url, bool fragment) {
  const auto hash = url.find('#');
  std::string_view part;
  if (fragment) {
    if (hash == std::string_view::npos) return {};
    part = url.substr(hash + 1);
  } else {
    const auto q = url.find('?');
    if (q == std::string_view::npos || (hash != std::string_view::npos && q > hash)) return {};
    part = url.substr(q + 1, hash == std::string_view::npos ? std::string_view::npos : hash - q - 1);
  }
  return form_fields(part);
}

Fields form_fields(std::string_view body) {
  Fields out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const auto pair = body.substr(0, amp);
    body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    out.emplace_back(form_decode_component(pair.substr(0, eq)),
                     eq == std::string_view::npos ? std::string() : form_decode_component(pair.substr(eq + 1)));
  }
  return out;
}

std::vector<std::string> values(const Fields& fields, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [n, v] : fields)
    if (n == name) out.push_back(v);
  return out;
}

// ---- Form, Page ----

std::optional<std::string> Form::value(std::string_view name) const { return field(fields, name); }
std::optional<std::string> Form::button(std::string_view name) const { return field(buttons, name); }

std::optional<std::string> Page::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return std::nullopt;
}

std::string Page::title() const {
  const auto tags = scan_tags(body);
  for (std::size_t i = 0; i + 1 < tags.size(); ++i)
    if (!tags[i].closing && tags[i].name == "title")
      return text_of(std::string_view(body).substr(tags[i].end, tags[i + 1].begin - tags[i].end));
  return {};
}

std::vector<Form> Page::forms() const {
  const auto tags = scan_tags(body);
  std::vector<Form> forms;
  // Pass 1: the forms, so that controls naming a later form with form="id" find it.
  for (const auto& t : tags) {
    if (t.closing || t.name != "form") continue;
    Form f;
    f.id = t.attr("id").value_or("");
    const auto action = t.attr("action").value_or("");
    f.action = action.empty() ? url : resolve(url, action);
    f.method = iequals(t.attr("method").value_or("get"), "post") ? "POST" : "GET";
    forms.push_back(std::move(f));
  }
  // Pass 2: the controls, each to the form it names or the one it is inside.
  std::optional<std::size_t> open;
  std::size_t seen = 0;
  for (const auto& t : tags) {
    if (t.name == "form") {
      if (t.closing) open.reset();
      else open = seen++;
      continue;
    }
    if (t.closing || (t.name != "input" && t.name != "button")) continue;
    Form* owner = nullptr;
    if (const auto named = t.attr("form")) {
      for (auto& f : forms)
        if (f.id == *named) owner = &f;
    } else if (open) {
      owner = &forms[*open];
    }
    const auto name = t.attr("name");
    if (!owner || !name || name->empty() || t.attr("disabled")) continue;
    const std::string type = to_lower(t.attr("type").value_or(t.name == "button" ? "submit" : "text"));
    const std::string value = t.attr("value").value_or("");
    if (type == "submit" || type == "image") owner->buttons.emplace_back(*name, value);
    else if (type == "button" || type == "reset" || type == "file") continue;
    else if (type == "checkbox" || type == "radio") {
      if (t.attr("checked")) owner->fields.emplace_back(*name, t.attr("value").value_or("on"));
    } else {
      owner->fields.emplace_back(*name, value);
    }
  }
  return forms;
}

std::vector<Link> Page::links() const {
  const auto tags = scan_tags(body);
  std::vector<Link> links;
  for (std::size_t i = 0; i < tags.size(); ++i) {
    if (tags[i].closing || tags[i].name != "a") continue;
    const auto href = tags[i].attr("href");
    if (!href) continue;
    std::size_t close = i + 1;
    while (close < tags.size() && !(tags[close].closing && tags[close].name == "a")) ++close;
    const auto text_end = close < tags.size() ? tags[close].begin : body.size();
    links.push_back({resolve(url, *href), text_of(std::string_view(body).substr(tags[i].end, text_end - tags[i].end))});
  }
  return links;
}

Form Page::form(const FormSelector& which) const {
  auto all = forms();
  if (which.index) {
    if (*which.index < all.size()) return all[*which.index];
    throw BrowserError("the page has no form #" + std::to_string(*which.index) + "\n" + describe());
  }
  for (auto& f : all)
    if (f.id == which.id) return f;
  throw BrowserError("the page has no form id=\"" + which.id + "\"\n" + describe());
}

std::optional<Form> Page::form_with(std::string_view name, std::string_view value) const {
  for (auto& f : forms())
    if (f.value(name) == std::optional<std::string>(std::string(value))) return f;
  return std::nullopt;
}

std::string Page::describe() const {
  std::string s = "HTTP " + std::to_string(status) + " for " + method + " " + url;
  if (!location.empty()) s += "\n  Location: " + location;
  const auto t = title();
  if (!t.empty()) s += "\n  title: " + t;
  auto text = text_of(body);
  if (text.size() > 1500) text = text.substr(0, 1500) + "...";
  s += "\n  text: " + text;
  return s;
}

// ---- Browser ----

Browser::Browser(std::string ca_file) : ca_file_(std::move(ca_file)) {
  CURL* h = curl_easy_init();
  if (!h) throw BrowserError("curl_easy_init failed");
  curl_ = h;
  request_headers_ = curl_slist_append(nullptr, "Accept: text/html,application/xhtml+xml,*/*;q=0.8");
  request_headers_ = curl_slist_append(request_headers_, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(h, CURLOPT_COOKIEFILE, "");  // the cookie engine, in memory: the jar
  curl_easy_setopt(h, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // follow() does it, one visible step at a time
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "oidc-interop-browser/1");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, request_headers_);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_header);
}

Browser::~Browser() {
  curl_easy_cleanup(static_cast<CURL*>(curl_));
  curl_slist_free_all(request_headers_);
}

Page Browser::request(const std::string& url, const std::optional<std::string>& form_body) {
  auto* h = static_cast<CURL*>(curl_);
  Page page;
  page.method = form_body ? "POST" : "GET";
  page.url = url;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (form_body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(form_body->size()));
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, form_body->c_str());  // form-urlencoded by default
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &page.body);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &page.headers);
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    history_.push_back(page.method + " " + url + " -> " + curl_easy_strerror(rc));
    fail(std::string("request failed: ") + curl_easy_strerror(rc), page);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &page.status);
  if (const auto location = page.header("location")) page.location = resolve(url, *location);
  history_.push_back(page.method + " " + url + " -> " + std::to_string(page.status));
  return page;
}

void Browser::fail(const std::string& what, const Page& page) const {
  std::string s = what + "\n" + page.describe() + "\n  requests:";
  for (const auto& line : history_) s += "\n    " + line;
  throw BrowserError(s);
}

Page Browser::get(const std::string& url) { return request(url, std::nullopt); }

Page Browser::post(const std::string& url, const Fields& fields) { return request(url, form_urlencode(fields)); }

Page Browser::submit(const Page& page, const FormSelector& which, const Fields& overrides) {
  return submit(page.form(which), overrides);
}

Page Browser::submit(const Form& form, const Fields& overrides) {
  Fields fields = form.fields;
  for (const auto& [name, value] : overrides) {
    const auto it = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.first == name; });
    if (it != fields.end()) it->second = value;
    else fields.emplace_back(name, value);
  }
  if (form.method == "POST") return post(form.action, fields);
  // HTML: a GET form's data replaces the action's query.
  const auto cut = form.action.find_first_of("?#");
  return get(form.action.substr(0, cut) + "?" + form_urlencode(fields));
}

Page Browser::follow(Page page, std::string_view stop_prefix, int max_redirects) {
  for (int n = 0; page.is_redirect(); ++n) {
    if (!stop_prefix.empty() && starts_with(page.location, stop_prefix)) return page;
    if (n >= max_redirects) fail("more than " + std::to_string(max_redirects) + " redirects", page);
    if ((page.status == 307 || page.status == 308) && page.method == "POST")
      fail("a 307/308 asks to repeat the POST, which this browser does not do", page);
    page = get(page.location);
  }
  return page;
}

Page Browser::open_device_confirmation(const std::string& verification_uri, const std::string& user_code) {
  // verification_uri_complete answers with a form that submits itself by script (the user_code
  // filled in); verification_uri with the code input form. Either way: submit it.
  Page page = follow(get(verification_uri));
  const auto forms = page.forms();
  const auto entry = std::find_if(forms.begin(), forms.end(), [](const Form& f) { return f.has("user_code"); });
  if (entry == forms.end()) fail("no user code form at the verification URI", page);
  Fields typed;  // the user types the code only where the page did not fill it in
  if (entry->value("user_code")->empty()) typed.emplace_back("user_code", user_code);
  page = follow(submit(*entry, typed));
  if (!page.form_with("confirm", "yes")) fail("no device confirmation form (an unknown, expired or used code?)", page);
  return page;
}

Page Browser::interact(Page page, std::string_view stop_prefix, std::string_view login, std::string_view password) {
  for (int step = 0; step < 8; ++step) {
    if (page.is_redirect()) return page;  // follow() stopped at stop_prefix
    if (const auto f = page.form_with("prompt", "login")) {
      page = follow(submit(*f, {{"login", std::string(login)}, {"password", std::string(password)}}), stop_prefix);
    } else if (const auto c = page.form_with("prompt", "consent")) {
      page = follow(submit(*c), stop_prefix);
    } else {
      return page;
    }
  }
  fail("the login and consent pages kept coming back", page);
}

Page Browser::approve_device(const std::string& verification_uri, const std::string& user_code, std::string_view login,
                             std::string_view password) {
  const Page confirmation = open_device_confirmation(verification_uri, user_code);
  const Page page = interact(follow(submit(*confirmation.form_with("confirm", "yes"))), {}, login, password);
  // successSource's page (lib/helpers/defaults.js): the device code now carries the account.
  if (!page.contains("Sign-in Success")) fail("the device approval did not reach the success page", page);
  return page;
}

// The login page's [ Cancel ] link (/interaction/<uid>/abort), followed.
Page Browser::cancel_login(const Page& login, std::string_view stop_prefix) {
  if (!login.form_with("prompt", "login")) fail("expected the login page", login);
  const auto links = login.links();
  const auto cancel =
      std::find_if(links.begin(), links.end(), [](const Link& l) { return l.text.find("Cancel") != std::string::npos; });
  if (cancel == links.end()) fail("the login page has no Cancel link", login);
  return follow(get(cancel->href), stop_prefix);
}

std::string Browser::deny_authorization(const std::string& authorization_url, std::string_view redirect_uri_prefix) {
  if (redirect_uri_prefix.empty()) throw BrowserError("deny_authorization() needs the redirect URI to stop at");
  const Page page = cancel_login(follow(get(authorization_url), redirect_uri_prefix), redirect_uri_prefix);
  if (!page.is_redirect() || !starts_with(page.location, redirect_uri_prefix))
    fail("the denial did not end in a redirect to " + std::string(redirect_uri_prefix), page);
  return page.location;
}

Page Browser::deny_device(const std::string& verification_uri, const std::string& user_code, DenyAt where) {
  const Page confirmation = open_device_confirmation(verification_uri, user_code);
  const Form confirm = *confirmation.form_with("confirm", "yes");
  Page page;
  if (where == DenyAt::confirmation) {
    // The [ Abort ] button sits outside the form (form="op.deviceConfirmForm") and adds abort=yes.
    const auto abort = confirm.button("abort");
    if (!abort) fail("the confirmation page has no abort button", confirmation);
    page = follow(submit(confirm, {{"abort", *abort}}));
  } else {
    page = cancel_login(follow(submit(confirm)), {});
  }
  // userCodeInputSource's message for an AbortedError (lib/helpers/defaults.js).
  if (!page.contains("The Sign-in request was interrupted"))
    fail("the denial did not reach the interrupted page", page);
  return page;
}

std::string Browser::authorize(const std::string& authorization_url, std::string_view redirect_uri_prefix,
                               std::string_view login, std::string_view password) {
  if (redirect_uri_prefix.empty()) throw BrowserError("authorize() needs the redirect URI to stop at");
  const Page page = interact(follow(get(authorization_url), redirect_uri_prefix), redirect_uri_prefix, login, password);
  if (!page.is_redirect() || !starts_with(page.location, redirect_uri_prefix))
    fail("the authorization request did not end in a redirect to " + std::string(redirect_uri_prefix), page);
  return page.location;
}

}  // namespace oidc_interop
