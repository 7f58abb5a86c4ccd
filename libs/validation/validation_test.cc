#include "libs/validation/validation.h"

#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cowork::validation {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename Check>
std::vector<FieldViolation> Violations(Check check) {
  FieldErrors errors;
  check(errors);
  return errors.violations();
}

TEST(TimeZone, IanaNamesOnly) {
  auto tz = [](absl::string_view v) {
    return Violations([&](FieldErrors& e) { CheckTimeZone(v, "time_zone", e); });
  };
  EXPECT_THAT(tz("Europe/Madrid"), IsEmpty());
  EXPECT_THAT(tz("America/Argentina/Buenos_Aires"), IsEmpty());
  EXPECT_THAT(tz("UTC"), IsEmpty());
  for (absl::string_view bad : {"", "Mars/Olympus", "localtime", "Fixed/UTC+01:00",
                                "../../../etc/passwd", "/etc/localtime", "Europe/../UTC",
                                "Europe/Madrid\n"}) {
    EXPECT_THAT(tz(bad), testing::SizeIs(1)) << bad;
  }
}

// The resident memory of this process, in KiB.
long ResidentKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

TEST(TimeZone, NamesTzdataLacksAreRefusedWithoutBeingLoaded) {
  // Abseil keeps every name it is asked to load, found or not (200,000 unknown names cost
  // about 20 MiB when loaded). A flood of made-up names must cost nothing that stays.
  EXPECT_TRUE(InTzdata("Europe/Madrid"));
  EXPECT_FALSE(InTzdata("Europe/Atlantis"));
  EXPECT_FALSE(InTzdata("Europe"));  // a directory, not a zone
  const long before = ResidentKib();
  for (int i = 0; i < 200'000; ++i) {
    FieldErrors errors;
    CheckTimeZone(absl::StrCat("Nowhere/Zone", i), "time_zone", errors);
    ASSERT_FALSE(errors.empty());
  }
  EXPECT_LT(ResidentKib() - before, 4 * 1024);
}

TEST(Currency, ActiveIso4217Codes) {
  EXPECT_TRUE(IsActiveCurrency("EUR"));
  EXPECT_TRUE(IsActiveCurrency("USD"));
  EXPECT_TRUE(IsActiveCurrency("JPY"));
  EXPECT_FALSE(IsActiveCurrency("eur"));
  EXPECT_FALSE(IsActiveCurrency("XXX"));
  EXPECT_FALSE(IsActiveCurrency("DEM"));  // withdrawn
  EXPECT_FALSE(IsActiveCurrency(""));
}

TEST(Ids, SafeCharactersOnly) {
  EXPECT_TRUE(IsValidId("loc-1"));
  EXPECT_TRUE(IsValidId("c-abc_DEF.9"));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("a/b"));
  EXPECT_FALSE(IsValidId(".hidden"));
  EXPECT_FALSE(IsValidId("a b"));
  EXPECT_FALSE(IsValidId(std::string(65, 'a')));
}

TEST(RequestId, PrintableAndBounded) {
  auto rid = [](absl::string_view v) {
    return Violations([&](FieldErrors& e) { CheckRequestId(v, e); });
  };
  EXPECT_THAT(rid(""), IsEmpty());
  EXPECT_THAT(rid("3f1c0e4e-5b7a-4c1e-9a55-0d7f1f0a2b11"), IsEmpty());
  EXPECT_THAT(rid(std::string(129, 'a')), testing::SizeIs(1));
  EXPECT_THAT(rid("abc\n"), testing::SizeIs(1));
}

TEST(Labels, BoundedAndNoControlCharacters) {
  auto label = [](absl::string_view v) {
    return Violations([&](FieldErrors& e) { CheckLabel(v, "name", 100, e); });
  };
  EXPECT_THAT(label("Acme & Co. (3M) 株式会社"), IsEmpty());
  EXPECT_THAT(label(""), ElementsAre(FieldViolation{"name", "is required"}));
  EXPECT_THAT(label("a\x07"), testing::SizeIs(1));
  EXPECT_THAT(label(std::string(101, 'a')), testing::SizeIs(1));
  EXPECT_THAT(label("\xFF"), testing::SizeIs(1));
}

TEST(Texts, LineBreaksAllowedOtherControlsNot) {
  auto text = [](absl::string_view v) {
    return Violations([&](FieldErrors& e) { CheckText(v, "message", 20, e); });
  };
  EXPECT_THAT(text("Hello,\r\n\tthe printer\nis jammed"), testing::SizeIs(1));  // 33 > 20
  EXPECT_THAT(text("Hi,\n\tthanks!"), IsEmpty());
  EXPECT_THAT(text(" \n\t "), ElementsAre(FieldViolation{"message", "is required"}));
  EXPECT_THAT(text("a\x07"), testing::SizeIs(1));
  EXPECT_THAT(text("a\xE2\x80\xAE"), testing::SizeIs(1));  // a bidi override
  EXPECT_THAT(text("\xFF"), testing::SizeIs(1));
  EXPECT_THAT(text(std::string(20, 'a') + "\n\n"), IsEmpty());  // trimmed first
  EXPECT_EQ(TrimText("\n  hi there \r\n"), "hi there");
}

}  // namespace
}  // namespace cowork::validation
