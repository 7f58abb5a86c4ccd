#include "libs/eventstore/views.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "libs/status/field_errors.h"

namespace cowork::eventstore {

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0) return InvalidField("page_size", "must not be negative");
  if (requested == 0) return kDefaultPageSize;
  return std::min(requested, kMaxPageSize);
}

absl::Status DeleteViews(Store& store, std::span<const absl::string_view> prefixes) {
  for (absl::string_view prefix : prefixes) {
    if (absl::Status s = store.DeletePrefix(Space::kViews, prefix); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string EncodePageToken(absl::string_view key) { return absl::WebSafeBase64Escape(key); }

absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view prefix) {
  if (token.empty()) return std::string();
  std::string key;
  if (token.size() > 1024 || !absl::WebSafeBase64Unescape(token, &key) ||
      !absl::StartsWith(key, prefix)) {
    return InvalidField("page_token", "is not a page token of this listing");
  }
  return key;
}

}  // namespace cowork::eventstore
