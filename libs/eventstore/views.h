#ifndef COWORK_LIBS_EVENTSTORE_VIEWS_H_
#define COWORK_LIBS_EVENTSTORE_VIEWS_H_

// Reading read views (Space::kViews) the way every List and Get call does: typed reads,
// AIP-style paging (page_size, opaque page_token) and bounded scans.
//
// Thread-safe as the Store is.
//
//   ASSIGN_OR_RETURN(int size, PageSize(request.page_size()));
//   ASSIGN_OR_RETURN(PageOf<Plan> page, Paginate<Plan>(store, prefix, request.page_token(),
//                                                      size, kMaxScan, ParseView<Plan>));

#include <algorithm>
#include <span>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "libs/eventstore/store.h"
#include "libs/status/macros.h"

namespace cowork::eventstore {

inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 500;
// How many entries one List call looks at, at most: a page cut short by it carries a token to
// go on, so no call scans without bound however sparse the matches.
inline constexpr int kMaxScan = 20'000;

// 0 -> the default (50); larger than 500 -> 500; negative -> INVALID_ARGUMENT (page_size).
absl::StatusOr<int> PageSize(int requested);

// Deletes every read view under each of `prefixes` (a projection's kinds, before a rebuild).
absl::Status DeleteViews(Store& store, std::span<const absl::string_view> prefixes);

// Page tokens are the last key of the previous page, web-safe base64: opaque to callers, and
// a token of another listing (another prefix, another operator) is INVALID_ARGUMENT.
std::string EncodePageToken(absl::string_view key);
absl::StatusOr<std::string> DecodePageToken(absl::string_view token, absl::string_view prefix);

template <typename Item>
struct PageOf {
  std::vector<Item> items;
  std::string next_page_token;
};

// The view under `key`, parsed; nullopt when there is none.
template <typename Message>
absl::StatusOr<std::optional<Message>> ReadView(const eventstore::Store& store,
                                                absl::string_view key) {
  COWORK_ASSIGN_OR_RETURN(std::optional<std::string> value, store.Get(Space::kViews, key));
  if (!value.has_value()) return std::optional<Message>();
  Message m;
  if (!m.ParseFromString(*value)) {
    return absl::InternalError(absl::StrCat("view ", key, " does not parse"));
  }
  return std::optional<Message>(std::move(m));
}

// For Paginate: every entry's value parsed as a Message.
template <typename Message>
absl::StatusOr<std::optional<Message>> ParseView(absl::string_view key, absl::string_view value) {
  Message m;
  if (!m.ParseFromString(std::string(value))) {
    return absl::InternalError(absl::StrCat("view ", key, " does not parse"));
  }
  return std::optional<Message>(std::move(m));
}

// One page of the views under `prefix`: `pick(key, value)` gives an item or skips the entry.
// Stops after `max_scan` entries with a token to continue, so no call is unbounded.
template <typename Item, typename Pick>
absl::StatusOr<PageOf<Item>> Paginate(const eventstore::Store& store, absl::string_view prefix,
                                      absl::string_view page_token, int page_size, int max_scan,
                                      Pick pick) {
  COWORK_ASSIGN_OR_RETURN(const std::string start_after, DecodePageToken(page_token, prefix));
  PageOf<Item> page;
  std::string last_key;
  int scanned = 0;
  bool more = false;
  absl::Status failed;
  absl::Status scan = store.Scan(
      Space::kViews, prefix, start_after, [&](absl::string_view key, absl::string_view value) {
        absl::StatusOr<std::optional<Item>> item = pick(key, value);
        if (!item.ok()) {
          failed = item.status();
          return false;
        }
        if (item->has_value()) {
          if (static_cast<int>(page.items.size()) == page_size) {
            more = true;  // a next item exists: it starts the next page
            return false;
          }
          page.items.push_back(std::move(**item));
        }
        last_key = std::string(key);
        if (++scanned >= max_scan) {
          more = true;
          return false;
        }
        return true;
      });
  COWORK_RETURN_IF_ERROR(scan);
  COWORK_RETURN_IF_ERROR(failed);
  if (more) page.next_page_token = EncodePageToken(last_key);
  return page;
}

// Moves a page into a List response: its items into the response's repeated field `items`,
// and its next_page_token.
//
//   MovePage(std::move(page), *out.mutable_plans(), out);
template <typename Item, typename Response>
void MovePage(PageOf<Item> page, google::protobuf::RepeatedPtrField<Item>& items, Response& out) {
  for (Item& item : page.items) *items.Add() = std::move(item);
  out.set_next_page_token(std::move(page.next_page_token));
}

// The same, turning each stored item into the answer's through `convert` (e.g. opening its
// sealed fields); the first error is returned.
//
//   COWORK_RETURN_IF_ERROR(MovePage(std::move(page), *out.mutable_visitors(), out,
//                                   [&](const VisitorState& v) { return VisitorOf(vault, v); }));
template <typename Item, typename Out, typename Response, typename Convert>
absl::Status MovePage(PageOf<Item> page, google::protobuf::RepeatedPtrField<Out>& items,
                      Response& out, Convert convert) {
  for (const Item& item : page.items) {
    absl::StatusOr<Out> converted = convert(item);
    if (!converted.ok()) return converted.status();
    *items.Add() = *std::move(converted);
  }
  out.set_next_page_token(std::move(page.next_page_token));
  return absl::OkStatus();
}

}  // namespace cowork::eventstore

#endif  // COWORK_LIBS_EVENTSTORE_VIEWS_H_
