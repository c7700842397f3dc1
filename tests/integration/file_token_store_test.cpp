// FileTokenStore (include/oidc/file_token_store.hpp) on the real file system: modes under any
// umask, refusal of links and of other users' or writable files, corrupt and oversized records,
// locks across stores and processes, a writer killed mid-write, and processes racing on one
// rotating refresh token against the embedded provider (tests/support/store_racer.cpp).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "error_of.hpp"
#include "fake_clock.hpp"
#include "local_provider.hpp"
#include "racers.hpp"
#include "store_contract.hpp"
#include "oidc/client.hpp"
#include "oidc/curl_transport.hpp"
#include "oidc/file_token_store.hpp"

extern char** environ;

using namespace std::chrono_literals;
using oidc::errc;
using oidc::Error;
using oidc::FileTokenStore;
using oidc::FileTokenStoreOptions;
using oidc::Token;
using oidc::TokenKey;
using oidc_testing::error_of;
using oidc_testing::expect_same;
namespace fs = std::filesystem;

namespace {

TokenKey key_of(std::string subject = "alice") {
  return {"https://issuer.example", "https://issuer.example/token", "cli", "password", "openid profile", "",
          std::move(subject)};
}

Token token_of(std::string access, std::string refresh = "rt-1") {
  Token t;
  t.access_token = std::move(access);
  t.token_type = "Bearer";
  t.refresh_token = std::move(refresh);
  t.scope = "openid profile";
  t.received_at = Token::time_point{std::chrono::seconds{1'700'000'000}};
  t.expiry = t.received_at + 300s;
  t.refresh_expiry = t.received_at + 1800s;
  return t;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void write_file(const std::string& path, const std::string& text, mode_t mode = 0600) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

std::size_t temp_files(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.front() == '.' && name.size() > 4 && name.substr(name.size() - 4) == ".tmp") ++n;
  }
  return n;
}

class FileTokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/oidc-file-store-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root = tmpl;
    dir = root + "/tokens";
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root, ignored);
  }

  std::shared_ptr<FileTokenStore> store(std::string directory = {}) {
    FileTokenStoreOptions o;
    o.directory = directory.empty() ? dir : std::move(directory);
    o.on_warning = [this](const Error& e) { warnings.push_back(e); };
    o.max_record_size = max_record_size;
    return std::make_shared<FileTokenStore>(o);
  }
  std::string record_path(const TokenKey& k = key_of()) const { return dir + "/" + FileTokenStore::file_name(k); }

  std::string root, dir;
  std::vector<Error> warnings;
  std::size_t max_record_size = std::size_t{1} << 20;
};

// The message names the path and the reason, and never a token.
void expect_store_refusal(const Error& e, const std::string& path, const std::string& reason) {
  EXPECT_EQ(e.code(), errc::store) << e.what();
  EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(reason), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()).find("at-secret"), std::string::npos) << e.what();
}

}  // namespace

TEST_F(FileTokenStoreTest, RoundTripsListsAndRemoves) {
  const auto s = store();
  EXPECT_EQ(s->directory(), dir);
  EXPECT_FALSE(s->load(key_of()));
  s->save(key_of(), token_of("at-secret-1"));
  s->save(key_of("bob"), token_of("at-secret-2", "rt-2"));
  ASSERT_TRUE(fs::exists(record_path()));
  const auto back = s->load(key_of());
  ASSERT_TRUE(back);
  expect_same(*back, token_of("at-secret-1"));

  // A second store on the directory (another process, in effect) sees the same records.
  const auto listed = store()->list();
  ASSERT_EQ(listed.size(), 2u);
  std::set<std::string> subjects;
  for (const auto& [k, t] : listed) {
    subjects.insert(k.subject);
    expect_same(t, k.subject == "alice" ? token_of("at-secret-1") : token_of("at-secret-2", "rt-2"));
  }
  EXPECT_EQ(subjects, (std::set<std::string>{"alice", "bob"}));

  s->save(key_of(), token_of("at-secret-3"));  // replaces
  expect_same(*s->load(key_of()), token_of("at-secret-3"));
  s->remove(key_of());
  EXPECT_FALSE(s->load(key_of()));
  EXPECT_FALSE(fs::exists(record_path()));
  s->remove(key_of());  // absent is fine
  EXPECT_EQ(s->list().size(), 1u);
  EXPECT_EQ(temp_files(dir), 0u);
  EXPECT_TRUE(warnings.empty());
}

TEST_F(FileTokenStoreTest, FileNameIsTheHexSha256OfTheCanonicalKey) {
  const std::string name = FileTokenStore::file_name(key_of());
  ASSERT_EQ(name.size(), 64u + 5u);
  EXPECT_EQ(name.substr(64), ".json");
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef"), 64u);
  EXPECT_NE(name, FileTokenStore::file_name(key_of("bob")));
  TokenKey reordered = key_of();
  reordered.scope = "profile openid openid";
  EXPECT_EQ(FileTokenStore::file_name(reordered), name);
}

class FileTokenStoreUmask : public FileTokenStoreTest, public ::testing::WithParamInterface<mode_t> {};

TEST_P(FileTokenStoreUmask, DirectoriesAre0700AndFiles0600WhateverTheUmask) {
  const mode_t old = ::umask(GetParam());
  const std::string nested = root + "/a/b/tokens";
  {
    const auto s = store(nested);
    s->save(key_of(), token_of("at-secret"));
    const auto held = s->lock(key_of(), 1s, {});
    ASSERT_TRUE(held);
  }
  ::umask(old);
  EXPECT_EQ(mode_of(root + "/a"), 0700u);
  EXPECT_EQ(mode_of(root + "/a/b"), 0700u);
  EXPECT_EQ(mode_of(nested), 0700u);
  const std::string name = FileTokenStore::file_name(key_of());
  EXPECT_EQ(mode_of(nested + "/" + name), 0600u);
  EXPECT_EQ(mode_of(nested + "/" + name.substr(0, 64) + ".lock"), 0600u);
}

INSTANTIATE_TEST_SUITE_P(Umasks, FileTokenStoreUmask, ::testing::Values(mode_t{0}, mode_t{077}, mode_t{022}));

TEST_F(FileTokenStoreTest, DefaultDirectoryIsXdgStateHomeElseHome) {
  const char* old_state = std::getenv("XDG_STATE_HOME");
  const char* old_home = std::getenv("HOME");
  const std::string saved_state = old_state ? old_state : "", saved_home = old_home ? old_home : "";
  ::setenv("XDG_STATE_HOME", (root + "/state").c_str(), 1);
  ::setenv("HOME", (root + "/home").c_str(), 1);
  EXPECT_EQ(FileTokenStore::default_directory(), root + "/state/oidc/tokens");
  EXPECT_EQ(FileTokenStore().directory(), root + "/state/oidc/tokens");
  EXPECT_EQ(mode_of(root + "/state/oidc/tokens"), 0700u);
  ::setenv("XDG_STATE_HOME", "relative/state", 1);  // the XDG spec: relative paths are ignored
  EXPECT_EQ(FileTokenStore::default_directory(), root + "/home/.local/state/oidc/tokens");
  ::unsetenv("XDG_STATE_HOME");
  EXPECT_EQ(FileTokenStore::default_directory(), root + "/home/.local/state/oidc/tokens");
  if (old_state) ::setenv("XDG_STATE_HOME", saved_state.c_str(), 1);
  if (old_home) ::setenv("HOME", saved_home.c_str(), 1);
}

TEST_F(FileTokenStoreTest, SymlinkedRecordIsRefused) {
  const auto s = store();
  const std::string elsewhere = root + "/elsewhere.json";
  write_file(elsewhere, oidc::serialize_stored_token(key_of(), token_of("at-secret")));
  ASSERT_EQ(::symlink(elsewhere.c_str(), record_path().c_str()), 0);
  expect_store_refusal(error_of([&] { (void)s->load(key_of()); }), record_path(), "symbolic link");
  // Saving replaces the link itself, never its target.
  s->save(key_of(), token_of("at-secret-new"));
  EXPECT_FALSE(fs::is_symlink(record_path()));
  EXPECT_EQ(mode_of(elsewhere), 0600u);
  std::ifstream in(elsewhere);
  EXPECT_NE(std::string(std::istreambuf_iterator<char>(in), {}).find("\"at-secret\""), std::string::npos);
}

TEST_F(FileTokenStoreTest, SymlinkedDirectoryIsRefused) {
  const std::string real = root + "/real";
  ASSERT_EQ(::mkdir(real.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(real.c_str(), dir.c_str()), 0);
  expect_store_refusal(error_of([&] { (void)store(); }), dir, "symbolic link");
}

TEST_F(FileTokenStoreTest, GroupOrOtherWritableDirectoryIsRefused) {
  ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0770), 0);
  expect_store_refusal(error_of([&] { (void)store(); }), dir, "writable by group or others");
  ASSERT_EQ(::chmod(dir.c_str(), 0703), 0);
  expect_store_refusal(error_of([&] { (void)store(); }), dir, "writable by group or others");
  ASSERT_EQ(::chmod(dir.c_str(), 0755), 0);  // readable is fine: the records are 0600
  EXPECT_NO_THROW((void)store());
}

TEST_F(FileTokenStoreTest, RecordAccessibleByOthersIsRefused) {
  const auto s = store();
  s->save(key_of(), token_of("at-secret"));
  ASSERT_EQ(::chmod(record_path().c_str(), 0640), 0);
  expect_store_refusal(error_of([&] { (void)s->load(key_of()); }), record_path(), "accessible by group or others");
  ASSERT_EQ(::chmod(record_path().c_str(), 0602), 0);
  expect_store_refusal(error_of([&] { (void)s->load(key_of()); }), record_path(), "accessible by group or others");
  // list() skips it with the refusal as a warning, and still lists the others.
  s->save(key_of("bob"), token_of("at-secret-2"));
  const auto listed = s->list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].first.subject, "bob");
  ASSERT_EQ(warnings.size(), 1u);
  expect_store_refusal(warnings[0], record_path(), "accessible by group or others");
}

TEST_F(FileTokenStoreTest, FilesOwnedByAnotherUserAreRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown a file to another user";
  const auto s = store();
  s->save(key_of(), token_of("at-secret"));
  ASSERT_EQ(::chown(record_path().c_str(), 65534, 65534), 0);  // nobody
  expect_store_refusal(error_of([&] { (void)s->load(key_of()); }), record_path(), "owned by another user");

  ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
  expect_store_refusal(error_of([&] { (void)store(); }), dir, "owned by another user");
}

TEST_F(FileTokenStoreTest, NonRegularRecordIsRefusedWithoutBlocking) {
  const auto s = store();
  ASSERT_EQ(::mkfifo(record_path().c_str(), 0600), 0);  // an open for reading would block forever
  expect_store_refusal(error_of([&] { (void)s->load(key_of()); }), record_path(), "not a regular file");
}

TEST_F(FileTokenStoreTest, EmptyAndCorruptRecordsAreAbsentWithAWarning) {
  const auto s = store();
  const std::vector<std::string> bad = {"", "  \n", "{\"format\":\"oidc-token\",\"vers", "[1,2]", "\xff\xfe garbage",
                                        "{\"format\":\"oidc-token\",\"version\":1,\"key\":" +
                                            oidc::token_key_to_json(key_of()).dump() + "}"};
  for (const auto& text : bad) {
    warnings.clear();
    write_file(record_path(), text);
    EXPECT_FALSE(s->load(key_of())) << text;
    ASSERT_EQ(warnings.size(), 1u) << text;
    EXPECT_EQ(warnings[0].code(), errc::parse);
    EXPECT_NE(std::string(warnings[0].what()).find(record_path()), std::string::npos) << warnings[0].what();
  }
  // A corrupt record is replaced by the next save.
  s->save(key_of(), token_of("at-secret"));
  EXPECT_TRUE(s->load(key_of()));
}

TEST_F(FileTokenStoreTest, OversizedRecordIsNotReadIntoMemory) {
  const auto s = store();
  // A sparse 8 GiB file: reading it whole would exhaust memory; the store stops after its cap.
  {
    const int fd = ::open(record_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::ftruncate(fd, off_t{8} << 30), 0);
    ::close(fd);
  }
  const auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(s->load(key_of()));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(std::string(warnings[0].what()).find("larger than 1048576 bytes"), std::string::npos) << warnings[0].what();

  // Just under the cap is read; just over is not.
  warnings.clear();
  const std::string record = oidc::serialize_stored_token(key_of(), token_of("at-secret"));
  max_record_size = record.size();
  write_file(record_path(), record);
  EXPECT_TRUE(store()->load(key_of()));
  max_record_size = record.size() - 1;
  EXPECT_FALSE(store()->load(key_of()));
  EXPECT_EQ(warnings.size(), 1u);
}

TEST_F(FileTokenStoreTest, RecordOfAnotherVersionOrKeyIsAMismatch) {
  const auto s = store();
  auto j = nlohmann::json::parse(oidc::serialize_stored_token(key_of(), token_of("at-secret")));
  j["version"] = 2;
  write_file(record_path(), j.dump());
  EXPECT_EQ(error_of([&] { (void)s->load(key_of()); }).code(), errc::store_mismatch);

  // Bob's record under Alice's name (a copied file, a hash collision): never served to Alice.
  write_file(record_path(), oidc::serialize_stored_token(key_of("bob"), token_of("at-secret")));
  const Error e = error_of([&] { (void)s->load(key_of()); });
  EXPECT_EQ(e.code(), errc::store_mismatch);
  EXPECT_NE(std::string(e.what()).find("bound to another subject"), std::string::npos) << e.what();
  EXPECT_EQ(std::string(e.what()).find("at-secret"), std::string::npos);
  EXPECT_EQ(std::string(e.what()).find("bob"), std::string::npos) << "key values stay out of messages";
  // list() skips it with a warning rather than report it as Bob's or Alice's.
  EXPECT_TRUE(s->list().empty());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].code(), errc::store_mismatch);
  EXPECT_TRUE(warnings.empty() || std::string(warnings[0].what()).find("at-secret") == std::string::npos);
}

TEST_F(FileTokenStoreTest, LockIsExclusiveAcrossTwoStoresOfOneProcess) {
  const auto a = store();
  const auto b = store();
  auto held = a->lock(key_of(), 1s, {});
  const auto started = std::chrono::steady_clock::now();
  const Error e = error_of([&] { (void)b->lock(key_of(), 100ms, {}); });
  EXPECT_EQ(e.code(), errc::store);
  EXPECT_NE(std::string(e.what()).find("longer than 100 ms"), std::string::npos) << e.what();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 100ms);
  // The same store twice (two sources sharing it) excludes too: each lock is its own open file.
  EXPECT_EQ(error_of([&] { (void)a->lock(key_of(), 10ms, {}); }).code(), errc::store);
  // Another key is independent.
  EXPECT_TRUE(b->lock(key_of("bob"), 10ms, {}));
  // Saving and removing the record while the lock is held does not break the lock (separate file).
  a->save(key_of(), token_of("at-secret"));
  a->remove(key_of());
  EXPECT_EQ(error_of([&] { (void)b->lock(key_of(), 10ms, {}); }).code(), errc::store);
  held.reset();
  EXPECT_TRUE(b->lock(key_of(), 10ms, {}));
}

TEST_F(FileTokenStoreTest, WaitingForTheLockEndsWhenTheHolderReleases) {
  oidc_testing::expect_waiter_gets_the_lock_on_release(*store(), *store(), key_of());
}

TEST_F(FileTokenStoreTest, WaitingForTheLockHonoursCancel) {
  oidc_testing::expect_lock_wait_honours_cancel(*store(), *store(), key_of());
}

TEST_F(FileTokenStoreTest, LockIsExclusiveAcrossProcesses) {
  const auto s = store();
  int to_parent[2], to_child[2];
  ASSERT_EQ(::pipe(to_parent), 0);
  ASSERT_EQ(::pipe(to_child), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int rc = 1;
    try {
      auto held = store()->lock(key_of(), 1s, {});
      char c = 'L';
      if (::write(to_parent[1], &c, 1) == 1 && ::read(to_child[0], &c, 1) >= 0) rc = 0;  // hold until told
    } catch (...) {
    }
    ::_exit(rc);
  }
  char c = 0;
  ASSERT_EQ(::read(to_parent[0], &c, 1), 1);
  EXPECT_EQ(error_of([&] { (void)s->lock(key_of(), 50ms, {}); }).code(), errc::store);
  ASSERT_EQ(::write(to_child[1], &c, 1), 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_TRUE(s->lock(key_of(), 1s, {}));
  for (int fd : {to_parent[0], to_parent[1], to_child[0], to_child[1]}) ::close(fd);
}

// A child saves large records in a tight loop and is SIGKILLed at random points while it writes;
// every load afterwards gives a whole record, old or new, with no warning.
TEST_F(FileTokenStoreTest, WriterKilledMidWriteLeavesAWholeRecord) {
  const auto s = store();
  const std::string pad(400 * 1024, 'x');  // ~400 KiB records: a write takes a while
  const auto record = [&](int n) {
    Token t = token_of("at-secret-" + std::to_string(n));
    t.extra = {{"n", n}, {"pad", pad}};
    return t;
  };
  // How long one save takes here (serialising, writing, two fsyncs): the kills are spread over
  // two of them, so they land in every phase of a save, including while the temporary file is open.
  const auto before = std::chrono::steady_clock::now();
  s->save(key_of(), record(0));
  const auto period = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - before);
  std::mt19937 random(12345);
  // At least 50 kills, and more (up to 500) until one has landed while a temporary file was open:
  // where serialising the record dominates a save (ASan at -O0), a random point falls in the
  // write-to-rename window rarely enough that 50 could all miss it (seen once in CI).
  constexpr int kKills = 50;
  constexpr int kMaxKills = 500;
  int kills = 0;
  for (int i = 0; i < kKills || (i < kMaxKills && temp_files(dir) == 0); ++i) {
    ++kills;
    int started[2];
    ASSERT_EQ(::pipe(started), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(started[0]);
      try {
        FileTokenStoreOptions o;
        o.directory = dir;
        FileTokenStore mine(o);
        for (int n = 1;; ++n) {
          mine.save(key_of(), record(n));
          if (n == 1) {  // the first record is down: the parent may kill from now on
            char c = 'W';
            if (::write(started[1], &c, 1) != 1) ::_exit(1);
          }
        }
      } catch (...) {
      }
      ::_exit(1);
    }
    ::close(started[1]);
    char c = 0;
    ASSERT_EQ(::read(started[0], &c, 1), 1);
    ::close(started[0]);
    // Kill after a random time within two saves; a spin, not a sleep: it only picks the point.
    const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(random() % (2 * period.count() + 1));
    while (std::chrono::steady_clock::now() < until) {
    }
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended on its own (status " << status << ")";

    const auto loaded = s->load(key_of());
    ASSERT_TRUE(loaded) << "iteration " << i;
    const int n = loaded->extra.at("n").get<int>();
    EXPECT_EQ(loaded->access_token.expose(), "at-secret-" + std::to_string(n));
    EXPECT_EQ(loaded->extra.at("pad").get<std::string>().size(), pad.size());
    ASSERT_TRUE(warnings.empty()) << warnings[0].what();
  }
  // Each killed writer left at most one temporary file; some were killed while writing one (else
  // this test never hit the window it is about).
  const std::size_t left = temp_files(dir);
  EXPECT_LE(left, static_cast<std::size_t>(kills));
  EXPECT_GT(left, 0u) << "no kill of " << kills << " landed while a temporary file was open";
  // Once they are older than a minute, the next save removes them.
  const struct timespec old[2] = {{std::time(nullptr) - 120, 0}, {std::time(nullptr) - 120, 0}};
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.front() == '.') {
      ASSERT_EQ(::utimensat(AT_FDCWD, e.path().c_str(), old, AT_SYMLINK_NOFOLLOW), 0);
    }
  }
  s->save(key_of(), record(-1));
  EXPECT_EQ(temp_files(dir), 0u);
  EXPECT_EQ(s->load(key_of())->extra.at("n").get<int>(), -1);
}

// ---- Processes racing on one rotating refresh token (each refresh token is single use: a second
// redemption is invalid_grant). N store_racer processes share the store; in each round all of them
// drop their token and ask for one at once. The store's lock and re-read make it one refresh.
namespace {

using oidc_testing::save_device_login;
using oidc_testing::SavedLogin;


}  // namespace

TEST_F(FileTokenStoreTest, ProcessesRacingOnOneRefreshTokenRedeemItOncePerRound) {
  oidc_testing::LocalProvider provider;
  const SavedLogin racer_login = save_device_login(provider, *store(), "racer");
  const Token& login = racer_login.token;
  const TokenKey& key = racer_login.key;
  ASSERT_TRUE(login.has_refresh_token());
  const std::string client_id(oidc_testing::LocalProvider::kDeviceClientId);

  constexpr int kRacers = 4;
  constexpr int kRounds = 6;
  const auto bound = [] { return std::chrono::steady_clock::now() + 60s; };  // a hung racer fails, not hangs
  oidc_testing::RacerFleet racers(kRacers, {OIDC_STORE_RACER, provider.token_endpoint(), client_id, dir});
  std::string seen;
  ASSERT_TRUE(racers.ready(bound(), &seen)) << seen;

  std::set<std::string> seen_refresh_tokens;
  for (int round = 1; round <= kRounds; ++round) {
    std::set<std::string> answers;
    for (const auto& r : racers.round(bound())) {  // all at once: each byte releases one racer
      EXPECT_FALSE(r.answer.empty()) << "round " << round << ": a racer did not answer";
      EXPECT_NE(r.answer.rfind("error", 0), 0u) << "round " << round << ": " << r.answer;
      EXPECT_TRUE(r.warnings.empty()) << "round " << round << ": " << r.warnings.front();
      answers.insert(r.answer);
    }
    EXPECT_EQ(answers.size(), 1u) << "round " << round << ": the racers ended with different tokens";
    const auto refreshes = provider.requests(oidc_testing::LocalProvider::token_path());
    ASSERT_EQ(refreshes.size(), static_cast<std::size_t>(round)) << "round " << round;
    EXPECT_EQ(refreshes.back().form_value("grant_type"), std::optional<std::string>("refresh_token"));
    // Each refresh redeems the previous one's refresh token: never one twice (invalid_grant).
    EXPECT_TRUE(seen_refresh_tokens.insert(refreshes.back().form_value("refresh_token").value_or("")).second);
  }
  EXPECT_EQ(racers.finish(bound()), 0) << "racers that did not exit cleanly";
  EXPECT_TRUE(provider.rejections().empty());
  // The store holds the last round's token, with the newest refresh token.
  const auto saved = store()->load(key);
  ASSERT_TRUE(saved);
  EXPECT_FALSE(saved->access_token.equals(login.access_token.expose()));
}

// Two sources of one process, each on its own FileTokenStore of one directory (two libraries or
// two tools in one process): the second picks up the first one's renewal from the file.
TEST_F(FileTokenStoreTest, SourcesOnTwoStoresShareOneRenewal) {
  oidc_testing::LocalProvider provider;
  const SavedLogin saved = save_device_login(provider, *store(), "two-stores");
  const oidc::Client& client = saved.client;
  const Token& login = saved.token;
  const TokenKey& key = saved.key;

  oidc::TokenSourceOptions a, b;
  a.store = store();
  b.store = store();
  a.store_key = b.store_key = key;
  const auto first = client.stored_token_source(a);
  const auto second = client.stored_token_source(b);
  EXPECT_TRUE(first->token()->access_token.equals(login.access_token.expose()));
  first->invalidate();
  const auto renewed = first->token();
  EXPECT_FALSE(renewed->access_token.equals(login.access_token.expose()));
  EXPECT_EQ(provider.request_count(oidc_testing::LocalProvider::token_path()), 1u);
  second->invalidate();  // it still held the login's token
  EXPECT_TRUE(second->token()->access_token.equals(renewed->access_token.expose()));
  EXPECT_EQ(provider.request_count(oidc_testing::LocalProvider::token_path()), 1u) << "the file was re-read";
  EXPECT_TRUE(warnings.empty());
  EXPECT_TRUE(provider.rejections().empty());
}
