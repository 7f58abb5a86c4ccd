#include "libs/eventstore/key_vault.h"

#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "libs/crypto/crypto.h"
#include "libs/testing/process.h"

namespace cowork::eventstore {
namespace {

class KeyVaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Store>> opened =
        Store::Open({.path = dir_.Sub("db"), .durable = false});
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(*opened);
    vault_ = std::make_unique<KeyVault>(*store_);
  }
  cowork::testing::TempDir dir_{"key_vault_test"};
  std::unique_ptr<Store> store_;
  std::unique_ptr<KeyVault> vault_;
};

TEST_F(KeyVaultTest, CreatedKeysAreStoredWithTheCommitAndOnePerSubject) {
  WriteSet writes;
  const std::string key = vault_->Create("op-1", "v-1", writes);
  EXPECT_EQ(key.size(), 32u);
  EXPECT_FALSE(vault_->Get("op-1", "v-1")->has_value()) << "nothing before the commit";
  ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  EXPECT_EQ(vault_->Get("op-1", "v-1")->value_or(""), key);
  EXPECT_FALSE(vault_->Get("op-2", "v-1")->has_value()) << "keys are per operator";
  EXPECT_FALSE(vault_->Get("op-1", "v-2")->has_value());
}

TEST_F(KeyVaultTest, EnsureGivesEveryConcurrentCallerTheSameKey) {
  std::vector<std::string> keys(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([this, &keys, i] { keys[i] = vault_->Ensure("op-1", "c-1").value_or(""); });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 1u);
  EXPECT_EQ(keys[0].size(), 32u);
  EXPECT_EQ(vault_->Get("op-1", "c-1")->value_or(""), keys[0]);
}

TEST_F(KeyVaultTest, ErasureMakesSealedDataUnreadableForGood) {
  const std::string key = vault_->Ensure("op-1", "c-1").value();
  const std::string sealed = crypto::Seal(key, "c-1", "Ana Lopez <ana@example.test>");
  WriteSet writes;
  vault_->Erase("op-1", "c-1", writes);
  ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  EXPECT_FALSE(vault_->Get("op-1", "c-1")->has_value());
  // A new key (Ensure after erasure) cannot open what the old one sealed.
  const std::string fresh = vault_->Ensure("op-1", "c-1").value();
  EXPECT_NE(fresh, key);
  EXPECT_FALSE(crypto::Open(fresh, "c-1", sealed).ok());
}

// A store whose keys also go to a keys topic, as a service's does.
class PublishedKeyVaultTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(const std::string& name, const std::string& wrapping_key) {
    absl::StatusOr<std::unique_ptr<Store>> opened = Store::Open({.path = dir_.Sub(name),
                                                                 .durable = false,
                                                                 .keys_topic = "cowork.test.keys",
                                                                 .key_wrapping_key = wrapping_key});
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? *std::move(opened) : nullptr;
  }
  // The outbox as the relay would send it.
  static std::vector<OutboxRow> Outbox(const Store& store) {
    return store.ReadOutbox(100).value_or(std::vector<OutboxRow>());
  }

  cowork::testing::TempDir dir_{"published_key_vault_test"};
  const std::string wrapping_key_ = crypto::NewSealKey();
};

TEST_F(PublishedKeyVaultTest, KeysGoToTheTopicWrappedAndErasureSendsATombstone) {
  std::unique_ptr<Store> store = Open("db", wrapping_key_);
  ASSERT_NE(store, nullptr);
  KeyVault vault(*store);
  const std::string key = vault.Ensure("op-1", "c-1").value();
  std::vector<OutboxRow> rows = Outbox(*store);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].topic, "cowork.test.keys");
  EXPECT_EQ(rows[0].key, "op-1/c-1");
  EXPECT_TRUE(rows[0].plain);
  EXPECT_FALSE(rows[0].tombstone);
  EXPECT_EQ(rows[0].value.find(key), std::string::npos) << "never in clear";
  EXPECT_EQ(crypto::Open(wrapping_key_, "op-1/c-1", rows[0].value).value_or(""), key);
  ASSERT_TRUE(store->RemoveFromOutbox(std::vector<uint64_t>{rows[0].position}).ok());

  WriteSet writes;
  vault.Erase("op-1", "c-1", writes);
  ASSERT_TRUE(store->Commit(std::move(writes)).ok());
  rows = Outbox(*store);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "op-1/c-1");
  EXPECT_TRUE(rows[0].tombstone);
}

TEST_F(PublishedKeyVaultTest, KeysFromBeforeTheTopicArePublishedOnce) {
  std::string old_key;
  {
    absl::StatusOr<std::unique_ptr<Store>> plain =
        Store::Open({.path = dir_.Sub("upgraded"), .durable = false});
    ASSERT_TRUE(plain.ok()) << plain.status();
    old_key = KeyVault(**plain).Ensure("op-1", "c-old").value();
    EXPECT_EQ((*plain)->OutboxDepth(), 0u) << "no keys topic yet";
  }
  std::unique_ptr<Store> store = Open("upgraded", wrapping_key_);
  ASSERT_NE(store, nullptr);
  KeyVault vault(*store);
  EXPECT_EQ(vault.PublishExisting().value_or(-1), 1);
  std::vector<OutboxRow> rows = Outbox(*store);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "op-1/c-old");
  EXPECT_EQ(crypto::Open(wrapping_key_, "op-1/c-old", rows[0].value).value_or(""), old_key);
  EXPECT_EQ(vault.PublishExisting().value_or(-1), 0) << "once";
  EXPECT_EQ(Outbox(*store).size(), 1u);
}

TEST_F(PublishedKeyVaultTest, RestoreBringsBackWhatTheRecordsSay) {
  std::unique_ptr<Store> source = Open("source", wrapping_key_);
  ASSERT_NE(source, nullptr);
  KeyVault(*source).Ensure("op-1", "c-1").value();
  const std::string wrapped = Outbox(*source).at(0).value;

  std::unique_ptr<Store> restored = Open("restored", wrapping_key_);
  ASSERT_NE(restored, nullptr);
  KeyVault vault(*restored);
  WriteSet writes;
  ASSERT_TRUE(vault.Restore("op-1/c-1", wrapped, writes).ok());
  ASSERT_TRUE(restored->Commit(std::move(writes)).ok());
  EXPECT_EQ(vault.Get("op-1", "c-1")->value_or(""),
            KeyVault(*source).Get("op-1", "c-1")->value_or("?"));
  EXPECT_TRUE(Outbox(*restored).empty()) << "a restore publishes nothing";

  WriteSet tombstone;
  ASSERT_TRUE(vault.Restore("op-1/c-1", std::nullopt, tombstone).ok());
  ASSERT_TRUE(restored->Commit(std::move(tombstone)).ok());
  EXPECT_FALSE(vault.Get("op-1", "c-1")->has_value());

  WriteSet bad;
  EXPECT_EQ(vault.Restore("op-1", wrapped, bad).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(vault.Restore("op-1/c-2", wrapped, bad).code(), absl::StatusCode::kDataLoss)
      << "sealed for another subject";
  std::unique_ptr<Store> other = Open("other", crypto::NewSealKey());
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(KeyVault(*other).Restore("op-1/c-1", wrapped, bad).code(), absl::StatusCode::kDataLoss)
      << "another wrapping key";
}

}  // namespace
}  // namespace cowork::eventstore
