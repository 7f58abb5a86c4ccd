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
  KeyVault::Erase("op-1", "c-1", writes);
  ASSERT_TRUE(store_->Commit(std::move(writes)).ok());
  EXPECT_FALSE(vault_->Get("op-1", "c-1")->has_value());
  // A new key (Ensure after erasure) cannot open what the old one sealed.
  const std::string fresh = vault_->Ensure("op-1", "c-1").value();
  EXPECT_NE(fresh, key);
  EXPECT_FALSE(crypto::Open(fresh, "c-1", sealed).ok());
}

}  // namespace
}  // namespace cowork::eventstore
