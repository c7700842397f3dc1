// The file token store (include/oidc/file_token_store.hpp). Every file operation is relative to a
// descriptor of the directory opened (and checked) once, so a directory swapped for a symbolic
// link after the check is never followed; every file is checked with fstat on the descriptor that
// is then read, never with stat on a path (no time-of-check/time-of-use gap).
#include "oidc/file_token_store.hpp"

#include "oidc/crypto.hpp"
#include "oidc/detail/printable.hpp"

#ifdef OIDC_WITH_FILE_STORE
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>
#endif

namespace oidc {

namespace {

constexpr const char* kOperation = "token store";

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0F];
  }
  return out;
}

// Paths come from the environment or the caller: escaped before they reach a message.
std::string shown(const std::string& path) { return "'" + detail::printable(path, 512) + "'"; }

}  // namespace

std::string FileTokenStore::file_name(const TokenKey& key) {
  const auto digest = sha256(key.canonical());
  return hex(digest.data(), digest.size()) + ".json";
}

#ifndef OIDC_WITH_FILE_STORE

struct FileTokenStore::Impl {
  std::string directory;
};

FileTokenStore::FileTokenStore(FileTokenStoreOptions) {
  throw Error(errc::config, kOperation, "this build of oidc has no file token store (OIDC_WITH_FILE_STORE=OFF)");
}
FileTokenStore::~FileTokenStore() = default;
bool FileTokenStore::available() noexcept { return false; }
std::string FileTokenStore::default_directory() {
  throw Error(errc::config, kOperation, "this build of oidc has no file token store (OIDC_WITH_FILE_STORE=OFF)");
}
const std::string& FileTokenStore::directory() const { return impl_->directory; }
std::optional<Token> FileTokenStore::load(const TokenKey&) { return std::nullopt; }
void FileTokenStore::save(const TokenKey&, const Token&) {}
void FileTokenStore::remove(const TokenKey&) {}
std::unique_ptr<TokenStoreLock> FileTokenStore::lock(const TokenKey&, std::chrono::milliseconds, const CancelToken&) {
  return nullptr;
}
std::vector<std::pair<TokenKey, Token>> FileTokenStore::list() { return {}; }

#else

namespace {

// Temporary files: ".<record name>.<random>.tmp". The leading dot keeps them out of list().
constexpr std::string_view kTempPrefix = ".";
constexpr std::string_view kTempSuffix = ".tmp";
// A writer finishes a record in well under a second; an older temporary file is a killed writer's.
constexpr std::time_t kStaleTempSeconds = 60;

std::string errno_text(int e) { return std::strerror(e); }

[[noreturn]] void fail(const std::string& what) { throw Error(errc::store, kOperation, what); }
[[noreturn]] void fail_errno(const std::string& what, int e) { fail(what + ": " + errno_text(e)); }

// Closes on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.release();
    }
    return *this;
  }
  ~Fd() { reset(); }
  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Why `st` (of `path`) is unsafe, or empty. `forbidden` are the permission bits others must not
// have: write for directories, any access for records (a record others could read has leaked, and
// saying so beats serving it silently: ssh refuses such private keys likewise).
std::string unsafe(const struct stat& st, bool want_directory, mode_t forbidden) {
  if (want_directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return want_directory ? "is not a directory" : "is not a regular file";
  if (st.st_uid != ::geteuid()) return "is owned by another user (uid " + std::to_string(st.st_uid) + ")";
  if ((st.st_mode & forbidden) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    return std::string((forbidden & 044) != 0 ? "is accessible by group or others" : "is writable by group or others") +
           " (mode " + mode + ")";
  }
  return {};
}

void check(int fd, const std::string& path, bool want_directory, mode_t forbidden) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno("cannot inspect " + shown(path), errno);
  const std::string why = unsafe(st, want_directory, forbidden);
  if (!why.empty()) fail("refusing " + shown(path) + ": it " + why);
}

// open/openat with the error a caller can act on. ELOOP under O_NOFOLLOW means a symbolic link.
[[noreturn]] void fail_open(const std::string& path, int e) {
  if (e == ELOOP) fail("refusing " + shown(path) + ": it is a symbolic link");
  fail_errno("cannot open " + shown(path), e);
}

void write_all(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot write " + shown(path), errno);
    }
    done += static_cast<std::size_t>(n);
  }
}

bool is_record_name(std::string_view name) {
  if (name.size() != 64 + 5 || name.substr(64) != ".json") return false;
  return std::all_of(name.begin(), name.begin() + 64,
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Opens `path` as a directory for the store, creating each missing component 0700. Only the last
// component must not be a symbolic link: links higher up (/home -> /usr/home) are the system's.
Fd open_directory(const std::string& path) {
  if (path.empty()) fail("the token store directory is empty");
  // mkdir each prefix; a component we create gets 0700 exactly (fchmod: the umask cannot widen it
  // and must not narrow it to something we cannot use).
  for (std::size_t pos = path.find('/', 1);; pos = path.find('/', pos + 1)) {
    const std::string prefix = path.substr(0, pos);
    if (!prefix.empty() && prefix.back() != '/') {
      if (::mkdir(prefix.c_str(), 0700) == 0) {
        Fd created(::open(prefix.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (created.get() < 0) fail_open(prefix, errno);
        check(created.get(), prefix, true, 022);
        if (::fchmod(created.get(), 0700) != 0) fail_errno("cannot set the mode of " + shown(prefix), errno);
      } else if (errno != EEXIST) {
        fail_errno("cannot create " + shown(prefix), errno);
      }
    }
    if (pos == std::string::npos) break;
  }
  std::string last = path;
  while (last.size() > 1 && last.back() == '/') last.pop_back();
  Fd dir(::open(last.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dir.get() < 0) {
    if (errno == ENOTDIR) {
      // O_DIRECTORY|O_NOFOLLOW on a link gives ENOTDIR on some systems: say which it is.
      struct stat st {};
      if (::lstat(last.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) fail_open(last, ELOOP);
    }
    fail_open(last, errno);
  }
  check(dir.get(), last, true, 022);
  return dir;
}

// A directory stream of `dir` with its own position: a dup() would share the descriptor's offset,
// and two threads listing through one store would skip each other's entries.
DIR* open_listing(int dir) {
  const int fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return nullptr;
  DIR* d = ::fdopendir(fd);
  if (!d) {
    const int e = errno;
    ::close(fd);
    errno = e;
  }
  return d;
}

}  // namespace

struct OIDC_LOCAL FileTokenStore::Impl {
  std::string directory;
  FileTokenStoreOptions options;
  Fd dir;

  std::string path_of(const std::string& name) const { return directory + "/" + name; }

  void warn(const Error& e) const {
    if (!options.on_warning) return;
    try {
      options.on_warning(e);
    } catch (...) {  // documented: must not throw; a throwing hook must not break a load
    }
  }

  // The record named `name`, or nullopt when there is none. Unsafe files are errc::store; an
  // oversized one is absent with a warning.
  std::optional<std::string> read(const std::string& name) const {
    const std::string path = path_of(name);
    // O_NONBLOCK: a FIFO planted under the name must not block the open; fstat then refuses it.
    Fd fd(::openat(dir.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) {
      if (errno == ENOENT) return std::nullopt;
      fail_open(path, errno);
    }
    check(fd.get(), path, false, 077);
    // Read at most the cap plus one byte: the file may grow after any fstat.
    std::string text;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(fd.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        fail_errno("cannot read " + shown(path), errno);
      }
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > options.max_record_size) {
        warn(Error(errc::parse, "reading a saved token",
                   "the saved record " + shown(path) + " is larger than " +
                       std::to_string(options.max_record_size) + " bytes; treated as absent"));
        return std::nullopt;
      }
    }
    return text;
  }

  // parse_stored_token with the path added to its warning.
  std::optional<Token> parse(const std::string& text, const TokenKey& key, const std::string& name) const {
    StoredTokenRead r = parse_stored_token(text, key);
    if (r.warning) warn(Error(r.warning->code(), r.warning->operation(), r.warning->detail() + " (" + shown(path_of(name)) + ")"));
    return std::move(r.token);
  }

  void sync_directory() const {
    if (::fsync(dir.get()) != 0) fail_errno("cannot sync " + shown(directory), errno);
  }

  // Unlinks temporary files older than kStaleTempSeconds: a writer killed between creating and
  // renaming one leaves it, and they must not accumulate. A live writer's file is seconds old.
  void clean_stale_temps() const {
    DIR* d = open_listing(dir.get());
    if (!d) return;
    const std::time_t now = std::time(nullptr);
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name.size() <= kTempPrefix.size() + kTempSuffix.size() || name.substr(0, kTempPrefix.size()) != kTempPrefix ||
          name.substr(name.size() - kTempSuffix.size()) != kTempSuffix)
        continue;
      struct stat st {};
      if (::fstatat(dir.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (st.st_uid == ::geteuid() && now - st.st_mtime > kStaleTempSeconds) (void)::unlinkat(dir.get(), e->d_name, 0);
    }
    ::closedir(d);
  }
};

namespace {

class FileLock final : public TokenStoreLock {
 public:
  explicit FileLock(Fd fd) : fd_(std::move(fd)) {}
  ~FileLock() override { (void)::flock(fd_.get(), LOCK_UN); }

 private:
  Fd fd_;
};

TokenKey key_from_json(const nlohmann::json& j) {
  const auto member = [&](const char* name) {
    const auto it = j.find(name);
    if (it == j.end() || !it->is_string()) throw Error(errc::parse, "reading a saved token", "the record's key is malformed");
    return it->get<std::string>();
  };
  return {member("issuer"),  member("token_endpoint"), member("client_id"), member("grant"),
          member("scope"),   member("resource"),       member("subject")};
}

}  // namespace

FileTokenStore::FileTokenStore(FileTokenStoreOptions options) : impl_(std::make_unique<Impl>()) {
  if (!crypto_available())
    throw Error(errc::config, kOperation, "the file token store names its files by SHA-256, which needs OpenSSL");
  impl_->directory = options.directory.empty() ? default_directory() : options.directory;
  impl_->options = std::move(options);
  impl_->dir = open_directory(impl_->directory);
}

FileTokenStore::~FileTokenStore() = default;

bool FileTokenStore::available() noexcept { return true; }

// Tokens are state (XDG Base Directory: "data that should persist between application restarts
// but that is not important or portable enough"): not cache, which may be wiped at any time and
// would log the user out, and not config, which is copied between machines and into dotfile
// repositories, where credentials must not go.
std::string FileTokenStore::default_directory() {
  const std::string state = env("XDG_STATE_HOME");
  if (!state.empty() && state.front() == '/') return state + "/oidc/tokens";  // relative: ignored, as the spec says
  std::string home = env("HOME");
  if (home.empty() || home.front() != '/') {
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buf[16384];
    if (::getpwuid_r(::geteuid(), &pw, buf, sizeof buf, &found) == 0 && found && found->pw_dir) home = found->pw_dir;
  }
  if (home.empty() || home.front() != '/')
    fail("no directory for the token store: set XDG_STATE_HOME or HOME, or give a directory");
  return home + "/.local/state/oidc/tokens";
}

const std::string& FileTokenStore::directory() const { return impl_->directory; }

std::optional<Token> FileTokenStore::load(const TokenKey& key) {
  const std::string name = file_name(key);
  const std::optional<std::string> text = impl_->read(name);
  if (!text) return std::nullopt;
  return impl_->parse(*text, key, name);
}

void FileTokenStore::save(const TokenKey& key, const Token& token) {
  const std::string name = file_name(key);
  const std::string record = serialize_stored_token(key, token);
  impl_->clean_stale_temps();
  const std::string random = random_bytes(12);
  const std::string temp = std::string(kTempPrefix) + name + "." +
                           hex(reinterpret_cast<const unsigned char*>(random.data()), random.size()) +
                           std::string(kTempSuffix);
  const std::string temp_path = impl_->path_of(temp);
  const int dir = impl_->dir.get();
  Fd fd(::openat(dir, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) fail_open(temp_path, errno);
  try {
    if (::fchmod(fd.get(), 0600) != 0) fail_errno("cannot set the mode of " + shown(temp_path), errno);
    write_all(fd.get(), record, temp_path);
    if (::fsync(fd.get()) != 0) fail_errno("cannot sync " + shown(temp_path), errno);
    if (::close(fd.release()) != 0) fail_errno("cannot write " + shown(temp_path), errno);
    // rename replaces a symbolic link planted under the name, never its target.
    if (::renameat(dir, temp.c_str(), dir, name.c_str()) != 0)
      fail_errno("cannot replace " + shown(impl_->path_of(name)), errno);
  } catch (...) {
    (void)::unlinkat(dir, temp.c_str(), 0);
    throw;
  }
  impl_->sync_directory();  // the rename itself survives a crash
}

void FileTokenStore::remove(const TokenKey& key) {
  const std::string name = file_name(key);
  // The lock file stays: deleting it while another process waits on it would let a third process
  // lock a new file of the same name, and two renewals would run at once.
  if (::unlinkat(impl_->dir.get(), name.c_str(), 0) != 0) {
    if (errno == ENOENT) return;
    fail_errno("cannot delete " + shown(impl_->path_of(name)), errno);
  }
  impl_->sync_directory();
}

std::unique_ptr<TokenStoreLock> FileTokenStore::lock(const TokenKey& key, std::chrono::milliseconds timeout,
                                                     const CancelToken& cancel) {
  // A separate file: the record is replaced by rename, which would leave a lock on the old inode.
  std::string name = file_name(key);
  name.replace(name.size() - 5, 5, ".lock");
  const std::string path = impl_->path_of(name);
  const int dir = impl_->dir.get();
  Fd fd(::openat(dir, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() >= 0) {
    if (::fchmod(fd.get(), 0600) != 0) fail_errno("cannot set the mode of " + shown(path), errno);
  } else if (errno == EEXIST) {
    fd = Fd(::openat(dir, name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) fail_open(path, errno);
  } else {
    fail_open(path, errno);
  }
  // Others must not be able to hold it (write access would let them truncate or replace nothing,
  // but ownership matters: another user's file could be locked by them forever).
  check(fd.get(), path, false, 022);

  // Each open() is its own open file description, so flock excludes other stores of this process
  // as it excludes other processes. Polled in short slices so that cancel and the timeout are seen.
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  auto slice = std::chrono::milliseconds(1);
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return std::make_unique<FileLock>(std::move(fd));
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) fail_errno("cannot lock " + shown(path), errno);
    if (cancel.cancelled()) throw Error(errc::cancelled, "locking the token store", "cancelled");
    const auto now = std::chrono::steady_clock::now();
    if (now >= give_up)
      fail("another renewal held the lock " + shown(path) + " longer than " + std::to_string(timeout.count()) + " ms");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(give_up - now) + std::chrono::milliseconds(1);
    if (cancel.wait_for(std::min(slice, left))) throw Error(errc::cancelled, "locking the token store", "cancelled");
    slice = std::min(slice * 2, std::chrono::milliseconds(20));
  }
}

std::vector<std::pair<TokenKey, Token>> FileTokenStore::list() {
  std::vector<std::string> names;
  {
    DIR* d = open_listing(impl_->dir.get());
    if (!d) fail_errno("cannot list " + shown(impl_->directory), errno);
    while (const dirent* e = ::readdir(d))
      if (is_record_name(e->d_name)) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::pair<TokenKey, Token>> out;
  for (const auto& name : names) {
    try {
      const std::optional<std::string> text = impl_->read(name);
      if (!text) continue;  // deleted meanwhile, or oversized (warned)
      detail::JsonParseResult parsed = detail::parse_json(*text);
      const bool keyed = parsed.failure == detail::JsonFailure::none && parsed.value.is_object() &&
                         parsed.value.contains("key") && parsed.value["key"].is_object();
      if (!keyed) {
        // parse_stored_token says what is wrong (warning, or store_mismatch: caught below).
        (void)impl_->parse(*text, TokenKey{}, name);
        continue;
      }
      const auto key_json = parsed.value.find("key");
      TokenKey key = key_from_json(*key_json);
      if (file_name(key) != name) {
        impl_->warn(Error(errc::store_mismatch, "reading a saved token",
                          "the saved record " + shown(impl_->path_of(name)) + " is not named after its key; skipped"));
        continue;
      }
      if (std::optional<Token> token = impl_->parse(*text, key, name)) out.emplace_back(std::move(key), std::move(*token));
    } catch (const Error& e) {
      impl_->warn(e);  // one unsafe or unreadable record must not hide the others
    }
  }
  return out;
}

#endif  // OIDC_WITH_FILE_STORE

}  // namespace oidc
