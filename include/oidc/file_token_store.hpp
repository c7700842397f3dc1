#ifndef OIDC_FILE_TOKEN_STORE_HPP
#define OIDC_FILE_TOKEN_STORE_HPP

/// \file
/// A TokenStore in a per-user directory: one file per key, shared by every process of the user
/// (a CLI, a daemon, several of each). Defined in src/file_token_store.cpp with POSIX calls, which
/// never reach this header. A library built with OIDC_WITH_FILE_STORE=OFF (the default off UNIX)
/// has the class, but its constructor throws errc::config.
///
/// Safety (docs/security.md §14): the directory is created 0700 and records 0600 whatever the
/// umask; a directory or record that is a symbolic link, owned by another user or writable by
/// others (records: accessible by others at all) is refused with errc::store; records are replaced
/// atomically (temporary file, fsync, rename, fsync of the directory), so a killed writer leaves the
/// old record or the new one; the lock is flock(2) on a separate `<hash>.lock` file, exclusive
/// across processes and across stores of one process.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oidc/cancel.hpp"
#include "oidc/error.hpp"
#include "oidc/export.hpp"
#include "oidc/token.hpp"
#include "oidc/token_store.hpp"

namespace oidc {

/// Where and how a FileTokenStore keeps its records.
struct FileTokenStoreOptions {
  /// Empty: $XDG_STATE_HOME/oidc/tokens when XDG_STATE_HOME is an absolute path, else
  /// $HOME/.local/state/oidc/tokens (see FileTokenStore::default_directory()).
  std::string directory;
  /// Called with records treated as absent (empty, corrupt, oversized) and, by list(), with records
  /// it skips. Must not throw. The Error names the file, never a token value.
  std::function<void(const Error&)> on_warning;
  /// Larger records are treated as absent (with a warning) rather than read into memory.
  std::size_t max_record_size = std::size_t{1} << 20;
};

/// A TokenStore of one 0600 file per TokenKey in a 0700 per-user directory (see the file's
/// description for the safety rules). Safe for concurrent use by threads and processes.
class OIDC_API FileTokenStore final : public TokenStore {
 public:
  /// Opens the directory, creating each missing component 0700. Throws errc::store when it is
  /// unsafe (a symbolic link, another user's, writable by group or others) or cannot be made, and
  /// errc::config in a build without the file store (or without OpenSSL, which names the files).
  explicit FileTokenStore(FileTokenStoreOptions options = {});
  ~FileTokenStore() override;
  FileTokenStore(const FileTokenStore&) = delete;
  FileTokenStore& operator=(const FileTokenStore&) = delete;

  /// The default directory for this user, from the environment (errc::store when neither
  /// XDG_STATE_HOME nor HOME nor the password database gives one).
  static std::string default_directory();
  /// Whether this build has the file store (OIDC_WITH_FILE_STORE).
  static bool available() noexcept;

  /// The directory in use: FileTokenStoreOptions::directory as given, or default_directory().
  [[nodiscard]] const std::string& directory() const;
  /// The record's file name for \p key: hex SHA-256 of key.canonical(), then ".json".
  [[nodiscard]] static std::string file_name(const TokenKey& key);

  /// TokenStore::load from file_name(key); a missing file is nullopt, an unsafe one errc::store.
  [[nodiscard]] std::optional<Token> load(const TokenKey& key) override;
  /// TokenStore::save: writes a 0600 temporary file, fsyncs it, renames it over the record (never
  /// through a symbolic link planted there) and fsyncs the directory.
  void save(const TokenKey& key, const Token& token) override;
  /// TokenStore::remove: deletes the record; the lock file stays, so that a process waiting on it
  /// keeps excluding the others.
  void remove(const TokenKey& key) override;
  /// TokenStore::lock: flock(2) on `<hash>.lock`, polled so that \p timeout (errc::store after
  /// it) and \p cancel (errc::cancelled) are seen.
  [[nodiscard]] std::unique_ptr<TokenStoreLock> lock(const TokenKey& key, std::chrono::milliseconds timeout,
                                                     const CancelToken& cancel) override;

  /// Every record in the directory with its key (for `oidc-token status`). Records that are
  /// unreadable, unsafe, of another version or saved under another key's name are skipped with a
  /// warning. The tokens hold secrets: callers show their expiry data, never their values.
  [[nodiscard]] std::vector<std::pair<TokenKey, Token>> list();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oidc

#endif  // OIDC_FILE_TOKEN_STORE_HPP
