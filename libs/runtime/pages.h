#ifndef COWORK_LIBS_RUNTIME_PAGES_H_
#define COWORK_LIBS_RUNTIME_PAGES_H_

// List calls of every service: a page of read views, cut to what the caller may see.
//
// Thread-safe as the Store is.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/auth.h"
#include "libs/eventstore/store.h"
#include "libs/eventstore/views.h"

namespace cowork::runtime {

// One page of the views under `prefix`; for admins only the items at locations their token
// covers (Item has location_id()), and when `keep` is given only the items it keeps (a list's
// filters, e.g. a status).
template <typename Item>
absl::StatusOr<eventstore::PageOf<Item>> PageFor(
    const eventstore::Store& store, const auth::Principal& p, const std::string& prefix,
    const std::string& page_token, int32_t requested_size, int max_scan = eventstore::kMaxScan,
    const std::function<bool(const Item&)>& keep = nullptr) {
  absl::StatusOr<int> page_size = eventstore::PageSize(requested_size);
  if (!page_size.ok()) return page_size.status();
  return eventstore::Paginate<Item>(
      store, prefix, page_token, *page_size, max_scan,
      [&p, &keep](absl::string_view key,
                  absl::string_view value) -> absl::StatusOr<std::optional<Item>> {
        absl::StatusOr<std::optional<Item>> item = eventstore::ParseView<Item>(key, value);
        if (!item.ok()) return item.status();
        if (p.is_admin() && !p.CoversLocation((*item)->location_id())) return std::nullopt;
        if (keep && !keep(**item)) return std::nullopt;
        return item;
      });
}

}  // namespace cowork::runtime

#endif  // COWORK_LIBS_RUNTIME_PAGES_H_
